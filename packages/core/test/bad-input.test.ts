/**
 * Bad input, everywhere: every public constructor and method is fed each
 * wrong kind of argument. Each call must throw (or reject with) a TypeError
 * or RangeError whose message names the argument, or, for a job of another
 * scheduler, an Error naming that job; and it must change nothing: the
 * schedulers and jobs read exactly as before the call.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AbstractJob,
  Job,
  PrintJob,
  PureScheduler,
  Scheduler,
  Sequence,
  sleep,
  Watch,
} from "asyncjobs";
import { ticks } from "./support.js";

/** A small world: a main scheduler with a nested one, another scheduler, loose jobs and a sequence. */
interface Fixture {
  a: Job;
  b: Job;
  c: Job;
  d: Job;
  inner: Scheduler;
  main: Scheduler;
  foreign: Job;
  other: PureScheduler;
  loose1: Job;
  loose2: Job;
  sequence: Sequence;
  watch: Watch;
  names: Map<unknown, string>;
}

function fixture(): Fixture {
  const a = new Job(async () => "a", { label: "a" });
  const b = new Job(async () => "b", { label: "b", required: a });
  const c = new Job(async () => "c", { label: "c", critical: false });
  const d = new Job(async () => "d", { label: "d" });
  const inner = new Scheduler(d, { label: "inner", required: a });
  const main = new Scheduler(a, b, c, inner, { label: "main", jobsWindow: 3, timeout: 5000 });
  const foreign = new Job(async () => "f", { label: "foreign" });
  const other = new PureScheduler(foreign);
  const loose1 = new Job(async () => 1, { label: "loose1" });
  const loose2 = new Job(async () => 2, { label: "loose2" });
  const loose3 = new Job(async () => 3, { label: "loose3" });
  const loose4 = new Job(async () => 4, { label: "loose4" });
  const sequence = new Sequence(loose3, loose4);
  const watch = new Watch();
  const names = new Map<unknown, string>([
    [a, "a"],
    [b, "b"],
    [c, "c"],
    [d, "d"],
    [inner, "inner"],
    [main, "main"],
    [foreign, "foreign"],
    [other, "other"],
    [loose1, "loose1"],
    [loose2, "loose2"],
    [loose3, "loose3"],
    [loose4, "loose4"],
  ]);
  return { a, b, c, d, inner, main, foreign, other, loose1, loose2, sequence, watch, names };
}

/** Everything a call could have changed, in comparable form. */
function snapshot(f: Fixture): unknown {
  const name = (value: unknown): string =>
    value === undefined ? "none" : (f.names.get(value) ?? "SOMETHING ELSE");
  const jobs = [...f.names.keys()].filter(
    (value): value is AbstractJob => (value as AbstractJob).requires !== undefined,
  );
  return {
    schedulers: [f.main, f.inner, f.other].map((scheduler) => ({
      name: name(scheduler),
      members: [...scheduler.jobs].map(name),
      jobsWindow: scheduler.jobsWindow,
      timeout: scheduler.timeout,
      shutdownTimeout: scheduler.shutdownTimeout,
      verbose: scheduler.verbose,
      watch: scheduler.watch === undefined ? "none" : "a watch",
      why: scheduler.why(),
      stats: scheduler.stats(),
    })),
    jobs: jobs.map((job) => ({
      name: name(job),
      label: job.label,
      critical: job.critical,
      forever: job.forever,
      required: [...job.required].map(name).sort(),
      // Which scheduler holds the job: internal, but exactly what a half-applied call would leave wrong.
      owner: name((job as unknown as { _owner?: unknown })._owner),
      states: [job.isIdle(), job.isScheduled(), job.isRunning(), job.isDone(), job.isCancelled()],
    })),
    sequence: f.sequence.jobs.map(name),
  };
}

/** The wrong kinds of argument, by name. */
const WRONG: Record<string, (f: Fixture) => unknown> = {
  undefined: () => undefined,
  null: () => null,
  zero: () => 0,
  negative: () => -1,
  NaN: () => Number.NaN,
  fraction: () => 1.5,
  infinity: () => Number.POSITIVE_INFINITY,
  string: () => "text",
  emptyString: () => "",
  boolean: () => true,
  bigint: () => 10n,
  symbol: () => Symbol("wrong"),
  function: () => () => undefined,
  plainObject: () => ({}),
  unknownOption: () => ({ bogus: 1 }),
  promise: () => Promise.resolve(1),
  date: () => new Date(0),
  emptyArray: () => [],
  arrayOfNumber: () => [1],
  emptyMap: () => new Map(),
  foreignJob: (f) => f.foreign,
};

interface Row {
  /** What is called, with X for the argument. */
  call: string;
  /** What the error message must mention. */
  names: RegExp;
  /** The kinds of WRONG that are in fact fine for this argument. */
  accepts: string[];
  act: (f: Fixture, value: unknown) => unknown;
  /** Accepted values are not tried (they would write files, say). */
  skipAccepted?: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: calls with wrong types are the point of this file.
type Loose = any;
const fn = async (): Promise<string> => "ran";
const OPTIONS_OK = ["undefined", "plainObject"];
const FLAG_OK = ["undefined", "null", "boolean"];
const DURATION_OK = ["undefined", "null", "zero", "fraction"];
const REQUIREMENT_OK = ["undefined", "null", "emptyArray", "emptyMap", "foreignJob"];

const ROWS: Row[] = [
  // ---- Job
  {
    call: "new Job(X)",
    names: /function/,
    accepts: ["function"],
    act: (_, x) => new Job(x as Loose),
  },
  {
    call: "new Job(fn, X)",
    names: /option/,
    accepts: ["undefined", "null", "plainObject"],
    act: (_, x) => new Job(fn, x as Loose),
  },
  ...jobOptionRows(
    "new Job(fn, { scheduler: main, ...X })",
    (_, options) => new Job(fn, options as Loose),
    true,
  ),
  {
    call: "new Job(fn, { scheduler: main, shutdown: X })",
    names: /shutdown/,
    accepts: ["undefined", "function"],
    act: (f, x) => new Job(fn, { scheduler: f.main, shutdown: x as Loose }),
  },
  // ---- PrintJob
  {
    call: "new PrintJob('m', { scheduler: main, sleep: X })",
    names: /sleep/,
    accepts: DURATION_OK,
    act: (f, x) => new PrintJob("m", { scheduler: f.main, sleep: x as Loose }),
  },
  {
    call: "new PrintJob('m', { scheduler: main, banner: X })",
    names: /banner/,
    accepts: ["undefined", "null", "string", "emptyString"],
    act: (f, x) => new PrintJob("m", { scheduler: f.main, banner: x as Loose }),
  },
  ...jobOptionRows(
    "new PrintJob('m', { scheduler: main, ...X })",
    (_, options) => new PrintJob("m", options as Loose),
    true,
  ),
  // ---- Sequence
  {
    call: "new Sequence(loose1, X)",
    names: /argument 2|job|Sequence/,
    accepts: ["undefined", "null", "foreignJob", "plainObject"],
    act: (f, x) => new Sequence(f.loose1, x as Loose),
  },
  {
    call: "new Sequence(loose1, loose2, { scheduler: main, required: X })",
    names: /requir/,
    accepts: REQUIREMENT_OK,
    act: (f, x) => new Sequence(f.loose1, f.loose2, { scheduler: f.main, required: x as Loose }),
  },
  {
    call: "new Sequence(loose1, loose2, { scheduler: X })",
    names: /scheduler/,
    accepts: ["undefined", "null"],
    act: (f, x) => new Sequence(f.loose1, f.loose2, { scheduler: x as Loose }),
  },
  {
    call: "sequence.append(X)",
    names: /argument 1|job|Sequence/,
    accepts: ["undefined", "null", "foreignJob"],
    act: (f, x) => f.sequence.append(x as Loose),
  },
  {
    call: "sequence.requires(X)",
    names: /requir/,
    accepts: [...REQUIREMENT_OK, "plainObject"],
    act: (f, x) => f.sequence.requires(x as Loose),
  },
  // ---- PureScheduler and Scheduler construction
  {
    call: "new PureScheduler(loose1, X)",
    names: /item 2|job|Sequence/,
    accepts: ["plainObject"],
    act: (f, x) => new PureScheduler(f.loose1, x as Loose),
  },
  {
    call: "new Scheduler(loose1, X)",
    names: /item 2|job|Sequence|option/,
    accepts: ["plainObject"],
    act: (f, x) => new Scheduler(f.loose1, x as Loose),
  },
  ...schedulerOptionRows(
    "new PureScheduler(loose1, { ...X })",
    (f, options) => new PureScheduler(f.loose1, options as Loose),
  ),
  ...schedulerOptionRows(
    "new Scheduler(loose1, { ...X })",
    (f, options) => new Scheduler(f.loose1, options as Loose),
  ),
  ...jobOptionRows(
    "new Scheduler(loose1, { scheduler: main, ...X })",
    (f, options) => new Scheduler(f.loose1, options as Loose),
    true,
  ),
  {
    call: "new Scheduler(loose1, loose2, { scheduler: X })",
    names: /scheduler/,
    accepts: ["undefined", "null"],
    act: (f, x) => new Scheduler(f.loose1, f.loose2, { scheduler: x as Loose }),
  },
  // ---- jobs' methods
  {
    call: "b.requires(X)",
    names: /requir|option/,
    accepts: [...REQUIREMENT_OK, "plainObject"],
    act: (f, x) => f.b.requires(x as Loose),
  },
  {
    call: "b.requires(a, { remove: X })",
    names: /remove/,
    accepts: FLAG_OK,
    act: (f, x) => f.b.requires(f.a, { remove: x as Loose }),
  },
  {
    call: "b.requires(a, X)",
    names: /requir|option/,
    accepts: [...REQUIREMENT_OK, "plainObject"],
    act: (f, x) => f.b.requires(f.a, x as Loose),
  },
  // ---- schedulers' methods
  {
    call: "main.add(X)",
    names: /add|job|Sequence/,
    accepts: [],
    act: (f, x) => f.main.add(x as Loose),
  },
  {
    call: "main.update(X)",
    names: /update|iterable|item/,
    accepts: ["emptyArray", "emptyMap"],
    act: (f, x) => f.main.update(x as Loose),
  },
  {
    call: "main.update([c, X])",
    names: /item 2|job|Sequence/,
    accepts: [],
    act: (f, x) => f.main.update([f.loose1, x as Loose]),
  },
  {
    call: "main.remove(X)",
    names: /remove|job/,
    accepts: [],
    act: (f, x) => f.main.remove(x as Loose),
  },
  ...runRows("main.run", (f, x) => f.main.run(x as Loose)),
  ...runRows("main.orchestrate", (f, x) => f.main.orchestrate(x as Loose)),
  {
    call: "main.jobsWindow = X",
    names: /jobsWindow/,
    accepts: ["undefined", "null", "zero"],
    act: (f, x) => {
      f.main.jobsWindow = x as Loose;
    },
  },
  ...(["timeout", "shutdownTimeout"] as const).map(
    (option): Row => ({
      call: `main.${option} = X`,
      names: new RegExp(option),
      accepts: DURATION_OK,
      act: (f, x) => {
        f.main[option] = x as Loose;
      },
    }),
  ),
  {
    call: "main.watch = X",
    names: /watch/,
    accepts: ["undefined", "null"],
    act: (f, x) => {
      f.main.watch = x as Loose;
    },
  },
  {
    call: "main.verbose = X",
    names: /verbose/,
    accepts: FLAG_OK,
    act: (f, x) => {
      f.main.verbose = x as Loose;
    },
  },
  ...optionsRows("main.sanitize", ["verbose"], (f, x) => f.main.sanitize(x as Loose)),
  ...optionsRows("main.exitJobs", ["discardForever", "computeBacklinks"], (f, x) => [
    ...f.main.exitJobs(x as Loose),
  ]),
  ...optionsRows("main.iterateJobs", ["scanSchedulers"], (f, x) => [
    ...f.main.iterateJobs(x as Loose),
  ]),
  ...(["predecessors", "successors", "predecessorsUpstream", "successorsDownstream"] as const).map(
    (method): Row => ({
      call: `main.${method}(a, X)`,
      names: new RegExp(`${method}|job`),
      accepts: [],
      act: (f, x) => f.main[method](f.a, x as Loose),
    }),
  ),
  {
    call: "main.bypassAndRemove(X)",
    names: /bypassAndRemove|job/,
    accepts: [],
    act: (f, x) => f.main.bypassAndRemove(x as Loose),
  },
  {
    call: "main.keepOnly(X)",
    names: /keepOnly|iterable/,
    accepts: ["emptyArray", "emptyMap"],
    act: (f, x) => f.main.keepOnly(x as Loose),
  },
  {
    call: "main.keepOnly([a, X])",
    names: /keepOnly|job/,
    // As in the original, jobs not in the scheduler are ignored.
    accepts: ["foreignJob"],
    act: (f, x) => f.main.keepOnly([f.a, x as Loose]),
  },
  {
    call: "main.keepOnlyBetween(X)",
    names: /keepOnlyBetween|option/,
    accepts: ["plainObject"],
    act: (f, x) => f.main.keepOnlyBetween(x as Loose),
  },
  ...(["starts", "ends"] as const).map(
    (option): Row => ({
      call: `main.keepOnlyBetween({ ${option}: X })`,
      names: new RegExp(option),
      accepts: ["undefined", "null", "emptyArray", "emptyMap"],
      act: (f, x) => f.main.keepOnlyBetween({ [option]: x as Loose }),
    }),
  ),
  ...(["starts", "ends"] as const).map(
    (option): Row => ({
      call: `main.keepOnlyBetween({ ${option}: [X] })`,
      names: new RegExp(`${option}|job`),
      accepts: [],
      act: (f, x) => f.main.keepOnlyBetween({ [option]: [x as Loose] }),
    }),
  ),
  ...(["keepStarts", "keepEnds"] as const).map(
    (option): Row => ({
      call: `main.keepOnlyBetween({ starts: [a], ${option}: X })`,
      names: new RegExp(option),
      accepts: FLAG_OK,
      act: (f, x) => f.main.keepOnlyBetween({ starts: [f.a], [option]: x as Loose }),
    }),
  ),
  ...optionsRows("main.list", ["details"], (f, x) => f.main.list(x as Loose), true),
  ...optionsRows("main.debrief", ["details"], (f, x) => f.main.debrief(x as Loose), true),
  {
    call: "main.dotFormat(X)",
    names: /dotFormat|option/,
    accepts: OPTIONS_OK,
    act: (f, x) => f.main.dotFormat(x as Loose),
  },
  ...(["exportAsDotfile", "exportAsSvgfile", "exportAsPngfile"] as const).map(
    (method): Row => ({
      call: `main.${method}(X)`,
      names: /file ?name/i,
      accepts: ["string"],
      act: (f, x) => f.main[method](x as Loose),
      skipAccepted: true,
    }),
  ),
  // ---- Watch and sleep
  {
    call: "new Watch(X)",
    names: /message/,
    accepts: ["undefined", "null", "string", "emptyString"],
    act: (_, x) => new Watch(x as Loose),
  },
  {
    call: "new Watch(undefined, X)",
    names: /option/,
    accepts: ["undefined", "null", "plainObject"],
    act: (_, x) => new Watch(undefined, x as Loose),
  },
  ...(["showElapsed", "showWallClock"] as const).map(
    (option): Row => ({
      call: `new Watch(undefined, { ${option}: X })`,
      names: new RegExp(option),
      accepts: FLAG_OK,
      act: (_, x) => new Watch(undefined, { [option]: x as Loose }),
    }),
  ),
  {
    call: "watch.printElapsed(X)",
    names: /suffix/,
    accepts: ["undefined", "string", "emptyString"],
    act: (f, x) => f.watch.printElapsed(x as Loose),
  },
  {
    call: "Watch.printWallClock(X)",
    names: /suffix/,
    accepts: ["undefined", "string", "emptyString"],
    act: (_, x) => Watch.printWallClock(x as Loose),
  },
  {
    call: "main.exportAsGraphic('x', X)",
    names: /suffix/,
    accepts: [],
    act: (f, x) => f.main.exportAsGraphic("x", x as Loose),
  },
  {
    call: "Watch.wallClock(X)",
    names: /date/,
    accepts: ["undefined", "date"],
    act: (_, x) => Watch.wallClock(x as Loose),
  },
  {
    call: "sleep(X)",
    names: /ms|millisecond/,
    accepts: ["zero", "fraction"],
    act: (_, x) => sleep(x as Loose),
  },
  {
    call: "sleep(1, X)",
    names: /signal/,
    accepts: ["undefined", "null"],
    act: (_, x) => sleep(1, x as Loose),
  },
];

/** The options every job takes, given with `scheduler: main` so that a half-applied call would show. */
function jobOptionRows(
  call: string,
  make: (f: Fixture, options: object) => unknown,
  withScheduler: boolean,
): Row[] {
  const base = (f: Fixture): object => (withScheduler ? { scheduler: f.main } : {});
  return [
    {
      call: call.replace("X", "{ label: X }"),
      names: /label/,
      accepts: ["undefined", "null", "string", "emptyString"],
      act: (f, x) => make(f, { ...base(f), label: x }),
    },
    ...(["critical", "forever"] as const).map(
      (option): Row => ({
        call: call.replace("X", `{ ${option}: X }`),
        names: new RegExp(option),
        accepts: FLAG_OK,
        act: (f, x) => make(f, { ...base(f), [option]: x }),
      }),
    ),
    {
      call: call.replace("X", "{ required: X }"),
      names: /requir/,
      accepts: REQUIREMENT_OK,
      act: (f, x) => make(f, { ...base(f), required: x }),
    },
    {
      call: call.replace("X", "{ scheduler: X }"),
      names: /scheduler/,
      accepts: ["undefined", "null"],
      act: (f, x) => make(f, { scheduler: x }),
    },
    {
      call: call.replace("X", "{ bogus: X }"),
      names: /bogus/,
      accepts: [],
      act: (f, x) => make(f, { ...base(f), bogus: x }),
    },
  ];
}

function schedulerOptionRows(call: string, make: (f: Fixture, options: object) => unknown): Row[] {
  return [
    {
      call: call.replace("X", "{ jobsWindow: X }"),
      names: /jobsWindow/,
      accepts: ["undefined", "null", "zero"],
      act: (f, x) => make(f, { jobsWindow: x }),
    },
    ...(["timeout", "shutdownTimeout"] as const).map(
      (option): Row => ({
        call: call.replace("X", `{ ${option}: X }`),
        names: new RegExp(option),
        accepts: DURATION_OK,
        act: (f, x) => make(f, { [option]: x }),
      }),
    ),
    {
      call: call.replace("X", "{ watch: X }"),
      names: /watch/,
      accepts: ["undefined", "null"],
      act: (f, x) => make(f, { watch: x }),
    },
    {
      call: call.replace("X", "{ verbose: X }"),
      names: /verbose/,
      accepts: FLAG_OK,
      act: (f, x) => make(f, { verbose: x }),
    },
  ];
}

function runRows(call: string, run: (f: Fixture, x: unknown) => unknown): Row[] {
  return [
    { call: `${call}(X)`, names: /option/, accepts: OPTIONS_OK, act: run },
    {
      call: `${call}({ signal: X })`,
      names: /signal/,
      accepts: ["undefined"],
      act: (f, x) => run(f, { signal: x }),
    },
  ];
}

/** A method taking one options object: the object itself, then each of its options. */
function optionsRows(
  call: string,
  flags: string[],
  act: (f: Fixture, x: unknown) => unknown,
  quiet = false,
): Row[] {
  const rows: Row[] = [
    {
      call: `${call}(X)`,
      names: /option/,
      accepts: OPTIONS_OK,
      act,
      skipAccepted: quiet,
    },
  ];
  for (const flag of flags) {
    rows.push({
      call: `${call}({ ${flag}: X })`,
      names: new RegExp(flag),
      accepts: FLAG_OK,
      act: (f, x) => act(f, { [flag]: x }),
      skipAccepted: quiet,
    });
  }
  return rows;
}

/** Calls `act`, swallowing what it prints; resolves with what it threw or rejected with, if anything. */
async function attempt(act: () => unknown): Promise<{ threw: boolean; error?: unknown }> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  let result: unknown;
  try {
    result = act();
  } catch (error) {
    return { threw: true, error };
  } finally {
    process.stdout.write = write;
  }
  if (result !== null && typeof result === "object" && "then" in result) {
    try {
      await (result as Promise<unknown>);
    } catch (error) {
      return { threw: true, error };
    }
  }
  return { threw: false };
}

describe("bad input, everywhere", () => {
  for (const row of ROWS) {
    it(row.call, async () => {
      const problems: string[] = [];
      for (const [kind, make] of Object.entries(WRONG)) {
        const accepted = row.accepts.includes(kind);
        if (accepted && row.skipAccepted) continue;
        const f = fixture();
        const value = make(f);
        const before = snapshot(f);
        const { threw, error } = await attempt(() => row.act(f, value));
        if (accepted) {
          if (threw) problems.push(`${kind}: refused, but it is fine here (${String(error)})`);
          continue;
        }
        if (!threw) {
          problems.push(`${kind}: accepted`);
          continue;
        }
        const message = error instanceof Error ? error.message : "";
        if (kind === "foreignJob" && error instanceof Error && message.includes('"foreign"')) {
          // A job of another scheduler is not a wrong type: an Error naming it is right.
        } else if (!(error instanceof TypeError || error instanceof RangeError)) {
          problems.push(`${kind}: threw ${String(error)}, not a TypeError or RangeError`);
        } else if (!row.names.test(message)) {
          problems.push(
            `${kind}: the message does not name the argument (${row.names}): ${message}`,
          );
        }
        try {
          assert.deepEqual(snapshot(f), before);
        } catch {
          problems.push(`${kind}: the rejected call changed something`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }

  it("a job of another scheduler is refused wherever a member is expected, naming it", async () => {
    const f = fixture();
    const before = snapshot(f);
    for (const act of [
      () => f.main.add(f.foreign),
      () => f.main.update([f.loose1, f.foreign]),
      () => f.main.remove(f.foreign),
      () => f.main.predecessors(f.foreign),
      () => f.main.bypassAndRemove(f.foreign),
      () => f.main.keepOnlyBetween({ starts: [f.foreign] }),
      () => new Sequence(f.loose1, f.foreign, { scheduler: f.main }),
      () => new Scheduler(f.loose1, f.foreign),
    ]) {
      assert.throws(act, (error: Error) => error.message.includes('"foreign"'));
      assert.deepEqual(snapshot(f), before);
    }
  });

  it("misuse while a run is under way is refused, naming the job, and changes nothing", async () => {
    const f = fixture();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = new Job(() => gate, { label: "held", scheduler: f.main });
    f.names.set(held, "held");
    const run = f.main.run();
    await ticks(10);
    const before = snapshot(f);
    await assert.rejects(f.main.run(), /already running/);
    assert.throws(() => f.main.add(f.loose1), /"loose1"/);
    assert.throws(() => f.main.remove(f.c), /"c"/);
    assert.throws(() => f.main.bypassAndRemove(f.b), /"b"/);
    assert.throws(() => f.main.keepOnly([f.a]), /"b"|"c"|"inner"|"held"/);
    assert.deepEqual(snapshot(f), before);
    release();
    assert.equal(await run, true);
  });
});
