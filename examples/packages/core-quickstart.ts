/**
 * The first example of the core package's README: two jobs, one requiring
 * the other, in a window of 4 with a 5 s timeout.
 */
import { Job, Scheduler, sleep } from "asyncjobs";

const fetchData = new Job(
  async ({ signal }) => {
    await sleep(100, signal);
    return 42;
  },
  { label: "fetch" },
);
const report = new Job(async () => `answer: ${fetchData.result()}`, {
  label: "report",
  required: fetchData,
});

const scheduler = new Scheduler(fetchData, report, { jobsWindow: 4, timeout: 5_000 });
console.log(await scheduler.run()); // true
scheduler.list();
