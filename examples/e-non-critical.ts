/**
 * (E) A sequence begin → boom → end where boom is not critical and throws
 * after 200 ms: end still runs, and the run resolves true.
 */
import { Job, Scheduler, Sequence, sleep } from "asyncjobs";
import { inOut, say } from "./helpers.js";

const boom = new Job(
  async ({ signal }) => {
    say("-> boom");
    await sleep(200, signal);
    throw new Error("boom");
  },
  { label: "boom", critical: false },
);

const scheduler = new Scheduler(
  new Sequence(
    new Job(inOut(100, "begin"), { label: "begin" }),
    boom,
    new Job(inOut(100, "end"), { label: "end" }),
  ),
);
say(`run() -> ${await scheduler.run()}`);
say(`boom raised: ${String(boom.raisedException())}`);
scheduler.list();
