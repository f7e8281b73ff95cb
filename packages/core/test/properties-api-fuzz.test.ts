/**
 * Generated bad input at every public constructor, setter and method of the
 * core: fast-check draws a call and a value (anything JavaScript has, plus
 * values chosen to be wrong in subtle ways: jobs of another scheduler,
 * durations a timer cannot wait, symbols, sparse and hostile objects).
 *
 * One input in four is thrown while `main` runs (its other jobs done, one
 * held), so that what a running scheduler refuses is checked the same way.
 *
 * Whatever the value, the call must not crash (no non-Error thrown, no
 * unhandled rejection, no uncaught exception); if it throws or rejects, the
 * error must name what was wrong (the option, argument or method), and the
 * objects must read exactly as before the call (listing, requirements,
 * labels, options). Accepted values are fine: many generated values are
 * valid.
 *
 * Inputs: 12 × ASYNCJOBS_PROPERTY_RUNS (default 200, so 2 400; `npm run
 * test:stress` runs 10 000, so 120 000). Seed: ASYNCJOBS_PROPERTY_SEED.
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
import fc from "fast-check";
import { propertyParameters, propertyRuns } from "./support/property-config.js";

// biome-ignore lint/suspicious/noExplicitAny: calls with wrong types are the point of this file.
type Loose = any;

/** A small world: a main scheduler with a nested one, another scheduler, loose jobs and a sequence. */
interface World {
  a: Job;
  b: Job;
  c: Job;
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

function world(): World {
  const a = new Job(async () => "a", { label: "a", timeout: 1000, retry: 1 });
  const b = new Job(async () => "b", { label: "b", required: a, trigger: "allSuccess" });
  const c = new Job(async () => "c", { label: "c", critical: false, weight: 2 });
  const d = new Job(async () => "d", { label: "d" });
  const inner = new Scheduler(d, { label: "inner", required: a });
  const main = new Scheduler(a, b, c, inner, {
    label: "main",
    jobsWindow: 3,
    timeout: 5000,
    pools: { db: 2 },
  });
  const foreign = new Job(async () => "f", { label: "foreign" });
  const other = new PureScheduler(foreign);
  const loose1 = new Job(async () => 1, { label: "loose1" });
  const loose2 = new Job(async () => 2, { label: "loose2" });
  const loose3 = new Job(async () => 3, { label: "loose3" });
  const loose4 = new Job(async () => 4, { label: "loose4" });
  const sequence = new Sequence(loose3, loose4);
  const names = new Map<unknown, string>(
    Object.entries({ a, b, c, d, inner, main, foreign, other, loose1, loose2, loose3, loose4 }).map(
      ([name, value]) => [value, name],
    ),
  );
  return {
    a,
    b,
    c,
    inner,
    main,
    foreign,
    other,
    loose1,
    loose2,
    sequence,
    watch: new Watch(),
    names,
  };
}

/** Runs `fn` with stdout muted (listings print). */
function quietly<T>(fn: () => T): T {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return fn();
  } finally {
    process.stdout.write = write;
  }
}

/** Everything a call could have changed, in comparable form. */
function snapshot(w: World): unknown {
  const name = (value: unknown): string =>
    value === undefined ? "none" : (w.names.get(value) ?? "SOMETHING ELSE");
  const jobs = [...w.names.keys()].filter(
    (value): value is AbstractJob => (value as AbstractJob).requires !== undefined,
  );
  return {
    listing: quietly(() => [w.main.listSafe(), w.other.listSafe()]),
    schedulers: [w.main, w.inner, w.other].map((scheduler) => ({
      name: name(scheduler),
      members: [...scheduler.jobs].map(name),
      jobsWindow: scheduler.jobsWindow,
      timeout: scheduler.timeout,
      shutdownTimeout: scheduler.shutdownTimeout,
      verbose: scheduler.verbose,
      tracing: scheduler.tracing,
      pools: scheduler.pools,
      watch: scheduler.watch === undefined ? "none" : "a watch",
      why: scheduler.why(),
      stats: scheduler.stats(),
    })),
    jobs: jobs.map((job) => ({
      name: name(job),
      label: job.label,
      critical: job.critical,
      forever: job.forever,
      retry: job.retry,
      trigger: job.trigger,
      weight: job.weight,
      pool: job.pool,
      required: [...job.required].map(name).sort(),
      owner: name((job as unknown as { _owner?: unknown })._owner),
      states: [job.isIdle(), job.isScheduled(), job.isRunning(), job.isDone(), job.isCancelled()],
    })),
    sequence: w.sequence.jobs.map(name),
  };
}

/** One public entry point, fed the generated value `x`. */
interface Target {
  call: string;
  /** What an error's message must mention. */
  names: RegExp;
  act: (w: World, x: unknown) => unknown;
  /** When given: whether `x` is fine here; anything else must be refused. */
  valid?: (x: unknown) => boolean;
  /** False: never tried during a run (a listener given then would run user code of the generator's). */
  whileRunning?: boolean;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const isNone = (x: unknown): boolean => x === undefined || x === null;
const isFlag = (x: unknown): boolean => typeof x === "boolean";
const isDuration = (x: unknown): boolean =>
  isNone(x) || (typeof x === "number" && x >= 0 && x <= MAX_TIMER_MS);
const isFormatOptions = (x: unknown): boolean =>
  isNone(x) ||
  (typeof x === "object" &&
    (Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null) &&
    Object.keys(x as object).every((key) => key === "status") &&
    (isNone((x as { status?: unknown }).status) || isFlag((x as { status?: unknown }).status)));
const SETTER_VALID: Record<string, (x: unknown) => boolean> = {
  label: (x) => isNone(x) || typeof x === "string",
  critical: isFlag,
  forever: isFlag,
  jobsWindow: (x) => isNone(x) || (Number.isInteger(x) && (x as number) >= 0),
  timeout: isDuration,
  shutdownTimeout: isDuration,
  watch: (x) => isNone(x) || x instanceof Watch,
  verbose: (x) => isNone(x) || isFlag(x),
  tracing: (x) => isNone(x) || isFlag(x),
};

const fn = async (): Promise<string> => "ran";
const aborted = AbortSignal.abort(new Error("(aborted on purpose)"));

const JOB_OPTIONS = ["label", "critical", "forever", "required", "timeout", "retry", "trigger"];
const MORE_JOB_OPTIONS = ["weight", "pool", "scheduler"];
const RETRY_OPTIONS = ["retries", "delay", "factor", "maxDelay", "jitter", "retryOn"];
const SCHEDULER_OPTIONS = [
  "jobsWindow",
  "timeout",
  "shutdownTimeout",
  "watch",
  "verbose",
  "pools",
  "trace",
];
const SCHEDULER_SETTERS = [
  "jobsWindow",
  "timeout",
  "shutdownTimeout",
  "watch",
  "verbose",
  "tracing",
] as const;

function optionTargets(
  what: string,
  options: string[],
  make: (w: World, options: unknown) => unknown,
): Target[] {
  return [
    { call: `${what}(X)`, names: /option|argument|item|expected|job|Sequence/, act: make },
    ...options.map(
      (option): Target => ({
        call: `${what}({ ${option}: X })`,
        names: new RegExp(option === "required" ? "requir" : option),
        act: (w, x) => make(w, option === "scheduler" ? { scheduler: x } : { [option]: x }),
      }),
    ),
  ];
}

const TARGETS: Target[] = [
  { call: "new Job(X)", names: /Job\(\).*function|function/, act: (_, x) => new Job(x as Loose) },
  ...optionTargets(
    "new Job(fn, { scheduler: main, ... })",
    [...JOB_OPTIONS, ...MORE_JOB_OPTIONS],
    (w, o) => new Job(fn, { scheduler: w.main, ...(o as object) } as Loose),
  ),
  {
    call: "new Job(fn, { shutdown: X })",
    names: /shutdown/,
    act: (w, x) => new Job(fn, { scheduler: w.main, shutdown: x as Loose }),
  },
  ...RETRY_OPTIONS.map(
    (option): Target => ({
      call: `new Job(fn, { scheduler: main, retry: { retries: 1, ${option}: X } })`,
      names: new RegExp(`retry\\.${option}`),
      act: (w, x) =>
        new Job(fn, { scheduler: w.main, retry: { retries: 1, [option]: x } as Loose }),
    }),
  ),
  ...optionTargets(
    "new PrintJob('m', { scheduler: main, ... })",
    ["sleep", "banner", "label"],
    (w, o) => new PrintJob("m", { scheduler: w.main, ...(o as object) } as Loose),
  ),
  {
    call: "new Sequence(loose1, X)",
    names: /argument 2|option/,
    act: (w, x) => new Sequence(w.loose1, x as Loose),
  },
  {
    call: "new Sequence(loose1, loose2, { scheduler: main, required: X })",
    names: /requir/,
    act: (w, x) => new Sequence(w.loose1, w.loose2, { scheduler: w.main, required: x as Loose }),
  },
  {
    call: "new Sequence(loose1, loose2, { scheduler: X })",
    names: /scheduler/,
    act: (w, x) => new Sequence(w.loose1, w.loose2, { scheduler: x as Loose }),
  },
  {
    call: "sequence.append(X)",
    names: /argument 1|option/,
    act: (w, x) => w.sequence.append(x as Loose),
  },
  { call: "sequence.requires(X)", names: /requir/, act: (w, x) => w.sequence.requires(x as Loose) },
  {
    call: "new PureScheduler(loose1, X)",
    names: /item 2|option/,
    act: (w, x) => new PureScheduler(w.loose1, x as Loose),
  },
  ...optionTargets(
    "new PureScheduler(loose1, ...)",
    SCHEDULER_OPTIONS,
    (w, o) => new PureScheduler(w.loose1, o as Loose),
  ),
  ...optionTargets(
    "new Scheduler(loose1, loose2, { scheduler: main, ... })",
    [...SCHEDULER_OPTIONS, ...JOB_OPTIONS, ...MORE_JOB_OPTIONS],
    (w, o) => new Scheduler(w.loose1, w.loose2, { scheduler: w.main, ...(o as object) } as Loose),
  ),
  ...(["label", "critical", "forever"] as const).map(
    (option): Target => ({
      call: `b.${option} = X`,
      names: new RegExp(`"${option}"`),
      valid: SETTER_VALID[option],
      act: (w, x) => {
        (w.b as Loose)[option] = x;
      },
    }),
  ),
  ...(["label", "critical", "forever"] as const).map(
    (option): Target => ({
      call: `inner.${option} = X`,
      names: new RegExp(`"${option}"`),
      valid: SETTER_VALID[option],
      act: (w, x) => {
        (w.inner as Loose)[option] = x;
      },
    }),
  ),
  ...SCHEDULER_SETTERS.map(
    (option): Target => ({
      call: `main.${option} = X`,
      names: new RegExp(option),
      valid: SETTER_VALID[option],
      act: (w, x) => {
        (w.main as Loose)[option] = x;
      },
    }),
  ),
  { call: "b.requires(X)", names: /requir|option/, act: (w, x) => w.b.requires(x as Loose) },
  {
    call: "b.requires(a, X)",
    names: /requir|option/,
    act: (w, x) => w.b.requires(w.a, x as Loose),
  },
  {
    call: "b.requires(a, { remove: X })",
    names: /remove/,
    act: (w, x) => w.b.requires(w.a, { remove: x as Loose }),
  },
  { call: "main.add(X)", names: /add|job|Sequence/, act: (w, x) => w.main.add(x as Loose) },
  { call: "main.update(X)", names: /update|item/, act: (w, x) => w.main.update(x as Loose) },
  {
    call: "main.update([loose1, X])",
    names: /item 2|job/,
    act: (w, x) => w.main.update([w.loose1, x as Loose]),
  },
  { call: "main.remove(X)", names: /remove/, act: (w, x) => w.main.remove(x as Loose) },
  { call: "other.run(X)", names: /run\(\)|option/, act: (w, x) => w.other.run(x as Loose) },
  {
    call: "other.run({ signal: X })",
    names: /signal/,
    act: (w, x) => w.other.run({ signal: x as Loose }),
  },
  {
    call: "main.sanitize(X)",
    names: /sanitize|verbose/,
    act: (w, x) => w.main.sanitize(x as Loose),
  },
  {
    call: "main.exitJobs(X)",
    names: /exitJobs/,
    act: (w, x) => [...w.main.exitJobs(x as Loose)],
  },
  {
    call: "main.iterateJobs(X)",
    names: /iterateJobs/,
    act: (w, x) => [...w.main.iterateJobs(x as Loose)],
  },
  ...(["predecessors", "successors", "predecessorsUpstream", "successorsDownstream"] as const).map(
    (method): Target => ({
      call: `main.${method}(a, X)`,
      names: new RegExp(method),
      act: (w, x) => w.main[method](w.a, x as Loose),
    }),
  ),
  {
    call: "main.bypassAndRemove(X)",
    names: /bypassAndRemove/,
    act: (w, x) => w.main.bypassAndRemove(x as Loose),
  },
  { call: "main.keepOnly(X)", names: /keepOnly/, act: (w, x) => w.main.keepOnly(x as Loose) },
  {
    call: "main.keepOnlyBetween(X)",
    names: /keepOnlyBetween/,
    act: (w, x) => w.main.keepOnlyBetween(x as Loose),
  },
  ...(["starts", "ends", "keepStarts", "keepEnds"] as const).map(
    (option): Target => ({
      call: `main.keepOnlyBetween({ ${option}: X })`,
      names: new RegExp(option),
      act: (w, x) => w.main.keepOnlyBetween({ [option]: x as Loose }),
    }),
  ),
  ...(["list", "debrief"] as const).map(
    (method): Target => ({
      call: `main.${method}(X)`,
      names: new RegExp(`${method}|details`),
      act: (w, x) => quietly(() => w.main[method](x as Loose)),
    }),
  ),
  ...(["dotFormat", "mermaidFormat", "graph"] as const).map(
    (method): Target => ({
      call: `main.${method}(X)`,
      names: new RegExp(`${method === "graph" ? "dotFormat" : method}|status`),
      valid: isFormatOptions,
      act: (w, x) => w.main[method](x as Loose),
    }),
  ),
  {
    call: "main.events.addEventListener('job:done', X)",
    names: /listener/,
    act: (w, x) => w.main.events.addEventListener("job:done", x as Loose),
    whileRunning: false,
  },
  // An aborted signal: a valid duration rejects with the abort reason at once instead of waiting.
  {
    call: "sleep(X, aborted)",
    names: /ms/,
    act: (_, x) => sleep(x as Loose, aborted),
    valid: (x) => typeof x === "number" && isDuration(x),
  },
  { call: "sleep(0, X)", names: /signal/, act: (_, x) => sleep(0, x as Loose) },
  { call: "new Watch(X)", names: /message/, act: (_, x) => new Watch(x as Loose) },
  {
    call: "new Watch(undefined, X)",
    names: /option|showElapsed|showWallClock/,
    act: (_, x) => new Watch(undefined, x as Loose),
  },
];

/** Values chosen to be wrong in ways a generic generator rarely finds. */
function specialValues(): fc.Arbitrary<unknown> {
  return fc.constantFrom<unknown>(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    -1,
    0.5,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 53,
    Number.MAX_VALUE,
    10n,
    "",
    "false",
    "allDone ",
    Symbol("wrong"),
    Symbol.iterator,
    () => undefined,
    async () => {
      throw new Error("async function given");
    },
    Promise.resolve(1),
    new Date(0),
    new Map([[1, 2]]),
    new Set([1]),
    [],
    [[[]]],
    [null, undefined],
    Object.create(null),
    { __proto__: { label: "inherited" } },
    // biome-ignore lint/suspicious/noThenProperty: a thenable that is not one.
    { then: "not a function" },
    { handleEvent: 1 },
    { retries: 1 },
    { status: "yes" },
    { signal: "no" },
    new Proxy({}, {}),
    new (class Custom {})(),
    new Error("an error as a value"),
    /regex/,
    new Uint8Array(2),
  );
}

/** Values that are jobs, schedulers or sequences of the world (some fine, some foreign). */
const WORLD_VALUES: ((w: World) => unknown)[] = [
  (w) => w.foreign,
  (w) => w.other,
  (w) => w.inner,
  (w) => w.main,
  (w) => w.a,
  (w) => w.loose1,
  (w) => w.sequence,
  (w) => [w.loose1, w.foreign],
  (w) => new Set([w.a, 3]),
  (w) => w.watch,
  (w) => ({ scheduler: w.other }),
];

type Value = ({ kind: "plain"; value: unknown } | { kind: "world"; pick: number }) & {
  busy: boolean;
};

const valueArbitrary: fc.Arbitrary<Value> = fc
  .tuple(valueKinds(), fc.nat(3))
  .map(([value, roll]) => ({ ...value, busy: roll === 0 }));

function valueKinds(): fc.Arbitrary<
  { kind: "plain"; value: unknown } | { kind: "world"; pick: number }
> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
        })
        .map((value) => ({ kind: "plain" as const, value })),
    },
    { weight: 3, arbitrary: specialValues().map((value) => ({ kind: "plain" as const, value })) },
    {
      weight: 1,
      arbitrary: fc.nat(WORLD_VALUES.length - 1).map((pick) => ({ kind: "world" as const, pick })),
    },
  );
}

/**
 * Starts `main` with a job of its own that waits to be let go, and waits
 * until every other job of the run is done; `finish()` lets it go and
 * waits for the run to settle.
 */
async function busy(w: World): Promise<{ finish: () => Promise<void> }> {
  let release = (): void => {};
  const started = new Promise<void>((resolveStarted) => {
    const held = new Job(
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
          resolveStarted();
        }),
      { label: "held", critical: false, scheduler: w.main },
    );
    w.names.set(held, "held");
  });
  const run = w.main.run().catch(() => false);
  await started;
  for (let k = 0; k < 5; k++) await new Promise((resolve) => setImmediate(resolve));
  return {
    finish: async () => {
      release();
      await run;
    },
  };
}

/** Calls `act`; resolves with what it threw or rejected with, if anything. */
async function attempt(act: () => unknown): Promise<{ threw: boolean; error?: unknown }> {
  let result: unknown;
  try {
    result = act();
  } catch (error) {
    return { threw: true, error };
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

/** Inputs per entry point: at least 2 000 in all at the default 200 runs. */
const RUNS_PER_TARGET = Math.ceil((12 * propertyRuns) / TARGETS.length);
const INPUTS = RUNS_PER_TARGET * TARGETS.length;

/** A value, shortly, for a failure message. */
function shown(value: unknown): string {
  try {
    return typeof value === "symbol" ? value.toString() : (JSON.stringify(value) ?? String(value));
  } catch {
    return Object.prototype.toString.call(value);
  }
}

describe("generated bad input at every public entry point of the core", () => {
  it(`${INPUTS} generated inputs: no crash, no half-applied state, every error names its culprit`, async (t) => {
    const crashes: unknown[] = [];
    const onCrash = (error: unknown): void => {
      crashes.push(error);
    };
    process.on("unhandledRejection", onCrash);
    process.on("uncaughtException", onCrash);
    let inputs = 0;
    let refused = 0;
    let busyInputs = 0;
    try {
      // Each entry point gets its share, from its own run of the property.
      for (const target of TARGETS) {
        await fc.assert(
          fc.asyncProperty(valueArbitrary, async (given) => {
            const w = world();
            // One input in four lands while `main` runs (its other jobs done, one held).
            const running = given.busy && target.whileRunning !== false ? await busy(w) : undefined;
            const value = given.kind === "plain" ? given.value : WORLD_VALUES[given.pick]!(w);
            const before = snapshot(w);
            inputs++;
            if (running !== undefined) busyInputs++;
            const { threw, error } = await attempt(() => target.act(w, value));
            const refusedSnapshot = threw ? snapshot(w) : undefined;
            await running?.finish();
            if (!threw) {
              assert.ok(
                target.valid === undefined || target.valid(value),
                `${target.call}: accepted a bad value: ${shown(value)}`,
              );
              return;
            }
            if (error instanceof Error && error.message === "(aborted on purpose)") return;
            refused++;
            assert.ok(
              error instanceof Error,
              `${target.call}: threw a non-Error: ${String(error)}`,
            );
            const message = error.message;
            // A job of another scheduler (or a scheduler inside itself) is refused by naming that job.
            const namesAJob = /"(foreign|inner|main|a|b|c|d|loose1|loose2|loose3|loose4)"/.test(
              message,
            );
            assert.ok(
              target.names.test(message) || namesAJob,
              `${target.call}: the message does not name what was wrong (${target.names}): ${message}`,
            );
            // Compared before the held job is let go: the run would change states.
            assert.deepEqual(
              refusedSnapshot,
              before,
              `${target.call}${running ? " (during a run)" : ""}: the refused call changed something`,
            );
          }),
          { ...propertyParameters(), numRuns: RUNS_PER_TARGET },
        );
      }
    } finally {
      process.off("unhandledRejection", onCrash);
      process.off("uncaughtException", onCrash);
    }
    assert.deepEqual(crashes, [], "crashes");
    assert.ok(inputs >= INPUTS, `${inputs} inputs`);
    t.diagnostic(
      `${inputs} inputs over ${TARGETS.length} entry points (${busyInputs} during a run): ` +
        `${refused} refused, ${inputs - refused} accepted; ` +
        "0 crashes, 0 half-applied states, 0 errors without a name",
    );
  });
});
