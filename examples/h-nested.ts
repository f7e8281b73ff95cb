/**
 * (H) A critical nested scheduler with a diamond inside (subj1 → subj2 and
 * subj3 → subj4), placed in a sequence between two jobs: runs main-start,
 * subj1, subj2 and subj3 together, subj4, then main-end.
 */
import { Job, Scheduler, Sequence } from "asyncjobs";
import { inOut, say } from "./helpers.js";

const step = (name: string, ms = 100) => new Job(inOut(ms, name), { label: name });

const subj1 = step("subj1");
const subj2 = step("subj2");
const subj3 = step("subj3");
const subj4 = step("subj4");
subj2.requires(subj1);
subj3.requires(subj1);
subj4.requires(subj2, subj3);

const nested = new Scheduler(subj1, subj2, subj3, subj4, { label: "nested", critical: true });
const main = new Scheduler(new Sequence(step("main-start"), nested, step("main-end")));

say(`run() -> ${await main.run()}`);
main.list();
