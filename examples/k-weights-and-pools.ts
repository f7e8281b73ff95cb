/**
 * (K) Weights and pools: a window of 4 slots where a heavy build takes 3,
 * and a "db" pool of 2 shared with a nested scheduler, so that no more than
 * two jobs touch the database at once.
 */
import { Job, Scheduler, sleep } from "asyncjobs";
import { say } from "./helpers.js";

function work(label: string, ms: number, options: { weight?: number; pool?: string } = {}) {
  return new Job(
    async ({ signal }) => {
      say(`-> ${label}`);
      await sleep(ms, signal);
      say(`<- ${label}`);
    },
    { label, ...options },
  );
}

const migrations = new Scheduler(
  work("migrate users", 100, { pool: "db" }),
  work("migrate orders", 100, { pool: "db" }),
  { label: "migrations" },
);

const scheduler = new Scheduler(
  work("heavy build", 150, { weight: 3 }),
  work("lint", 50),
  work("backup", 100, { pool: "db" }),
  work("vacuum", 100, { pool: "db" }),
  migrations,
  { jobsWindow: 4, pools: { db: 2 } },
);

let dbJobs = 0;
let mostDbJobs = 0;
scheduler.events.addEventListener("job:started", ({ job }) => {
  if (job.pool === "db") mostDbJobs = Math.max(mostDbJobs, ++dbJobs);
});
scheduler.events.addEventListener("job:done", ({ job }) => {
  if (job.pool === "db") dbJobs--;
});

say(`run() -> ${await scheduler.run()}`);
say(`at most ${mostDbJobs} jobs used the db pool at once`);
