/**
 * (G) Eight jobs of 500 ms under jobsWindow: 4 run four at a time and take
 * about 1 s in all.
 */
import { Job, Scheduler } from "asyncjobs";
import { inOut, say, watch } from "./helpers.js";

const jobs = Array.from(
  { length: 8 },
  (_, index) => new Job(inOut(500, `g${index + 1}`), { label: `g${index + 1}` }),
);
const scheduler = new Scheduler(...jobs, { jobsWindow: 4 });

let running = 0;
let mostAtOnce = 0;
scheduler.events.addEventListener("job:started", () => {
  running++;
  mostAtOnce = Math.max(mostAtOnce, running);
});
scheduler.events.addEventListener("job:done", () => {
  running--;
});

say(`run() -> ${await scheduler.run()}`);
say(`at most ${mostAtOnce} jobs ran at once; total ${watch.seconds().toFixed(1)} s`);
