/**
 * (B) b2 requires b1, while b3 runs beside them:
 * b1 runs 0 → 100 ms, b2 100 → 300 ms, b3 0 → 250 ms.
 */
import { Job, Scheduler } from "asyncjobs";
import { inOut, say } from "./helpers.js";

const b1 = new Job(inOut(100, "b1"), { label: "b1" });
const b2 = new Job(inOut(200, "b2"), { label: "b2", required: b1 });
const b3 = new Job(inOut(250, "b3"), { label: "b3" });

const scheduler = new Scheduler(b1, b2, b3);
say(`run() -> ${await scheduler.run()}`);
scheduler.list();
