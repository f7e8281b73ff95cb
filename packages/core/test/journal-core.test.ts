/**
 * Run journals in the core: what `run({ journal })` records, and what
 * `run({ journal, resume: true })` runs again, with an in-memory journal.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Job,
  type JournalRecord,
  PureScheduler,
  type RecordedJob,
  type RunJournal,
  Scheduler,
} from "asyncjobs";
import { deferred } from "./support.js";

/** A journal that keeps its runs in memory: the last one is what load() reads. */
class MemoryJournal implements RunJournal {
  runs: JournalRecord[][] = [];
  closed = 0;
  load(): ReadonlyMap<string, RecordedJob> | undefined {
    const last = this.runs[this.runs.length - 1];
    if (last === undefined) return undefined;
    const jobs = new Map<string, RecordedJob>();
    for (const record of last) {
      if (record.type === "job-end") jobs.set(record.key, record);
    }
    return jobs;
  }
  record(record: JournalRecord): void {
    if (record.type === "run-start") this.runs.push([]);
    this.runs[this.runs.length - 1]!.push(record);
  }
  close(): void {
    this.closed++;
  }
  /** The outcome of each job in run `n` (the last by default). */
  outcomes(n = this.runs.length - 1): Record<string, string> {
    const out: Record<string, string> = {};
    for (const record of this.runs[n]!) {
      if (record.type === "job-end") out[record.key] = record.outcome;
    }
    return out;
  }
}

/**
 * A pipeline a → b → c, and d on its own; `calls` counts each job's runs;
 * `fail` makes one throw (after a turn of the event loop, so that d is done
 * by then); `change` gives b another function (its text is what a
 * fingerprint sees).
 */
function pipeline(
  calls: Record<string, number>,
  options: { fail?: string; change?: boolean } = {},
) {
  /** Counts a run of `label`, then answers `value` (or fails, if told to). */
  const count = async <T>(label: string, value: () => T): Promise<T> => {
    calls[label] = (calls[label] ?? 0) + 1;
    if (options.fail === label) {
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error(`${label} failed`);
    }
    return value();
  };
  const a = new Job(() => count("a", () => 1), { label: "a" });
  const b = new Job(
    options.change
      ? (context) => count("b", () => context.results(a) + 100)
      : (context) => count("b", () => context.results(a) + 10),
    { label: "b", required: a },
  );
  const c = new Job((context) => count("c", () => `c got ${context.results(b)}`), {
    label: "c",
    required: b,
  });
  const d = new Job(() => count("d", () => ({ d: true })), { label: "d" });
  return { a, b, c, d, scheduler: new PureScheduler(a, b, c, d) };
}

describe("run({ journal })", () => {
  it("records the run's start, each job's start and end with its result, and the run's end", async () => {
    const journal = new MemoryJournal();
    const { scheduler } = pipeline({});
    assert.equal(await scheduler.run({ journal }), true);
    const records = journal.runs[0]!;
    assert.equal(records[0]!.type, "run-start");
    const start = records[0] as Extract<JournalRecord, { type: "run-start" }>;
    assert.equal(start.v, 1);
    assert.deepEqual(Object.fromEntries(start.jobs.map((job) => [job.key, job.requires])), {
      a: [],
      b: ["a"],
      c: ["b"],
      d: [],
    });
    // In topological order.
    const order = start.jobs.map((job) => job.key);
    assert.ok(order.indexOf("a") < order.indexOf("b") && order.indexOf("b") < order.indexOf("c"));
    const ends = records.filter((record) => record.type === "job-end");
    assert.deepEqual(Object.fromEntries(ends.map((record) => [record.key, record.result])), {
      a: 1,
      b: 11,
      c: "c got 11",
      d: { d: true },
    });
    assert.equal(records.filter((record) => record.type === "job-start").length, 4);
    const last = records[records.length - 1]!;
    assert.equal(last.type, "run-end");
    assert.equal(last.type === "run-end" && last.ok, true);
    assert.equal(journal.closed, 1);
  });

  it("leaves nothing behind on the jobs or the scheduler once the run is over", async () => {
    const { scheduler } = pipeline({});
    await scheduler.run({ journal: new MemoryJournal() });
    for (const job of scheduler.jobs) assert.equal(Object.hasOwn(job, "_invoke"), false);
    assert.equal(scheduler.events.active, false);
  });

  it("records a job's success before any of its dependents starts", async () => {
    const log: string[] = [];
    const journal: RunJournal = {
      load: () => undefined,
      record(record) {
        if (record.type === "job-end") log.push(`recorded ${record.key}`);
      },
    };
    const a = new Job(() => log.push("run a"), { label: "a" });
    const b = new Job(() => log.push("run b"), { label: "b", required: a });
    await new PureScheduler(a, b).run({ journal });
    assert.deepEqual(log, ["run a", "recorded a", "run b", "recorded b"]);
  });

  it("awaits a journal whose record() answers with a promise before starting dependents", async () => {
    const log: string[] = [];
    const gate = deferred<void>();
    const journal: RunJournal = {
      load: () => undefined,
      record(record) {
        if (record.type === "job-end" && record.key === "a") {
          log.push("recording a");
          return gate.promise.then(() => {
            log.push("recorded a");
          });
        }
      },
    };
    const a = new Job(() => log.push("run a"), { label: "a" });
    const b = new Job(() => log.push("run b"), { label: "b", required: a });
    const run = new PureScheduler(a, b).run({ journal });
    // Let the run get as far as it can without the record.
    for (let k = 0; k < 20; k++) await Promise.resolve();
    assert.deepEqual(log, ["run a", "recording a"]);
    gate.resolve();
    assert.equal(await run, true);
    assert.deepEqual(log, ["run a", "recording a", "recorded a", "run b"]);
  });

  it("refuses two jobs with the same key, before recording or running anything", async () => {
    const journal = new MemoryJournal();
    let ran = 0;
    const one = new Job(() => ran++, { label: "build" });
    const two = new Job(() => ran++, { label: "build" });
    await assert.rejects(
      new PureScheduler(one, two).run({ journal }),
      /jobs "build" and "build" have the same key "build"/,
    );
    assert.equal(ran, 0);
    assert.equal(journal.runs.length, 0);
    // An explicit key tells them apart.
    const four = new Job(() => ran++, { label: "build" });
    const five = new Job(() => ran++, { label: "build", key: "build-2" });
    assert.equal(await new PureScheduler(four, five).run({ journal }), true);
    assert.equal(ran, 2);
  });

  it("refuses a job with neither key nor label", async () => {
    await assert.rejects(
      new PureScheduler(new Job(() => 1)).run({ journal: new MemoryJournal() }),
      /has neither a key nor a label/,
    );
  });

  it("checks its options", async () => {
    const scheduler = new PureScheduler(new Job(() => 1, { label: "x" }));
    await assert.rejects(
      scheduler.run({ journal: {} as RunJournal }),
      /option "journal" must be an object with load\(\) and record\(\) methods/,
    );
    await assert.rejects(scheduler.run({ resume: true }), /option "resume" needs a "journal"/);
    assert.throws(() => new Job(() => 1, { key: "" }), /option "key" must be a non-empty string/);
    assert.throws(
      () => new Job(() => 1, { key: 3 as unknown as string }),
      /option "key" must be a string/,
    );
    assert.equal(new Job(() => 1, { key: "k" }).key, "k");
  });
});

describe("run({ journal, resume: true })", () => {
  it("runs again only the jobs that did not succeed, and hands the others' results on", async () => {
    const journal = new MemoryJournal();
    const calls: Record<string, number> = {};
    const first = pipeline(calls, { fail: "b" });
    assert.equal(await first.scheduler.run({ journal }), false);
    assert.deepEqual(journal.outcomes(), { a: "done", b: "failed", d: "done" });

    const again: Record<string, number> = {};
    const second = pipeline(again);
    assert.equal(await second.scheduler.run({ journal, resume: true }), true);
    // a and d kept their results; b and c ran, b with a's recorded result.
    assert.deepEqual(again, { b: 1, c: 1 });
    assert.equal(second.c.result(), "c got 11");
    assert.equal(second.a.result(), 1);
    assert.deepEqual(second.d.result(), { d: true });
    assert.equal(second.a.isResumed(), true);
    assert.equal(second.b.isResumed(), false);
    assert.deepEqual(journal.outcomes(), { a: "resumed", d: "resumed", b: "done", c: "done" });

    // A third resume has nothing left to do, and still knows every result.
    const third: Record<string, number> = {};
    const run3 = pipeline(third);
    assert.equal(await run3.scheduler.run({ journal, resume: true }), true);
    assert.deepEqual(third, {});
    assert.equal(run3.c.result(), "c got 11");
  });

  it("runs again a changed job and everything downstream of it, and nothing else", async () => {
    const journal = new MemoryJournal();
    await pipeline({}).scheduler.run({ journal });
    const calls: Record<string, number> = {};
    const changed = pipeline(calls, { change: true });
    assert.equal(await changed.scheduler.run({ journal, resume: true }), true);
    assert.deepEqual(calls, { b: 1, c: 1 });
    assert.equal(changed.c.result(), "c got 101");
  });

  it("runs everything when the journal has no previous run", async () => {
    const calls: Record<string, number> = {};
    await pipeline(calls).scheduler.run({ journal: new MemoryJournal(), resume: true });
    assert.deepEqual(calls, { a: 1, b: 1, c: 1, d: 1 });
  });

  it("always starts forever jobs again", async () => {
    const journal = new MemoryJournal();
    let served = 0;
    const build = () => {
      const service = new Job(
        (context) => {
          served++;
          return new Promise((resolve) => context.signal.addEventListener("abort", resolve));
        },
        { label: "service", forever: true },
      );
      const client = new Job(() => "ok", { label: "client" });
      return new PureScheduler(service, client);
    };
    await build().run({ journal });
    await build().run({ journal, resume: true });
    assert.equal(served, 2);
    assert.equal(journal.outcomes().client, "resumed");
  });

  it("reruns a job whose result had no JSON form", async () => {
    const journal = new MemoryJournal();
    let runs = 0;
    const build = () =>
      new PureScheduler(
        new Job(
          () => {
            runs++;
            return 10n;
          },
          { label: "big" },
        ),
      );
    await build().run({ journal });
    await build().run({ journal, resume: true });
    assert.equal(runs, 2);
  });

  it("resumes jobs of nested schedulers, and a change upstream of a group reruns the group's jobs", async () => {
    const journal = new MemoryJournal();
    const calls: string[] = [];
    const build = (version: number) => {
      const setup = new Job(() => calls.push("setup"), { label: "setup", key: `setup` });
      // The function's text is what changes.
      if (version === 2) {
        (setup as unknown as { _function: () => unknown })._function = () => calls.push("setup v2");
      }
      const inner = new Job(() => calls.push("inner"), { label: "inner" });
      const group = new Scheduler(inner, { label: "group", required: setup });
      const other = new Job(() => calls.push("other"), { label: "other" });
      return new PureScheduler(setup, group, other);
    };
    await build(1).run({ journal });
    calls.length = 0;
    await build(1).run({ journal, resume: true });
    assert.deepEqual(calls, []);
    await build(2).run({ journal, resume: true });
    assert.deepEqual(calls.sort(), ["inner", "setup v2"]);
  });

  it("shows resumed jobs with a badge of their own, until a run without a journal", async () => {
    const journal = new MemoryJournal();
    const build = () => new PureScheduler(new Job(() => 1, { label: "a", critical: false }));
    await build().run({ journal });
    const resumed = build();
    await resumed.run({ journal, resume: true });
    const [job] = resumed.jobs;
    process.env.ASYNCJOBS_ASCII = "0";
    try {
      assert.equal(job!.reprShort(), "  ☉ ↷  ");
      await resumed.run();
      assert.equal(job!.isResumed(), false);
      assert.equal(job!.reprShort(), "  ☉ ☓  ");
    } finally {
      delete process.env.ASYNCJOBS_ASCII;
    }
  });
});
