/**
 * (D) A forever job ticks every 100 ms under a 250 ms timeout: a
 * non-critical scheduler resolves false after about 250 ms; a critical one
 * (the default) rejects with TimeoutError.
 */
import { Job, Scheduler, sleep, TimeoutError } from "asyncjobs";
import { say } from "./helpers.js";

function ticker() {
  return new Job(
    async ({ signal }) => {
      for (let tick = 1; ; tick++) {
        await sleep(100, signal);
        say(`tick ${tick}`);
      }
    },
    { label: "ticker", forever: true },
  );
}

const relaxed = new Scheduler(ticker(), { timeout: 250, critical: false });
say(`non-critical run() -> ${await relaxed.run()}: ${relaxed.why()}`);

const strict = new Scheduler(ticker(), { timeout: 250 });
try {
  await strict.run();
} catch (error) {
  say(`critical run() rejected with TimeoutError: ${error instanceof TimeoutError}`);
}
say(`why(): ${strict.why()}`);
