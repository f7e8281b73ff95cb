/**
 * The demo: a small release pipeline that shows the scheduler at work.
 *
 * - three downloads share a window of 2 (the third waits for a slot);
 * - a nested scheduler builds: compile, then unit tests and lint side by side;
 * - a non-critical "notify chat" job fails without stopping anything;
 * - "publish" waits for the build and the docs.
 *
 * Run it with `npm run demo:api` (`npm run demo` runs a workflow file
 * through the command line).
 */
import { Job, Scheduler, Sequence, sleep, Watch } from "asyncjobs";

const watch = new Watch();

/** A job that pretends to work for `ms` milliseconds and returns `result`. */
function step<T>(label: string, ms: number, result: T) {
  return new Job(
    async ({ signal }) => {
      await sleep(ms, signal);
      return result;
    },
    { label },
  );
}

const downloads = new Scheduler(
  step("download sources", 300, "412 files"),
  step("download assets", 200, "37 images"),
  step("download fixtures", 150, "12 fixtures"),
  { jobsWindow: 2, label: "downloads" },
);

const compile = step("compile", 250, "ok");
const build = new Scheduler(
  compile,
  step("unit tests", 300, "128 passed").requires(compile),
  step("lint", 100, "clean").requires(compile),
  { label: "build" },
);

const docs = step("render docs", 200, "24 pages");
const notify = new Job(
  async () => {
    throw new Error("chat service unreachable");
  },
  { label: "notify chat", critical: false },
);
const publish = step("publish", 100, "v1.2.3");
publish.requires(build, docs);
notify.requires(publish);

const pipeline = new Scheduler(new Sequence(downloads, build), docs, publish, notify, {
  verbose: true,
  watch,
  label: "release",
});

console.log("The pipeline, before it runs:");
pipeline.list();
console.log("\nRunning it (each line: seconds since start, event, job):");
const ok = await pipeline.run();
console.log(`\nrun() resolved ${ok} after ${watch.elapsed()} s; why(): ${pipeline.why()}`);
console.log(`publish returned ${JSON.stringify(publish.result())}`);
console.log("\nThe pipeline, after the run:");
pipeline.list();
