/**
 * Random schedulers and an independent model of the scheduling rules, for
 * the property tests.
 *
 * A case (`CaseSpec`) describes a graph of jobs, possibly with nested
 * schedulers, and how each job behaves in each run: it resolves, throws
 * (an Error or any other value, synchronously or later), never settles, or
 * ignores its abort signal, after a virtual delay. `runCase` builds it,
 * runs it on a virtual clock, and has a referee follow the run.
 *
 * The referee is the model. It knows the rules of API.md, not the engine: it
 * sees every job start (the job's own function being called), the order in
 * which the scheduler takes note of finished jobs (its `job:done` and
 * `job:failed` events: the one thing that depends on timing), aborts and the
 * virtual time. From those alone it decides what the scheduler may do
 * (start a job whose requirements are done, within the window, before the
 * end) and what it must do (start every ready job while a slot is free, end
 * the run on a critical failure, at the deadline, on an abort, or once every
 * non-forever job is done, cancel what still runs, shut every job down once),
 * and which outcome, `failedCritical()`, `failedTimeOut()`, `why()` and
 * `shutdown()` answer each scheduler must give. Any difference is reported
 * with the recent events.
 */
import {
  type AbstractJob,
  Job,
  type JobContext,
  type JobEvent,
  PureScheduler,
  type RunOptions,
  Scheduler,
  type SchedulerEvent,
  TimeoutError,
} from "asyncjobs";
import fc from "fast-check";
import { drain, VirtualClock } from "./virtual-clock.js";

// ---------------------------------------------------------------- specs

export type ThrownKind = "error" | "string" | "number" | "undefined" | "null" | "object";
export type ValueKind = "object" | "undefined" | "number" | "string";
/** When a job settles: synchronously, after a microtask, through a thenable, or after a virtual delay. */
export type Timing = "sync" | "micro" | "thenable" | number;
export type ShutdownKind = "none" | "ok" | "async" | "throws" | "rejects" | "false";

export interface BehaviourSpec {
  /** 0-999, read against the profile: throws, never settles, or resolves. */
  roll: number;
  /** 0-999: whether a forever job ends by itself, read against the profile. */
  endsRoll: number;
  thrown: ThrownKind;
  value: ValueKind;
  timing: Timing;
  /** Goes on (and settles later) when cancelled. */
  ignoresSignal: boolean;
  /** Reads its signal only once its delay is over (the signal is made lazily). */
  readsSignalLate: boolean;
  /** Its first attempts throw, whatever `roll` says (default 0): a job that succeeds on a retry. */
  failsFirst?: number;
}

export type TriggerRuleName = "allDone" | "allSuccess" | "oneFailed" | "noneFailed";

/** The options beyond the original; a nested scheduler uses only `trigger`. */
export interface ExtrasSpec {
  trigger: TriggerRuleName;
  /** Retries after a failure (0: the option is not given). */
  retries: number;
  /** Wait before the first retry, times `retryFactor` for each further one. */
  retryDelay: number;
  retryFactor: number;
  /** Per-attempt timeout, or null. */
  timeout: number | null;
  /** Slots of the window, lowered to what the window and the pool allow. */
  weight: number;
  /** Picks one of the pools its scheduler sees (its own or an enclosing one's), or none. */
  poolPick: number | null;
}

/** Pools a scheduler may declare, by index of this list. */
export const POOL_NAMES: readonly string[] = ["p0", "p1"];

interface NodeCommon {
  /** 0-999 rolls against the profile. */
  criticalRoll: number;
  foreverRoll: number;
  /** Requirements: each pick p names the earlier sibling p mod index. */
  picks: number[];
  /** Requires every earlier sibling (fan-in). */
  hub: boolean;
  /** Explicit requirements (indices of earlier siblings), replacing picks and hub. */
  requires?: number[];
  /** Explicit flags, replacing the rolls. */
  critical?: boolean;
  forever?: boolean;
  /** Trigger rule, retries, timeout, weight and pool (none when absent). */
  extras?: ExtrasSpec;
}

export interface JobSpec extends NodeCommon {
  kind: "job";
  shutdown: ShutdownKind;
  /** One per run. */
  behaviours: BehaviourSpec[];
}

export interface SchedulerSpec extends NodeCommon {
  kind: "scheduler";
  window: number | null;
  timeout: number | null;
  /** Members are added in an order rotated by this much (and the graph does not follow it). */
  rotate: number;
  children: NodeSpec[];
  /** Limits of the pools it declares, by index in POOL_NAMES (null: not declared). */
  pools?: (number | null)[];
}

export type NodeSpec = JobSpec | SchedulerSpec;

/** Per-mille rates, for the whole case. */
export interface Profile {
  throws: number;
  never: number;
  critical: number;
  forever: number;
  /** How often a forever job ends by itself. */
  foreverEnds: number;
}

export interface CaseSpec {
  /** A PureScheduler, a critical Scheduler (rejects on failure) or a non-critical one. */
  top: "pure" | "critical" | "lenient";
  window: number | null;
  timeout: number | null;
  rotate: number;
  children: NodeSpec[];
  profile: Profile;
  /** One entry per run of the same scheduler: virtual ms after the start when its signal aborts, or null. */
  aborts: (number | null)[];
  /** Limits of the pools the top scheduler declares, by index in POOL_NAMES (null: not declared). */
  pools?: (number | null)[];
}

export interface CaseOptions {
  /** Jobs may throw or never settle (default true). */
  failures?: boolean;
  /** Schedulers may have a timeout (default true). */
  timeouts?: boolean;
  /** Runs may be aborted through their signal (default true). */
  aborts?: boolean;
  /** Schedulers may have a window (default true). */
  windows?: boolean;
  /** Levels of nested schedulers below the top one (default 3). */
  maxDepth?: number;
  /** Runs of the same scheduler (default 2). */
  maxRuns?: number;
  /**
   * Jobs carry random trigger rules, retries (and fail on their first
   * attempts), per-job timeouts, weights and pools; schedulers declare
   * pools (default false).
   */
  extras?: boolean;
}

const roll = fc.nat({ max: 999 });

const timingArbitrary: fc.Arbitrary<Timing> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }).map((n) => n * 2) },
  { weight: 1, arbitrary: fc.constantFrom<Timing>("sync", "micro", "thenable") },
);

const behaviourArbitrary: fc.Arbitrary<BehaviourSpec> = fc.record({
  roll,
  endsRoll: roll,
  thrown: fc.constantFrom<ThrownKind>("error", "string", "number", "undefined", "null", "object"),
  value: fc.constantFrom<ValueKind>("object", "undefined", "number", "string"),
  timing: timingArbitrary,
  ignoresSignal: fc.boolean(),
  readsSignalLate: fc.boolean(),
});

/** Delays are even and timeouts odd, so that a timeout never ties with a job at the same level. */
function timeoutArbitrary(options: CaseOptions): fc.Arbitrary<number | null> {
  if (options.timeouts === false) return fc.constant(null);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 150 }).map((n) => n * 2 + 1) },
  );
}

function windowArbitrary(options: CaseOptions): fc.Arbitrary<number | null> {
  if (options.windows === false) return fc.constant(null);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom<number | null>(null, 0) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 6 }) },
  );
}

/**
 * Retry delays and per-job timeouts are even, as job delays are: none of
 * them ties with a scheduler's (odd) timeout.
 */
const extrasArbitrary: fc.Arbitrary<ExtrasSpec> = fc.record({
  trigger: fc.constantFrom<TriggerRuleName>(
    "allDone",
    "allDone",
    "allSuccess",
    "allSuccess",
    "oneFailed",
    "noneFailed",
  ),
  retries: fc.oneof(
    { weight: 2, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) },
  ),
  retryDelay: fc.integer({ min: 0, max: 10 }).map((n) => n * 2),
  retryFactor: fc.constantFrom(1, 2),
  timeout: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }).map((n) => n * 2) },
  ),
  weight: fc.oneof(
    { weight: 3, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) },
  ),
  poolPick: fc.option(fc.nat({ max: 99 }), { nil: null, freq: 2 }),
});

const failsFirstArbitrary: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }) },
);

function poolsArbitrary(options: CaseOptions): fc.Arbitrary<(number | null)[] | undefined> {
  if (options.extras !== true) return fc.constant(undefined);
  const limit = fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
  );
  return fc.array(limit, { minLength: POOL_NAMES.length, maxLength: POOL_NAMES.length });
}

/** Adds random extras to a node when the case uses them. */
function withExtras<T extends NodeSpec>(
  node: fc.Arbitrary<T>,
  options: CaseOptions,
): fc.Arbitrary<T> {
  if (options.extras !== true) return node;
  return fc
    .tuple(node, extrasArbitrary, fc.array(failsFirstArbitrary, { maxLength: 2 }))
    .map(([spec, extras, fails]) => {
      if (spec.kind === "scheduler") return { ...spec, extras };
      const behaviours = spec.behaviours.map((b, run) => ({ ...b, failsFirst: fails[run] ?? 0 }));
      return { ...spec, extras, behaviours };
    });
}

function jobArbitrary(runs: number): fc.Arbitrary<NodeSpec> {
  return fc.record({
    kind: fc.constant("job" as const),
    criticalRoll: roll,
    foreverRoll: roll,
    picks: fc.array(fc.nat({ max: 999 }), { maxLength: 4 }),
    hub: fc.nat({ max: 29 }).map((n) => n === 0),
    shutdown: fc.constantFrom<ShutdownKind>(
      "none",
      "ok",
      "ok",
      "async",
      "throws",
      "rejects",
      "false",
    ),
    behaviours: fc.array(behaviourArbitrary, { minLength: runs, maxLength: runs }),
  });
}

function nodeArbitrary(depth: number, options: CaseOptions, runs: number): fc.Arbitrary<NodeSpec> {
  const job = withExtras(jobArbitrary(runs), options);
  if (depth >= (options.maxDepth ?? 3)) return job;
  const plainScheduler: fc.Arbitrary<NodeSpec> = fc.record({
    kind: fc.constant("scheduler" as const),
    criticalRoll: roll,
    foreverRoll: roll,
    picks: fc.array(fc.nat({ max: 999 }), { maxLength: 4 }),
    hub: fc.nat({ max: 29 }).map((n) => n === 0),
    window: windowArbitrary(options),
    timeout: timeoutArbitrary(options),
    rotate: fc.nat({ max: 99 }),
    children: fc.array(nodeArbitrary(depth + 1, options, runs), { maxLength: 10 }),
  });
  const scheduler = withExtras(
    fc
      .tuple(plainScheduler, poolsArbitrary(options))
      .map(([spec, pools]) => (pools === undefined ? spec : { ...spec, pools })),
    options,
  );
  return fc.oneof({ weight: 10, arbitrary: job }, { weight: 1, arbitrary: scheduler });
}

function profileArbitrary(options: CaseOptions): fc.Arbitrary<Profile> {
  const failures = options.failures !== false;
  return fc.record({
    throws: failures ? fc.constantFrom(0, 20, 100, 300) : fc.constant(0),
    never: failures ? fc.constantFrom(0, 10, 60) : fc.constant(0),
    critical: fc.constantFrom(0, 300, 800, 1000),
    forever: fc.constantFrom(0, 80, 250),
    foreverEnds: failures ? fc.constantFrom(0, 300, 1000) : fc.constant(1000),
  });
}

/** Random cases: small graphs mostly, a few hundred jobs sometimes. */
export function caseArbitrary(options: CaseOptions = {}): fc.Arbitrary<CaseSpec> {
  return fc.integer({ min: 1, max: options.maxRuns ?? 2 }).chain((runs) => {
    const node = nodeArbitrary(1, options, runs);
    const abortAt =
      options.aborts === false
        ? fc.constant(null)
        : fc.oneof(
            { weight: 4, arbitrary: fc.constant(null) },
            { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }) },
          );
    return fc.record({
      top: fc.constantFrom<CaseSpec["top"]>("pure", "critical", "lenient"),
      window: windowArbitrary(options),
      timeout: timeoutArbitrary(options),
      rotate: fc.nat({ max: 99 }),
      children: fc.oneof(
        { weight: 5, arbitrary: fc.array(node, { maxLength: 14 }) },
        { weight: 1, arbitrary: fc.array(node, { minLength: 30, maxLength: 250, size: "max" }) },
      ),
      profile: profileArbitrary(options),
      aborts: fc.array(abortAt, { minLength: runs, maxLength: runs }),
      pools: poolsArbitrary(options),
    });
  });
}

// ---------------------------------------------------------------- the world

type EndReason = "fine" | "critical" | "timeout" | "aborted";
type Outcome = "value" | "throw" | "never";

interface ResolvedBehaviour extends BehaviourSpec {
  outcome: Outcome;
}

/** A job of the case (a nested scheduler is one too), and what the referee knows of it in this run. */
export interface JobRecord {
  readonly label: string;
  readonly job: AbstractJob;
  readonly owner: SchedulerRecord;
  readonly critical: boolean;
  readonly forever: boolean;
  readonly reqs: JobRecord[];
  readonly succs: JobRecord[];
  readonly sched: SchedulerRecord | undefined;
  readonly shutdownKind: ShutdownKind | "scheduler";
  readonly behaviours: ResolvedBehaviour[];
  readonly trigger: TriggerRuleName;
  readonly retries: number;
  readonly retryDelay: number;
  readonly retryFactor: number;
  readonly timeout: number | null;
  readonly weight: number;
  readonly pool: PoolRecord | undefined;
  /** job:started events this run (one per attempt). */
  announced: number;
  invoked: boolean;
  /** Attempts started this run, and when the last one started. */
  attempts: number;
  attemptStartedAt: number;
  /** The last attempt's own context, for its signal. */
  context: JobContext | undefined;
  /** The last attempt was failed by its own timeout. */
  timedOut: boolean;
  /** Every attempt that was failed by its own timeout. */
  timedOutAttempts: Set<number>;
  /** When the next attempt is due, while the job waits to retry. */
  retryAt: number | undefined;
  /** Its outcome was a failure (job:failed). */
  failed: boolean;
  /** Its rule did not hold once its requirements finished: it must be skipped. */
  mustSkip: boolean;
  skipped: boolean;
  settled: { ok: boolean; value: unknown } | undefined;
  done: boolean;
  cancelled: boolean;
  pendingReqs: number;
  shutdownCalls: number;
  shutdownAnswer: unknown;
}

/** A pool one scheduler declares, and the slots its jobs (at any depth) hold in this run. */
export interface PoolRecord {
  readonly name: string;
  readonly limit: number;
  readonly declaredBy: string;
  used: number;
}

/** A scheduler of the case, and what the referee knows of it in this run. */
export interface SchedulerRecord {
  readonly label: string;
  scheduler: PureScheduler;
  readonly rec: JobRecord | undefined;
  readonly parent: SchedulerRecord | undefined;
  readonly children: JobRecord[];
  readonly window: number;
  readonly timeout: number | null;
  /** A critical Scheduler rejects when its run fails; the others resolve false. */
  readonly rejects: boolean;
  nonForever: number;
  status: "idle" | "running" | "ended";
  endReason: EndReason | undefined;
  culprit: JobRecord | undefined;
  startedAt: number;
  endedAt: number;
  deadline: number | undefined;
  running: number;
  maxRunning: number;
  /** Window slots held: the running jobs' weights. */
  used: number;
  /** The pools it declares. */
  readonly pools: PoolRecord[];
  ready: Set<JobRecord>;
  doneNonForever: number;
  doneAll: number;
  shutdownEventOk: boolean | undefined;
}

interface SchedulerHooks {
  invoked(): void;
  settled(ok: boolean, value: unknown): void;
  shutdown(): void;
  answered(value: boolean): void;
}

function isPlainObject(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A Scheduler that tells the referee when its parent starts it, how its run ends, and its shutdowns. */
class TracedScheduler extends Scheduler {
  hooks: SchedulerHooks | undefined;

  override run(options?: RunOptions | JobContext): Promise<boolean> {
    const fromParent = options !== undefined && !isPlainObject(options);
    if (fromParent) this.hooks?.invoked();
    const promise = super.run(options);
    if (fromParent) {
      promise.then(
        (value) => this.hooks?.settled(true, value),
        (error: unknown) => this.hooks?.settled(false, error),
      );
    }
    return promise;
  }

  override shutdown(): Promise<boolean> {
    this.hooks?.shutdown();
    const answer = super.shutdown();
    void answer.then((value) => this.hooks?.answered(value));
    return answer;
  }
}

function valueFor(kind: ValueKind, label: string, run: number): unknown {
  switch (kind) {
    case "object":
      return { label, run };
    case "undefined":
      return undefined;
    case "number":
      return run + label.length;
    default:
      return `${label}#${run}`;
  }
}

function thrownOf(kind: ThrownKind, label: string, run: number): unknown {
  switch (kind) {
    case "error":
      return new Error(`boom ${label}#${run}`);
    case "string":
      return `boom ${label}#${run}`;
    case "number":
      return -1 - run;
    case "undefined":
      return undefined;
    case "null":
      return null;
    default:
      return { boom: label, run };
  }
}

function isUnder(rate: number, value: number): boolean {
  return value < rate;
}

function resolveBehaviour(
  behaviour: BehaviourSpec,
  forever: boolean,
  profile: Profile,
): ResolvedBehaviour {
  let outcome: Outcome;
  if (forever && !isUnder(profile.foreverEnds, behaviour.endsRoll)) outcome = "never";
  else if (isUnder(profile.throws, behaviour.roll)) outcome = "throw";
  else if (isUnder(profile.throws + profile.never, behaviour.roll)) outcome = "never";
  else outcome = "value";
  return { ...behaviour, outcome };
}

/** The earlier siblings a node requires (indices, without repeats). */
export function requirementIndices(node: NodeSpec, index: number): number[] {
  if (node.requires !== undefined) return [...new Set(node.requires)];
  if (node.hub) return [...Array(index).keys()];
  return index === 0 ? [] : [...new Set(node.picks.map((pick) => pick % index))];
}

/** Whether a node is a forever job, per its flag or the profile. */
export function isForever(node: NodeSpec, profile: Profile): boolean {
  return node.forever ?? isUnder(profile.forever, node.foreverRoll);
}

const SHUTDOWN_OK: ReadonlySet<string> = new Set(["none", "ok", "async"]);

function shutdownOption(kind: ShutdownKind, count: () => void): (() => unknown) | undefined {
  switch (kind) {
    case "none":
      return undefined;
    case "ok":
      return () => {
        count();
      };
    case "async":
      return async () => {
        count();
        await null;
      };
    case "throws":
      return () => {
        count();
        throw new Error("shutdown throws");
      };
    case "rejects":
      return async () => {
        count();
        await null;
        throw new Error("shutdown rejects");
      };
    default:
      return () => {
        count();
        return false;
      };
  }
}

/** Everything built from one case: the schedulers, the jobs, the clock and the current referee. */
export class World {
  readonly clock = new VirtualClock();
  readonly jobs: JobRecord[] = [];
  readonly schedulers: SchedulerRecord[] = [];
  readonly byJob = new Map<AbstractJob, JobRecord>();
  readonly byScheduler = new Map<PureScheduler, SchedulerRecord>();
  readonly top: SchedulerRecord;
  referee: Referee | undefined;
  runIndex = 0;
  /** Some job uses a pool: jobs of different schedulers then wait on each other. */
  pooled = false;

  constructor(readonly spec: CaseSpec) {
    this.top = this.#buildScheduler(
      "top",
      spec.children,
      spec.rotate,
      spec.window,
      spec.timeout,
      undefined,
      undefined,
      spec.top === "critical",
      spec.pools,
      new Map(),
      undefined,
    );
    const events = this.top.scheduler.events;
    for (const type of [
      "job:scheduled",
      "job:started",
      "job:done",
      "job:failed",
      "job:cancelled",
      "job:retried",
      "job:skipped",
    ] as const) {
      events.addEventListener(type, (event: JobEvent) =>
        this.#guarded(() => this.referee?.onJobEvent(type, event)),
      );
    }
    for (const type of ["scheduler:started", "scheduler:ended", "scheduler:shutdown"] as const) {
      events.addEventListener(type, (event: SchedulerEvent) =>
        this.#guarded(() => this.referee?.onSchedulerEvent(type, event)),
      );
    }
  }

  /** A mistake of the referee itself must fail the case, not escape from an event listener. */
  #guarded(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.referee?.fail(
        `the referee threw: ${error instanceof Error ? error.stack : String(error)}`,
      );
    }
  }

  #buildScheduler(
    label: string,
    children: NodeSpec[],
    rotate: number,
    window: number | null,
    timeout: number | null,
    parent: SchedulerRecord | undefined,
    rec: JobRecord | undefined,
    rejects: boolean,
    declared: (number | null)[] | undefined,
    outerPools: ReadonlyMap<string, PoolRecord>,
    extras: ExtrasSpec | undefined,
  ): SchedulerRecord {
    // The pools its jobs see: its own, else the nearest enclosing scheduler's.
    const pools: PoolRecord[] = [];
    const visible = new Map(outerPools);
    const poolsOption: Record<string, number> = {};
    (declared ?? []).forEach((limit, at) => {
      if (limit === null) return;
      const pool: PoolRecord = { name: POOL_NAMES[at]!, limit, declaredBy: label, used: 0 };
      pools.push(pool);
      visible.set(pool.name, pool);
      poolsOption[pool.name] = limit;
    });
    const record: SchedulerRecord = {
      label,
      scheduler: undefined as unknown as PureScheduler,
      rec,
      parent,
      children: [],
      window: window ? window : Number.POSITIVE_INFINITY,
      timeout,
      rejects,
      nonForever: 0,
      status: "idle",
      endReason: undefined,
      culprit: undefined,
      startedAt: 0,
      endedAt: 0,
      deadline: undefined,
      running: 0,
      maxRunning: 0,
      used: 0,
      pools,
      ready: new Set(),
      doneNonForever: 0,
      doneAll: 0,
      shutdownEventOk: undefined,
    };
    this.schedulers.push(record);
    const profile = this.spec.profile;
    children.forEach((node, index) => {
      const childLabel = label === "top" ? `${index}` : `${label}.${index}`;
      const critical = node.critical ?? isUnder(profile.critical, node.criticalRoll);
      const forever = isForever(node, profile);
      const child = this.#buildJob(node, childLabel, record, critical, forever, visible);
      record.children.push(child);
      if (!forever) record.nonForever++;
    });
    // Requirements point to earlier siblings: a DAG whatever the member order.
    children.forEach((node, index) => {
      const child = record.children[index]!;
      for (const at of requirementIndices(node, index)) {
        const requirement = record.children[at]!;
        child.reqs.push(requirement);
        requirement.succs.push(child);
        child.job.requires(requirement.job);
      }
    });
    const members = record.children.map((child) => child.job);
    const shift = members.length === 0 ? 0 : rotate % members.length;
    const ordered = [...members.slice(shift), ...members.slice(0, shift)];
    if (rotate % 2 === 1) ordered.reverse();
    const withPools = pools.length > 0 ? { pools: poolsOption } : {};
    const options = { jobsWindow: window, timeout, label, ...withPools };
    if (rec !== undefined) {
      const nested = new TracedScheduler(...ordered, {
        ...options,
        critical: rec.critical,
        forever: rec.forever,
        ...(extras !== undefined ? { trigger: extras.trigger } : {}),
      });
      record.scheduler = nested;
    } else if (this.spec.top === "pure") {
      record.scheduler = new PureScheduler(...ordered, {
        jobsWindow: window,
        timeout,
        ...withPools,
      });
    } else {
      record.scheduler = new TracedScheduler(...ordered, { ...options, critical: rejects });
    }
    this.byScheduler.set(record.scheduler, record);
    return record;
  }

  #buildJob(
    node: NodeSpec,
    label: string,
    owner: SchedulerRecord,
    critical: boolean,
    forever: boolean,
    pools: ReadonlyMap<string, PoolRecord>,
  ): JobRecord {
    const extras = node.extras;
    const plain = node.kind === "job" && extras !== undefined;
    const seen = [...pools.values()];
    const pool =
      plain && extras.poolPick !== null && seen.length > 0
        ? seen[extras.poolPick % seen.length]
        : undefined;
    // Never heavier than the window or the pool allow (the run would refuse it).
    const weight = plain ? Math.min(extras.weight, owner.window, pool?.limit ?? 3) : 1;
    if (pool !== undefined) this.pooled = true;
    const rec: JobRecord = {
      label,
      job: undefined as unknown as AbstractJob,
      owner,
      critical,
      forever,
      reqs: [],
      succs: [],
      sched: undefined,
      shutdownKind: node.kind === "job" ? node.shutdown : "scheduler",
      behaviours:
        node.kind === "job"
          ? node.behaviours.map((b) => resolveBehaviour(b, forever, this.spec.profile))
          : [],
      trigger: extras?.trigger ?? "allDone",
      retries: plain ? extras.retries : 0,
      retryDelay: plain ? extras.retryDelay : 0,
      retryFactor: plain ? extras.retryFactor : 1,
      timeout: plain ? extras.timeout : null,
      weight,
      pool,
      announced: 0,
      invoked: false,
      attempts: 0,
      attemptStartedAt: 0,
      context: undefined,
      timedOut: false,
      timedOutAttempts: new Set(),
      retryAt: undefined,
      failed: false,
      mustSkip: false,
      skipped: false,
      settled: undefined,
      done: false,
      cancelled: false,
      pendingReqs: 0,
      shutdownCalls: 0,
      shutdownAnswer: undefined,
    };
    this.jobs.push(rec);
    if (node.kind === "scheduler") {
      const sched = this.#buildScheduler(
        label,
        node.children,
        node.rotate,
        node.window,
        node.timeout,
        owner,
        rec,
        critical,
        node.pools,
        pools,
        extras,
      );
      (rec as { sched: SchedulerRecord }).sched = sched;
      const traced = sched.scheduler as TracedScheduler;
      traced.hooks = {
        invoked: () => this.referee?.onInvoke(rec),
        settled: (ok, value) => this.referee?.onSchedulerSettled(sched, ok, value),
        shutdown: () => this.referee?.onShutdownCall(rec),
        answered: (value) => {
          rec.shutdownAnswer = value;
        },
      };
      (rec as { job: AbstractJob }).job = traced;
    } else {
      const shutdown = shutdownOption(node.shutdown, () => this.referee?.onShutdownCall(rec));
      const options =
        extras === undefined
          ? {}
          : {
              trigger: rec.trigger,
              ...(rec.retries > 0
                ? {
                    retry: { retries: rec.retries, delay: rec.retryDelay, factor: rec.retryFactor },
                  }
                : {}),
              ...(rec.timeout !== null ? { timeout: rec.timeout } : {}),
              weight,
              ...(pool !== undefined ? { pool: pool.name } : {}),
            };
      (rec as { job: AbstractJob }).job = new Job(this.#jobFunction(rec), {
        label,
        critical,
        forever,
        ...(shutdown ? { shutdown } : {}),
        ...options,
      });
    }
    this.byJob.set(rec.job, rec);
    return rec;
  }

  /** What a job does, read from its behaviour for the current run. */
  #jobFunction(rec: JobRecord): (context: JobContext) => unknown {
    return (context) => {
      const referee = this.referee!;
      const run = this.runIndex;
      referee.onInvoke(rec, context);
      const attempt = rec.attempts;
      if (context.attempt !== attempt) {
        referee.fail(`${rec.label}: context.attempt is ${context.attempt}, not ${attempt}`);
      }
      const behaviour = rec.behaviours[run]!;
      const { timing } = behaviour;
      const outcome = attempt <= (behaviour.failsFirst ?? 0) ? "throw" : behaviour.outcome;
      const produced =
        outcome === "throw"
          ? thrownOf(behaviour.thrown, rec.label, run)
          : valueFor(behaviour.value, rec.label, run);
      const finish = (): unknown => {
        referee.onSettle(rec, outcome !== "throw", produced, attempt);
        if (outcome === "throw") throw produced;
        return produced;
      };
      if (outcome === "never") {
        if (behaviour.ignoresSignal) return new Promise(() => {});
        const signal = context.signal;
        return new Promise((_, reject) => {
          if (signal.aborted) reject(signal.reason);
          else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      }
      switch (timing) {
        case "sync":
          return finish();
        case "micro":
          return Promise.resolve().then(finish);
        case "thenable":
          return {
            // biome-ignore lint/suspicious/noThenProperty: jobs may return any thenable.
            then(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
              try {
                resolve(finish());
              } catch (error) {
                reject(error);
              }
            },
          };
        default: {
          const early =
            behaviour.ignoresSignal || behaviour.readsSignalLate ? undefined : context.signal;
          return this.clock.sleep(timing, early).then(() => {
            if (behaviour.readsSignalLate) {
              referee.onLateSignal(rec, context.signal.aborted, attempt);
            }
            return finish();
          });
        }
      }
    };
  }
}

// ---------------------------------------------------------------- the referee

/**
 * Whether a job's trigger rule holds, given how its requirements ended
 * (each failed, succeeded or was skipped): `allDone` always; `allSuccess`
 * if none failed or was skipped; `oneFailed` if one failed; `noneFailed`
 * if none failed.
 */
function ruleHolds(rec: JobRecord): boolean {
  const failed = rec.reqs.some((req) => req.done && req.failed);
  const skipped = rec.reqs.some((req) => req.skipped);
  switch (rec.trigger) {
    case "allDone":
      return true;
    case "allSuccess":
      return !failed && !skipped;
    case "oneFailed":
      return failed;
    default:
      return !failed;
  }
}

function abortText(reason: unknown): string {
  if (reason instanceof Error) return reason.message || reason.name;
  return String(reason);
}

function show(value: unknown): string {
  if (value instanceof Error) return `${value.name}(${value.message})`;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

/** The model of the rules, following one run. */
export class Referee {
  readonly violations: string[] = [];
  readonly trace: string[] = [];
  /** How often the rarer paths were taken, so that a property can check it reaches them. */
  readonly stats = { skipped: 0, retried: 0, timedOut: 0, poolsFull: 0 };
  /** Attempts failed by their own timeout whose signal has yet to be seen aborted. */
  #timedOutContexts: { rec: JobRecord; context: JobContext | undefined }[] = [];
  topStartExpected = false;
  topSettled = false;

  constructor(
    readonly world: World,
    readonly abortReason: unknown,
  ) {
    for (const rec of world.jobs) {
      rec.announced = 0;
      rec.invoked = false;
      rec.attempts = 0;
      rec.attemptStartedAt = 0;
      rec.context = undefined;
      rec.timedOut = false;
      rec.timedOutAttempts = new Set();
      rec.retryAt = undefined;
      rec.failed = false;
      rec.mustSkip = false;
      rec.skipped = false;
      rec.settled = undefined;
      rec.done = false;
      rec.cancelled = false;
      rec.pendingReqs = rec.reqs.length;
      rec.shutdownCalls = 0;
      rec.shutdownAnswer = undefined;
    }
    for (const sched of world.schedulers) {
      sched.status = "idle";
      sched.endReason = undefined;
      sched.culprit = undefined;
      sched.deadline = undefined;
      sched.running = 0;
      sched.maxRunning = 0;
      sched.used = 0;
      for (const pool of sched.pools) pool.used = 0;
      sched.ready = new Set();
      sched.doneNonForever = 0;
      sched.doneAll = 0;
      sched.shutdownEventOk = undefined;
    }
  }

  get now(): number {
    return this.world.clock.now;
  }

  fail(message: string): void {
    if (this.violations.length < 10) this.violations.push(`[t=${this.now}] ${message}`);
  }

  log(line: string): void {
    this.trace.push(`[t=${this.now}] ${line}`);
    if (this.trace.length > 300) this.trace.splice(0, 100);
  }

  // -- what the jobs report

  onInvoke(rec: JobRecord, context?: JobContext): void {
    const retrying = rec.retryAt !== undefined;
    this.log(`start ${rec.label}${retrying ? ` (attempt ${rec.attempts + 1})` : ""}`);
    const owner = rec.owner;
    if (rec.invoked && !retrying) this.fail(`${rec.label} started a second time in one run`);
    if (retrying && this.now !== rec.retryAt) {
      this.fail(
        `${rec.label}: attempt ${rec.attempts + 1} starts now, but was due at ${rec.retryAt}`,
      );
    }
    if (rec.attempts >= rec.retries + 1) {
      this.fail(`${rec.label}: attempt ${rec.attempts + 1}, with only ${rec.retries} retries`);
    }
    if (!retrying && !ruleHolds(rec)) {
      this.fail(`${rec.label} started though its rule ${rec.trigger} does not hold`);
    }
    const first = !rec.invoked;
    rec.invoked = true;
    rec.attempts++;
    rec.attemptStartedAt = this.now;
    rec.context = context;
    rec.timedOut = false;
    rec.retryAt = undefined;
    rec.settled = undefined;
    if (rec.announced !== rec.attempts) {
      this.fail(`${rec.label} started without a job:started event`);
    }
    if (owner.status !== "running") {
      this.fail(`${rec.label} started while ${owner.label} is ${owner.status}`);
    } else if (owner.endReason !== undefined) {
      this.fail(`${rec.label} started after ${owner.label} met its end (${owner.endReason})`);
    }
    if (this.#atDeadline(owner)) {
      this.fail(`${rec.label} started at or after the deadline of ${owner.label}`);
    }
    for (const req of rec.reqs) {
      const finished = req.skipped ? req.job.isSkipped() : req.done && req.job.isDone();
      if (!finished) {
        this.fail(`${rec.label} started before its requirement ${req.label} was done`);
      }
    }
    const job = rec.job;
    if (!job.isRunning() || job.isDone() || job.isCancelled()) {
      this.fail(`${rec.label} does not read as running when it starts`);
    }
    if (!first) return;
    // A job keeps its slots (window and pool) from its first attempt to its end.
    owner.ready.delete(rec);
    owner.running++;
    owner.used += rec.weight;
    owner.maxRunning = Math.max(owner.maxRunning, owner.running);
    if (owner.used > owner.window) {
      this.fail(
        `${owner.label} runs jobs of weight ${owner.used} at once, over its window of ${owner.window}`,
      );
    }
    const pool = rec.pool;
    if (pool !== undefined) {
      pool.used += rec.weight;
      if (pool.used === pool.limit) this.stats.poolsFull++;
      if (pool.used > pool.limit) {
        this.fail(
          `pool ${pool.name} of ${pool.declaredBy} holds ${pool.used} slots, over its limit of ${pool.limit}`,
        );
      }
    }
  }

  /**
   * Whether `sched`'s deadline has come. Its timer fires before anything
   * else of `sched` due at the same instant; but a pool shared with another
   * scheduler whose own timer fires at that instant first can start a job of
   * `sched` then: with pools, only what comes later is late.
   */
  #atDeadline(sched: SchedulerRecord): boolean {
    const deadline = sched.deadline;
    if (deadline === undefined) return false;
    return this.now > deadline || (this.now === deadline && !this.world.pooled);
  }

  /** A job leaves its scheduler's window and its pool. */
  #giveBack(rec: JobRecord): void {
    rec.owner.running--;
    rec.owner.used -= rec.weight;
    if (rec.pool !== undefined) rec.pool.used -= rec.weight;
  }

  onSettle(rec: JobRecord, ok: boolean, value: unknown, attempt = rec.attempts): void {
    if (attempt !== rec.attempts || rec.timedOut || rec.retryAt !== undefined) {
      this.log(`${rec.label} attempt ${attempt} settles late (ignored)`);
      return;
    }
    this.log(`${rec.label} ${ok ? "returns" : "throws"} ${show(value)}`);
    rec.settled = { ok, value };
  }

  onLateSignal(rec: JobRecord, aborted: boolean, attempt: number): void {
    // Only the last attempt can be cancelled; any attempt can time out.
    const cancelled = attempt === rec.attempts && rec.cancelled;
    const timedOut = rec.timedOutAttempts.has(attempt);
    if (aborted !== (cancelled || timedOut)) {
      this.fail(
        `${rec.label} reads its signal late: aborted=${aborted}, but it was ${cancelled ? "" : "not "}cancelled and ${timedOut ? "" : "not "}timed out`,
      );
    }
  }

  onSchedulerSettled(sched: SchedulerRecord, ok: boolean, value: unknown): void {
    this.log(`${sched.label} run() ${ok ? "resolves" : "rejects"} ${show(value)}`);
    sched.rec!.settled = { ok, value };
    if (sched.endReason !== "aborted") this.checkRunOutcome(sched, ok, value);
  }

  /** How `run()` of a scheduler must settle, given how it ended. */
  checkRunOutcome(sched: SchedulerRecord, ok: boolean, value: unknown): void {
    if (sched.status !== "ended") {
      this.fail(`${sched.label}: run() settled before the scheduler ended`);
      return;
    }
    const reason = sched.endReason;
    const got = `${ok ? "resolved" : "rejected"} ${show(value)}`;
    if (reason === "fine") {
      if (!ok || value !== true) this.fail(`${sched.label} ended fine but run() ${got}`);
    } else if (!sched.rejects) {
      if (!ok || value !== false) this.fail(`${sched.label} failed (${reason}) but run() ${got}`);
    } else if (ok) {
      this.fail(`critical ${sched.label} failed (${reason}) but run() ${got}`);
    } else if (reason === "critical") {
      const expected = sched.culprit?.settled?.value;
      if (!Object.is(value, expected)) {
        this.fail(`${sched.label} should reject with ${show(expected)}, ${got}`);
      }
    } else if (reason === "timeout") {
      if (!(value instanceof TimeoutError) || !value.message.includes(`${sched.timeout} ms`)) {
        this.fail(`${sched.label} should reject with a TimeoutError, ${got}`);
      }
    } else if (!Object.is(value, this.abortReason)) {
      this.fail(`${sched.label} should reject with the abort reason, ${got}`);
    }
  }

  onShutdownCall(rec: JobRecord): void {
    this.log(`shutdown ${rec.label}`);
    rec.shutdownCalls++;
    if (!this.#quiet(rec.owner)) {
      this.fail(`${rec.label} is shut down while ${rec.owner.label} has not ended`);
    }
  }

  /** A scheduler that ended, or that never started while its parent is quiet. */
  #quiet(sched: SchedulerRecord): boolean {
    if (sched.status === "ended") return true;
    if (sched.status === "running") return false;
    return sched.parent !== undefined && this.#quiet(sched.parent);
  }

  // -- what the scheduler reports

  onJobEvent(type: string, event: JobEvent): void {
    const rec = this.world.byJob.get(event.job);
    if (rec === undefined) {
      this.fail(`${type} for a job that is not in the case`);
      return;
    }
    const owner = rec.owner;
    if (event.scheduler !== owner.scheduler)
      this.fail(`${type} for ${rec.label} names another scheduler`);
    switch (type) {
      case "job:scheduled":
      case "job:started":
        this.log(`${type} ${rec.label}`);
        if (owner.status !== "running" || owner.endReason !== undefined) {
          this.fail(`${type} ${rec.label} while ${owner.label} is not running on`);
        }
        if (rec.pendingReqs > 0) this.fail(`${type} ${rec.label} before its requirements are done`);
        if (rec.skipped || rec.mustSkip)
          this.fail(`${type} ${rec.label}, whose rule does not hold`);
        if (type === "job:started") {
          if (rec.announced !== rec.attempts) this.fail(`${rec.label} announced twice`);
          if (rec.attempts > 0 && rec.retryAt === undefined) {
            this.fail(`${rec.label} starts again though it is not waiting to retry`);
          }
          rec.announced++;
        }
        return;
      case "job:done":
      case "job:failed":
        this.#onOutcome(rec, type === "job:failed");
        return;
      case "job:retried":
        this.#onRetried(rec);
        return;
      case "job:skipped":
        this.#onSkipped(rec);
        return;
      default:
        this.#onCancelled(rec);
    }
  }

  /**
   * The attempt that just failed without settling: legitimate only as its
   * own timeout, at the very instant it expires.
   */
  #timedOutNow(rec: JobRecord): boolean {
    if (rec.settled !== undefined) return false;
    if (rec.timeout === null || this.now !== rec.attemptStartedAt + rec.timeout) {
      this.fail(`${rec.label} has an outcome before it settled`);
      return false;
    }
    rec.timedOut = true;
    rec.timedOutAttempts.add(rec.attempts);
    this.#timedOutContexts.push({ rec, context: rec.context });
    this.stats.timedOut++;
    return true;
  }

  #onRetried(rec: JobRecord): void {
    const owner = rec.owner;
    this.log(`job:retried ${rec.label} after attempt ${rec.attempts}`);
    if (!rec.invoked || rec.done || rec.cancelled || rec.retryAt !== undefined) {
      this.fail(`${rec.label} retried though it is not running`);
    }
    if (owner.status !== "running" || owner.endReason !== undefined) {
      this.fail(`${rec.label} retried after ${owner.label} met its end`);
    }
    if (!this.#timedOutNow(rec) && rec.settled?.ok !== false) {
      this.fail(`${rec.label} retried though its attempt did not fail`);
    }
    if (rec.attempts > rec.retries) {
      this.fail(`${rec.label} retried after ${rec.attempts} attempts, with ${rec.retries} retries`);
    }
    this.stats.retried++;
    rec.retryAt = this.now + rec.retryDelay * rec.retryFactor ** (rec.attempts - 1);
    rec.settled = undefined;
  }

  #onSkipped(rec: JobRecord): void {
    const owner = rec.owner;
    this.log(`job:skipped ${rec.label}`);
    if (owner.status !== "running" || owner.endReason !== undefined) {
      this.fail(`${rec.label} skipped while ${owner.label} is not running on`);
    }
    if (rec.invoked || rec.skipped)
      this.fail(`${rec.label} skipped though it started or was skipped`);
    if (rec.pendingReqs > 0) this.fail(`${rec.label} skipped before its requirements finished`);
    else if (ruleHolds(rec)) this.fail(`${rec.label} skipped though its rule ${rec.trigger} holds`);
    if (!rec.job.isSkipped()) this.fail(`${rec.label} does not read as skipped`);
    this.stats.skipped++;
    rec.skipped = true;
    rec.mustSkip = false;
    owner.ready.delete(rec);
    this.#finished(rec);
  }

  /** A job is done or skipped: its dependents may be free, and its scheduler may be over. */
  #finished(rec: JobRecord): void {
    const owner = rec.owner;
    owner.doneAll++;
    if (!rec.forever) owner.doneNonForever++;
    for (const next of rec.succs) {
      if (--next.pendingReqs === 0) this.#free(next);
    }
    if (rec.done && rec.failed && rec.critical) {
      this.endScheduler(owner, "critical", rec);
    } else if (
      owner.nonForever > 0
        ? owner.doneNonForever === owner.nonForever
        : owner.doneAll === owner.children.length
    ) {
      this.endScheduler(owner, "fine");
    }
  }

  /** Every requirement of `rec` has finished: it is ready if its rule holds, else it must be skipped. */
  #free(rec: JobRecord): void {
    if (ruleHolds(rec)) rec.owner.ready.add(rec);
    else rec.mustSkip = true;
  }

  #onOutcome(rec: JobRecord, failed: boolean): void {
    const owner = rec.owner;
    this.log(`${failed ? "job:failed" : "job:done"} ${rec.label}`);
    if (!rec.invoked) this.fail(`${rec.label} has an outcome but never started`);
    if (rec.done) this.fail(`${rec.label} has a second outcome`);
    if (rec.cancelled) this.fail(`the outcome of ${rec.label} counts though it was cancelled`);
    if (owner.status !== "running" || owner.endReason !== undefined) {
      this.fail(`the outcome of ${rec.label} counts after ${owner.label} met its end`);
    }
    if (this.#atDeadline(owner)) {
      this.fail(`the outcome of ${rec.label} counts at or after the deadline of ${owner.label}`);
    }
    if (rec.retryAt !== undefined) this.fail(`${rec.label} has an outcome while waiting to retry`);
    if (this.#timedOutNow(rec)) {
      const error = rec.job.raisedException();
      if (
        !failed ||
        !(error instanceof TimeoutError) ||
        !error.message.includes(`timed out after ${rec.timeout} ms`)
      ) {
        this.fail(`${rec.label} timed out but reads as ${failed ? show(error) : "done"}`);
      }
      rec.settled = { ok: false, value: error };
    }
    if (failed && rec.attempts <= rec.retries) {
      this.fail(
        `${rec.label} failed for good after ${rec.attempts} attempts, with ${rec.retries} retries`,
      );
    }
    const settled = rec.settled;
    if (settled === undefined) {
      // Reported by #timedOutNow.
    } else if (settled.ok === failed) {
      this.fail(
        `${rec.label} ${settled.ok ? "returned" : "threw"} but reads as ${failed ? "failed" : "done"}`,
      );
    } else if (failed && !Object.is(rec.job.raisedException(), settled.value)) {
      this.fail(`${rec.label}: raisedException() is not what it threw`);
    } else if (!failed && !Object.is(rec.job.result(), settled.value)) {
      this.fail(`${rec.label}: result() is not what it returned`);
    }
    if (rec.sched !== undefined && rec.sched.status !== "ended") {
      this.fail(`nested ${rec.label} has an outcome before it ended`);
    }
    rec.done = true;
    rec.failed = failed;
    this.#giveBack(rec);
    this.#finished(rec);
  }

  #onCancelled(rec: JobRecord): void {
    const owner = rec.owner;
    this.log(`job:cancelled ${rec.label}`);
    if (!rec.invoked || rec.done || rec.cancelled) {
      this.fail(`${rec.label} cancelled though it is not running`);
    }
    if (owner.endReason === undefined) this.#explainEnd(owner);
    if (owner.endReason === undefined)
      this.fail(`${rec.label} cancelled while ${owner.label} runs on`);
    rec.cancelled = true;
    rec.retryAt = undefined;
    this.#giveBack(rec);
    if (!rec.job.isCancelled() || rec.job.isDone()) {
      this.fail(`${rec.label} does not read as cancelled`);
    }
  }

  /** An end nothing explained yet can only be a deadline: the outermost scheduler whose deadline is now. */
  #explainEnd(sched: SchedulerRecord): void {
    const chain: SchedulerRecord[] = [];
    for (let at: SchedulerRecord | undefined = sched; at; at = at.parent) chain.unshift(at);
    for (const at of chain) {
      if (at.status === "running" && at.endReason === undefined && at.deadline === this.now) {
        this.endScheduler(at, "timeout");
        return;
      }
    }
  }

  onSchedulerEvent(type: string, event: SchedulerEvent): void {
    const sched = this.world.byScheduler.get(event.scheduler);
    if (sched === undefined) {
      this.fail(`${type} for a scheduler that is not in the case`);
      return;
    }
    this.log(`${type} ${sched.label}${event.ok === undefined ? "" : ` ok=${event.ok}`}`);
    if (type === "scheduler:started") this.#onStarted(sched);
    else if (type === "scheduler:ended") this.#onEnded(sched, event.ok === true);
    else {
      if (sched.status !== "ended") this.fail(`${sched.label} shuts down before it ended`);
      if (sched.shutdownEventOk !== undefined) this.fail(`${sched.label} shuts down twice`);
      sched.shutdownEventOk = event.ok === true;
    }
  }

  #onStarted(sched: SchedulerRecord): void {
    if (sched.rec === undefined) {
      if (!this.topStartExpected) this.fail(`${sched.label} started on its own`);
      this.topStartExpected = false;
    } else if (!sched.rec.invoked) {
      this.fail(`${sched.label} started though its parent did not start it`);
    }
    if (sched.status !== "idle") this.fail(`${sched.label} started twice`);
    sched.status = "running";
    sched.startedAt = this.now;
    sched.deadline = sched.timeout === null ? undefined : this.now + sched.timeout;
    for (const child of sched.children) {
      if (child.pendingReqs === 0) this.#free(child);
    }
    if (sched.children.length === 0) this.endScheduler(sched, "fine");
  }

  #onEnded(sched: SchedulerRecord, ok: boolean): void {
    if (sched.status !== "running") this.fail(`${sched.label} ended while ${sched.status}`);
    if (sched.endReason === undefined) this.#explainEnd(sched);
    const reason = sched.endReason;
    if (reason === undefined) {
      this.fail(`${sched.label} ended for no reason`);
    } else {
      const scheduler = sched.scheduler;
      if (ok !== (reason === "fine")) this.fail(`${sched.label} ended (${reason}) with ok=${ok}`);
      if (scheduler.failedCritical() !== (reason === "critical")) {
        this.fail(
          `${sched.label} ended (${reason}) but failedCritical() is ${scheduler.failedCritical()}`,
        );
      }
      if (scheduler.failedTimeOut() !== (reason === "timeout")) {
        this.fail(
          `${sched.label} ended (${reason}) but failedTimeOut() is ${scheduler.failedTimeOut()}`,
        );
      }
      const why = scheduler.why();
      const expected =
        reason === "fine"
          ? "FINE"
          : reason === "critical"
            ? "a CRITICAL job has raised an exception"
            : reason === "timeout"
              ? `TIMED OUT after ${sched.timeout} ms`
              : sched.rec === undefined
                ? `ABORTED: ${abortText(this.abortReason)}`
                : undefined;
      if (expected !== undefined ? why !== expected : !why.startsWith("ABORTED: ")) {
        this.fail(`${sched.label} ended (${reason}) but why() is ${JSON.stringify(why)}`);
      }
    }
    for (const child of sched.children) {
      if (child.invoked && !child.done && !child.cancelled) {
        this.fail(`${child.label} still runs after ${sched.label} ended`);
      }
    }
    sched.status = "ended";
    sched.endedAt = this.now;
  }

  /** The model decides that `sched` must end now; its running nested schedulers are aborted with it. */
  endScheduler(sched: SchedulerRecord, reason: EndReason, culprit?: JobRecord): void {
    if (sched.endReason !== undefined) return;
    this.log(`model: ${sched.label} must end (${reason}${culprit ? ` by ${culprit.label}` : ""})`);
    sched.endReason = reason;
    sched.culprit = culprit;
    for (const child of sched.children) {
      const nested = child.sched;
      if (child.invoked && !child.done && nested !== undefined && nested.status === "running") {
        this.endScheduler(nested, "aborted");
      }
    }
  }

  /** The caller's signal is about to abort. */
  onAbort(): void {
    const top = this.world.top;
    this.log("abort");
    if (top.status === "running") this.endScheduler(top, "aborted");
  }

  /** Between two timers: everything the rules oblige to happen at this instant has happened. */
  quiescent(): void {
    for (const sched of this.world.schedulers) {
      if (sched.status === "running" && sched.endReason !== undefined) {
        this.fail(`${sched.label} met its end (${sched.endReason}) but did not end`);
      }
      if (sched.status !== "running" || sched.endReason !== undefined) continue;
      this.#checkIdleSlots(sched);
      for (const child of sched.children) {
        if (child.mustSkip)
          this.fail(`${child.label}: its rule ${child.trigger} fails, yet it is not skipped`);
        if (child.retryAt !== undefined && this.now > child.retryAt) {
          this.fail(`${child.label}: attempt ${child.attempts + 1} was due at ${child.retryAt}`);
        }
        const deadline =
          child.timeout === null ? undefined : child.attemptStartedAt + child.timeout;
        const runningAttempt =
          child.invoked && !child.done && !child.cancelled && child.retryAt === undefined;
        if (runningAttempt && deadline !== undefined && this.now > deadline) {
          this.fail(`${child.label} runs on past its own timeout (${deadline})`);
        }
      }
      if (sched.deadline !== undefined && this.now > sched.deadline) {
        this.fail(`${sched.label} still runs after its deadline ${sched.deadline}`);
      }
    }
    for (const { rec, context } of this.#timedOutContexts) {
      const signal = context?.signal;
      if (signal !== undefined && !(signal.aborted && signal.reason instanceof TimeoutError)) {
        this.fail(`${rec.label} timed out, but its signal is not aborted with a TimeoutError`);
      }
    }
    this.#timedOutContexts = [];
    if (this.world.top.status === "ended" && !this.topSettled) {
      this.fail("run() did not settle once the scheduler ended and its jobs were shut down");
    }
  }

  /**
   * A slot must not stay idle while a job is ready: if every ready job fits
   * in the room left in the window, none may wait unless its pool is full.
   * (The window is served in order, so a ready job that does not fit may
   * hold up lighter ones behind it: then nothing is required.)
   */
  #checkIdleSlots(sched: SchedulerRecord): void {
    if (sched.ready.size === 0) return;
    let heaviest = 0;
    let startable: JobRecord | undefined;
    for (const rec of sched.ready) {
      heaviest = Math.max(heaviest, rec.weight);
      const pool = rec.pool;
      if (startable === undefined && (pool === undefined || pool.used + rec.weight <= pool.limit)) {
        startable = rec;
      }
    }
    if (startable !== undefined && sched.used + heaviest <= sched.window) {
      this.fail(
        `${sched.label} holds ${sched.used} slot(s) (window ${sched.window}) while ${startable.label} is ready`,
      );
    }
  }

  /** No timer is left and the run goes on: only legitimate if nothing can move any more. */
  checkStuck(): void {
    for (const sched of this.world.schedulers) {
      if (sched.status === "running" && sched.deadline !== undefined) {
        this.fail(`${sched.label} has a timeout, yet no timer is pending`);
      }
    }
  }

  /** After the run and every late settlement: each job is done, cancelled or never started, as the model says. */
  finalChecks(): void {
    for (const sched of this.world.schedulers) {
      const scheduler = sched.scheduler;
      if (sched.status === "running") this.fail(`${sched.label} still runs after the run settled`);
      if (sched.status === "idle") {
        if (sched.rec?.invoked) this.fail(`${sched.label} was started but never ran`);
        if (scheduler.why() !== "FINE" || scheduler.failedCritical() || scheduler.failedTimeOut()) {
          this.fail(`${sched.label} did not run, yet why() is ${JSON.stringify(scheduler.why())}`);
        }
      }
      for (const child of sched.children) {
        const job = child.job;
        const states = `done=${job.isDone()} cancelled=${job.isCancelled()} running=${job.isRunning()}`;
        if (job.isDone() && !job.isRunning()) this.fail(`${child.label}: done but not running`);
        if (job.isRunning() && !job.isScheduled())
          this.fail(`${child.label}: running but not scheduled`);
        if (job.isSkipped() !== child.skipped) {
          this.fail(`${child.label}: isSkipped() is ${job.isSkipped()}, skipped=${child.skipped}`);
        }
        if (child.sched === undefined && job.attempts() !== child.attempts) {
          this.fail(`${child.label}: attempts() is ${job.attempts()}, it made ${child.attempts}`);
        }
        if (child.skipped) {
          if (job.isRunning() || job.isDone() || job.isCancelled() || job.isScheduled()) {
            this.fail(`${child.label} was skipped but reads as ${states}`);
          }
        } else if (child.done) {
          if (!job.isDone() || job.isCancelled())
            this.fail(`${child.label} should read as done: ${states}`);
          const settled = child.settled;
          const seen = !job.isDone()
            ? undefined
            : settled?.ok
              ? job.result()
              : job.raisedException();
          if (!Object.is(seen, settled?.value))
            this.fail(`${child.label}: its outcome changed later`);
        } else if (child.cancelled) {
          if (!job.isCancelled() || job.isDone() || !job.isRunning()) {
            this.fail(`${child.label} should read as cancelled: ${states}`);
          }
        } else if (child.invoked) {
          this.fail(`${child.label} started but neither finished nor was cancelled`);
        } else {
          if (job.isRunning() || job.isDone() || job.isCancelled()) {
            this.fail(`${child.label} never started but reads as ${states}`);
          }
          if (child.pendingReqs > 0 && !job.isIdle()) {
            this.fail(`${child.label} has requirements not done but is not idle`);
          }
        }
        if (child.shutdownKind !== "none" && child.shutdownCalls !== 1) {
          this.fail(`${child.label}: shutdown() called ${child.shutdownCalls} times`);
        }
        if (child.sched !== undefined && child.shutdownAnswer !== expectedShutdown(child.sched)) {
          this.fail(`${child.label}: shutdown() answered ${String(child.shutdownAnswer)}`);
        }
      }
      if (sched.endReason === "fine") {
        for (const child of sched.children) {
          if (!child.forever && !child.done && !child.skipped) {
            this.fail(`${sched.label} ended fine but ${child.label} is not done`);
          }
        }
      }
      if (sched.status === "ended" && sched.shutdownEventOk !== expectedShutdown(sched)) {
        this.fail(
          `${sched.label}: its shutdown phase reported ok=${String(sched.shutdownEventOk)}`,
        );
      }
    }
  }
}

/** Whether every shutdown under `sched` completes fine (none throws, rejects or answers false). */
export function expectedShutdown(sched: SchedulerRecord): boolean {
  return sched.children.every((child) =>
    child.sched !== undefined ? expectedShutdown(child.sched) : SHUTDOWN_OK.has(child.shutdownKind),
  );
}

// ---------------------------------------------------------------- running a case

/** What one scheduler did in a run (virtual times). */
export interface SchedulerReport {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly maxRunning: number;
  readonly endReason: EndReason | undefined;
  readonly status: string;
}

/** What a run looked like, for properties that predict more than the referee. */
export interface RunReport {
  readonly endReason: EndReason | undefined;
  /** Skips, retries, per-job timeouts and full pools seen in the run. */
  readonly stats: Readonly<Referee["stats"]>;
  /** By label: `top`, then the path of indices (`3`, `3.1`, ...). */
  readonly schedulers: ReadonlyMap<string, SchedulerReport>;
}

class Violation extends Error {
  override name = "SchedulingViolation";
}

function check(referee: Referee, when: string): void {
  if (referee.violations.length === 0) return;
  throw new Violation(
    `${when}:\n  ${referee.violations.join("\n  ")}\nrecent events:\n  ${referee.trace.slice(-60).join("\n  ")}`,
  );
}

async function runOnce(world: World, index: number): Promise<RunReport> {
  const clock = world.clock;
  world.runIndex = index;
  const abortReason = index % 2 === 0 ? new Error(`stop #${index}`) : `stop #${index}`;
  const referee = new Referee(world, abortReason);
  world.referee = referee;
  const controller = new AbortController();
  const abortAt = world.spec.aborts[index] ?? null;
  const abortTimer =
    abortAt === null
      ? undefined
      : clock.schedule(abortAt, () => {
          referee.onAbort();
          controller.abort(abortReason);
        });
  const settled: { outcome?: { ok: boolean; value: unknown } } = {};
  referee.topStartExpected = true;
  const top = world.top;
  top.scheduler.run({ signal: controller.signal }).then(
    (value) => {
      settled.outcome = { ok: true, value };
      referee.topSettled = true;
    },
    (error: unknown) => {
      settled.outcome = { ok: false, value: error };
      referee.topSettled = true;
    },
  );
  let outcome: { ok: boolean; value: unknown };
  for (;;) {
    await drain();
    referee.quiescent();
    check(referee, `run #${index}`);
    if (settled.outcome !== undefined) {
      outcome = settled.outcome;
      break;
    }
    if (!clock.pending) {
      // Nothing can move any more (a job that never settles, say): legitimate
      // only if no deadline is pending; end it through the signal.
      referee.checkStuck();
      check(referee, `run #${index} is stuck`);
      referee.onAbort();
      controller.abort(abortReason);
      continue;
    }
    clock.fireNext();
  }
  if (clock.liveEngineTimers !== 0) {
    referee.fail(`${clock.liveEngineTimers} timer(s) of the scheduler remain after the run`);
  }
  referee.checkRunOutcome(top, outcome.ok, outcome.value);
  check(referee, `run #${index} outcome`);
  if (abortTimer !== undefined) clock.cancel(abortTimer);
  // Jobs that ignored their signal settle now; none of it may count.
  while (clock.pending) {
    clock.fireNext();
    await drain();
    referee.quiescent();
    check(referee, `run #${index}, late settlements`);
  }
  referee.finalChecks();
  const calls = world.jobs.map((rec) => rec.shutdownCalls);
  const answer = await top.scheduler.shutdown();
  await drain();
  if (answer !== expectedShutdown(top)) referee.fail(`shutdown() answered ${answer}`);
  if (world.jobs.some((rec, at) => rec.shutdownCalls !== calls[at])) {
    referee.fail("a later shutdown() shut jobs down again");
  }
  check(referee, `run #${index}, final state`);
  const schedulers = new Map<string, SchedulerReport>();
  for (const sched of world.schedulers) {
    schedulers.set(sched.label, {
      startedAt: sched.startedAt,
      endedAt: sched.endedAt,
      maxRunning: sched.maxRunning,
      endReason: sched.endReason,
      status: sched.status,
    });
  }
  return { endReason: top.endReason, stats: referee.stats, schedulers };
}

/**
 * Builds the case, runs it once per entry of `spec.aborts` on a virtual
 * clock, and throws on the first difference from the model, on an unhandled
 * rejection, or on a timer left behind.
 */
export async function runCase(spec: CaseSpec): Promise<RunReport[]> {
  const world = new World(spec);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on("unhandledRejection", onUnhandled);
  const uninstall = world.clock.install();
  const reports: RunReport[] = [];
  try {
    for (let index = 0; index < spec.aborts.length; index++) {
      reports.push(await runOnce(world, index));
    }
  } finally {
    uninstall();
    await drain();
    process.off("unhandledRejection", onUnhandled);
  }
  if (unhandled.length > 0) {
    throw new Violation(`unhandled rejection(s): ${unhandled.map(show).join(", ")}`);
  }
  return reports;
}
