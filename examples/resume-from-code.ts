/**
 * A run journal from code: the first run fails at "report", the second
 * resumes and runs only "report", with "fetch"'s recorded result.
 * docs/journal.md shows this script and what it prints.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileJournal } from "@asyncjobs/node";
import { Job, PureScheduler } from "asyncjobs";

const folder = mkdtempSync(join(tmpdir(), "asyncjobs-resume-"));
let reportWorks = false;

function pipeline(): PureScheduler {
  const fetch = new Job(
    () => {
      console.log("  fetch runs");
      return { rows: 42 };
    },
    { label: "fetch" },
  );
  const report = new Job(
    ({ results }) => {
      console.log("  report runs");
      if (!reportWorks) throw new Error("the printer is out of paper");
      return `${results(fetch).rows} rows`;
    },
    { label: "report", required: fetch },
  );
  return new PureScheduler(fetch, report);
}

const journal = new FileJournal(folder); // a folder, one file per run
console.log("first run:");
console.log("  ->", await pipeline().run({ journal }));
reportWorks = true;
console.log("second run, resumed:");
const second = pipeline();
console.log("  ->", await second.run({ journal, resume: true }));
for (const job of second.jobs) {
  console.log(`  ${job.label}: ${JSON.stringify(job.result())}, resumed: ${job.isResumed()}`);
}
console.log(
  journal
    .runs()
    .map((run) => `${run.outcome}: ${JSON.stringify(run.counts)}`)
    .join("\n"),
);
rmSync(folder, { recursive: true, force: true });
