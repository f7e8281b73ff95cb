/**
 * (A) Three independent jobs run in parallel: all start at once and end
 * after 100, 200 and 250 ms; each result is readable afterwards.
 */
import { Job, Scheduler } from "asyncjobs";
import { inOut, say } from "./helpers.js";

const a1 = new Job(inOut(100), { label: "a1" });
const a2 = new Job(inOut(200), { label: "a2" });
const a3 = new Job(inOut(250), { label: "a3" });

const scheduler = new Scheduler(a1, a2, a3);
const ok = await scheduler.run();

say(`run() -> ${ok}`);
say(`results: ${a1.result()} ${a2.result()} ${a3.result()}`);
scheduler.list();
