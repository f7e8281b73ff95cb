import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AbstractJob, Job, PrintJob, PureScheduler, Scheduler, Sequence } from "asyncjobs";
import { captureOutput, gatedJob, quickJob } from "./support.js";

describe("Job", () => {
  it("refuses a promise, saying to wrap it in a function", () => {
    const promise = Promise.resolve(1);
    assert.throws(
      () => new Job(promise as never),
      (error: unknown) =>
        error instanceof TypeError &&
        /promise/.test(error.message) &&
        /function/.test(error.message),
    );
  });

  it("refuses a non-function", () => {
    assert.throws(() => new Job(42 as never), TypeError);
    assert.throws(() => new Job(undefined as never), /expected a function/);
  });

  it("refuses unknown or mistyped options, naming them", () => {
    assert.throws(() => new Job(() => 1, { requires: [] } as never), /unknown option "requires"/);
    assert.throws(() => new Job(() => 1, { critical: "yes" } as never), /"critical"/);
    assert.throws(() => new Job(() => 1, { label: 3 } as never), /"label"/);
  });

  it("goes idle → running → done with cumulative predicates, and keeps its result", async () => {
    const gated = gatedJob<number>("g");
    const { job } = gated;
    assert.equal(job.isIdle(), true);
    assert.equal(job.isScheduled(), false);
    assert.throws(() => job.result(), /not done/);
    const run = new PureScheduler(job).run();
    await gated.started;
    assert.equal(job.isIdle(), false);
    assert.equal(job.isScheduled(), true);
    assert.equal(job.isRunning(), true);
    assert.equal(job.isDone(), false);
    gated.open(7);
    assert.equal(await run, true);
    assert.equal(job.isScheduled() && job.isRunning() && job.isDone(), true);
    assert.equal(job.result(), 7);
    assert.equal(job.raisedException(), undefined);
    assert.equal(job.reprResult(), "[[ -> 7]]");
  });

  it("records whatever was thrown, Error or not, and result() rethrows it", async () => {
    const thrown = { code: 42 };
    const job = new Job(
      async () => {
        throw thrown;
      },
      { critical: false },
    );
    const other = new Job(
      () => {
        throw "boom";
      },
      { critical: false },
    );
    assert.equal(await new PureScheduler(job, other).run(), true);
    assert.equal(job.isDone(), true);
    assert.equal(job.raisedException(), thrown);
    assert.throws(
      () => job.result(),
      (error: unknown) => error === thrown,
    );
    assert.equal(other.raisedException(), "boom");
    assert.equal(other.reprResult(), "!! exception => string:boom!!");
  });

  it("names itself after its function, or its label", () => {
    async function fetchThings(): Promise<void> {}
    assert.equal(new Job(fetchThings).textLabel(), "Job[fetchThings (...)]");
    assert.equal(new Job(fetchThings).reprMain(), "<Job `Job[fetchThings (...)]`>");
    assert.equal(new Job(fetchThings, { label: "fetch" }).reprMain(), "<Job `fetch`>");
    class Bare extends AbstractJob<void> {
      override async run(): Promise<void> {}
    }
    assert.equal(new Bare().reprMain(), "<Bare `NOLABEL`>");
    assert.equal(new Bare().reprId(), "??");
  });

  it("runs on its own with standaloneRun()", async () => {
    const job = quickJob("alone", "value");
    assert.equal(await job.standaloneRun(), "value");
    assert.equal(job.isDone(), true);
    assert.equal(job.result(), "value");
    const failing = new Job(() => {
      throw new RangeError("nope");
    });
    await assert.rejects(failing.standaloneRun(), RangeError);
    assert.ok(failing.raisedException() instanceof RangeError);
  });

  it("defaults to critical, not forever; options change both", () => {
    const plain = new Job(() => 1);
    assert.equal(plain.isCritical(), true);
    assert.equal(plain.forever, false);
    const relaxed = new Job(() => 1, { critical: false, forever: true });
    assert.equal(relaxed.isCritical(), false);
    assert.equal(relaxed.forever, true);
  });

  it("joins a scheduler given as an option", () => {
    const scheduler = new PureScheduler();
    const job = new Job(() => 1, { scheduler });
    assert.equal(scheduler.size, 1);
    assert.ok(scheduler.jobs.has(job));
  });
});

describe("requires()", () => {
  it("accepts jobs, nested arrays and sets, sequences (their last job) and null", () => {
    const [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map((label) => quickJob(label, label));
    const target = quickJob("target", 0);
    const sequence = new Sequence(d!, e!);
    target.requires(null, [a, [[b]]], new Set([c]), undefined, sequence);
    assert.deepEqual(
      [...target.required].map((job) => job.label),
      ["a", "b", "c", "e"],
    );
  });

  it("takes a single list as it is, skipping its holes, nulls and repeats", () => {
    const [a, b, c] = ["a", "b", "c"].map((label) => quickJob(label, label));
    const holey = quickJob("holey", 0);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point.
    holey.requires([a!, , b!]);
    assert.deepEqual(
      [...holey.required].map((job) => job.label),
      ["a", "b"],
    );
    const mixed = quickJob("mixed", 0).requires([a!, null, b!, a!, c!]);
    assert.deepEqual(
      [...mixed.required].map((job) => job.label),
      ["a", "b", "c"],
    );
    const listed = [a!, b!];
    const copied = quickJob("copied", 0).requires(listed);
    listed.push(c!);
    assert.deepEqual(
      [...copied.required].map((job) => job.label),
      ["a", "b"],
      "the list is copied",
    );
  });

  it("ignores a job requiring itself", () => {
    const job = quickJob("self", 1);
    job.requires(job);
    assert.equal(job.required.size, 0);
  });

  it("removes with { remove: true }, and throws naming a requirement that was not there", () => {
    const a = quickJob("a", 1);
    const b = quickJob("b", 2);
    const target = quickJob("target", 0).requires(a);
    target.requires(a, { remove: true });
    assert.equal(target.required.size, 0);
    assert.throws(() => target.requires(b, { remove: true }), /"target".*"b"/);
  });

  it("rejects a non-job naming the job at fault, and applies nothing", () => {
    const a = quickJob("a", 1);
    const target = quickJob("target", 0);
    assert.throws(
      () => target.requires(a, "b" as never),
      (error: unknown) =>
        error instanceof TypeError &&
        /"target"/.test(error.message) &&
        /string/.test(error.message),
    );
    assert.equal(target.required.size, 0);
    assert.throws(() => target.requires({ job: a } as never), TypeError);
  });
});

describe("PrintJob", () => {
  it("prints its banner and messages, then resolves", async () => {
    const job = new PrintJob("hello", 42, { banner: "=====", label: "greet" });
    const output = await captureOutput(() => new PureScheduler(job).run());
    assert.equal(output, "=====\nhello 42\n");
    assert.equal(job.details(), "hello 42");
    assert.equal(job.isDone(), true);
  });

  it("sleeps after printing, and the sleep is abortable", async () => {
    const job = new PrintJob("zzz", { sleep: 60_000, forever: true });
    const scheduler = new PureScheduler(job, quickJob("quick", 1));
    const output = await captureOutput(() => scheduler.run());
    assert.equal(output, "zzz\n");
    assert.equal(job.isCancelled(), true);
  });

  it("validates its options", () => {
    assert.throws(() => new PrintJob("x", { sleep: -1 }), RangeError);
    assert.throws(() => new PrintJob("x", { sleeep: 1 } as never), /unknown option "sleeep"/);
  });
});

describe("Sequence", () => {
  it("chains its jobs and gives its requirements to the first one", () => {
    const before = quickJob("before", 0);
    const [a, b, c] = ["a", "b", "c"].map((label) => quickJob(label, label));
    const sequence = new Sequence(a!, b!, c!, { required: before });
    assert.deepEqual([...a!.required], [before]);
    assert.deepEqual([...b!.required], [a]);
    assert.deepEqual([...c!.required], [b]);
    assert.deepEqual(sequence.jobs, [a, b, c]);
  });

  it("append(a, b) chains each item after the one before", () => {
    const [a, b, c] = ["a", "b", "c"].map((label) => quickJob(label, label));
    const sequence = new Sequence(a!);
    sequence.append(b!, c!);
    assert.deepEqual([...b!.required], [a]);
    assert.deepEqual([...c!.required], [b]);
  });

  it("flattens nested sequences and skips null", () => {
    const [a, b, c, d] = ["a", "b", "c", "d"].map((label) => quickJob(label, label));
    const sequence = new Sequence(a!, null, new Sequence(b!, c!), undefined, d!);
    assert.deepEqual(sequence.jobs, [a, b, c, d]);
    assert.deepEqual([...b!.required], [a]);
    assert.deepEqual([...d!.required], [c]);
  });

  it("stands for its last job as a requirement, and applies requires() to its first", () => {
    const [a, b] = ["a", "b"].map((label) => quickJob(label, label));
    const sequence = new Sequence(a!, b!);
    const after = quickJob("after", 0).requires(sequence);
    assert.deepEqual([...after.required], [b]);
    const before = quickJob("before", 0);
    sequence.requires(before);
    assert.ok(a!.required.has(before));
  });

  it("keeps requirements given while empty for its first job", () => {
    const before = quickJob("before", 0);
    const sequence = new Sequence().requires(before);
    const first = quickJob("first", 1);
    sequence.append(first);
    assert.ok(first.required.has(before));
  });

  it("adds its jobs to a scheduler given as an option, and in a scheduler", () => {
    const scheduler = new PureScheduler();
    const [a, b] = ["a", "b"].map((label) => quickJob(label, label));
    new Sequence(a!, b!, { scheduler });
    assert.equal(scheduler.size, 2);
    const [c, d] = ["c", "d"].map((label) => quickJob(label, label));
    const other = new Scheduler(new Sequence(c!, d!));
    assert.equal(other.size, 2);
  });

  it("rejects what is not a job, naming the argument", () => {
    assert.throws(() => new Sequence(quickJob("a", 1), 3 as never), /argument 2/);
  });
});
