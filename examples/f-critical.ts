/**
 * (F) The same sequence with boom critical: the run stops at boom, end never
 * starts, and the (non-critical) scheduler resolves false.
 */
import { Job, Scheduler, Sequence, sleep } from "asyncjobs";
import { inOut, say } from "./helpers.js";

const boom = new Job(
  async ({ signal }) => {
    say("-> boom");
    await sleep(200, signal);
    throw new Error("boom");
  },
  { label: "boom", critical: true },
);
const end = new Job(inOut(100, "end"), { label: "end" });

const scheduler = new Scheduler(
  new Sequence(new Job(inOut(100, "begin"), { label: "begin" }), boom, end),
  { critical: false },
);
say(`run() -> ${await scheduler.run()}: ${scheduler.why()}`);
say(`end started: ${end.isRunning()}`);
scheduler.list();
