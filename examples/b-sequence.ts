/**
 * (B') The same as (B), written with a Sequence: each job of a sequence
 * requires the one before it.
 */
import { Job, Scheduler, Sequence } from "asyncjobs";
import { inOut, say } from "./helpers.js";

const scheduler = new Scheduler(
  new Sequence(
    new Job(inOut(100, "b1"), { label: "b1" }),
    new Job(inOut(200, "b2"), { label: "b2" }),
  ),
  new Job(inOut(250, "b3"), { label: "b3" }),
);
say(`run() -> ${await scheduler.run()}`);
scheduler.list();
