/**
 * (I) Beyond the original: a flaky download retried with backoff, a
 * non-critical check that fails, an alert that runs only because it failed,
 * and a report that is skipped because not everything succeeded.
 */
import { Job, Scheduler } from "asyncjobs";
import { say } from "./helpers.js";

let tries = 0;
const download = new Job(
  ({ attempt }) => {
    tries++;
    say(`download, attempt ${attempt}`);
    if (tries < 3) throw new Error("connection reset");
    return "1.2 MB";
  },
  { label: "download", retry: { retries: 4, delay: 50, factor: 2 } },
);

const check = new Job(
  () => {
    throw new Error("checksum mismatch");
  },
  { label: "check", critical: false, required: download },
);

const alert = new Job(() => say("alert: something failed, paging the on-call"), {
  label: "alert",
  required: [download, check],
  trigger: "oneFailed",
});

const report = new Job(() => say("report: all good"), {
  label: "report",
  required: [download, check],
  trigger: "allSuccess",
});

const scheduler = new Scheduler(download, check, alert, report);
say(`run() -> ${await scheduler.run()}`);
say(`download: ${download.result()} after ${download.attempts()} attempts`);
say(`report skipped: ${report.isSkipped()}`);
scheduler.list();
