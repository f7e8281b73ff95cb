/**
 * One run of one scheduler: the heart of the engine.
 *
 * Before the run, the graph is laid out in flat typed arrays indexed by the
 * jobs' positions (each job's count of pending requirements, and the list of
 * its successors), so a job becomes ready in O(1) when its last requirement
 * finishes, and the run allocates no per-job arrays. Ready jobs wait in a
 * FIFO queue of indices for a slot in the window. Nothing rescans all jobs:
 * a run that starts with jobs fresh from their builder does not reset them,
 * a graph built in order is not checked for cycles, and the end of a run
 * looks only at the jobs it started, and only if some still run. Jobs are
 * started in bursts (bursts.ts), so that a million ready jobs are not all
 * alive at once.
 *
 * Each started job costs one context object and one promise reaction whose
 * two handlers are bound to that context: no async frame and no closure per
 * job (see bench/NOTES.md for what each of those cost). A job whose run was
 * cancelled, or whose run belongs to an earlier orchestration, is ignored
 * when it settles late.
 */
import {
  type AbstractJob,
  applyDeferredSettings,
  FOREVER_BIT,
  inStandaloneRun,
  isScheduler,
  nameOf,
  RAISED_BIT,
  standaloneRuns,
} from "../jobs/abstract-job.js";
import { CANCELLED, FIRST_FREE_FLAG, RunContext } from "../jobs/context.js";
import type { JobExtras } from "../jobs/extras.js";
import { forEachRequirement } from "../jobs/requirements.js";
import { retryDelay, shouldRetry } from "../jobs/retry.js";
import { DONE, IDLE, RUNNING, SCHEDULED, SKIPPED } from "../jobs/state.js";
import { type TriggerRule, triggerAllows } from "../jobs/trigger.js";
import { withBit } from "../util/bits.js";
import { CancelledError, TimeoutError } from "../util/errors.js";
import { MAX_TIMER_MS } from "../util/options.js";
import { budget, freshBudget, type Resumable, waitForNextBurst } from "./bursts.js";
import { anyoneListens, emitJobEvent, emitSchedulerEvent, listenerAdditions } from "./events.js";
import { cycleError, describeScheduler, findCycle } from "./graph.js";
import { PoolState } from "./pools.js";
import type { PureScheduler, RunStatus } from "./pure-scheduler.js";
import { shutdownJobs } from "./shutdown.js";

/**
 * A scheduler's graph laid out for one run. Job `k` is `jobs[k]`; it waits
 * for `pending[k]` requirements, and the jobs that require it are
 * `successors[successorStart[k] .. successorStart[k + 1])`. `queue` is room
 * for the run's queue of ready jobs; `nested` lists the schedulers among the
 * jobs; `version` is the scheduler's graph version it was made from.
 */
export interface PreparedGraph {
  readonly jobs: AbstractJob[];
  readonly nested: PureScheduler[];
  /** Whether some job has options beyond the original's (see extras.ts), to check at the start. */
  readonly withExtras: boolean;
  /** How many jobs are not forever (the `forever` setter bumps the graph version). */
  readonly nonForever: number;
  /** The jobs whose shutdown() does something, called when the run ends. */
  readonly withShutdown: AbstractJob[];
  readonly pending: Int32Array;
  readonly successorStart: Int32Array;
  readonly successors: Int32Array;
  readonly queue: Int32Array;
  readonly version: number;
  /** Whether the jobs were put back to idle since it was made (by the enclosing run's start). */
  jobsReset: boolean;
}

/**
 * Validates the graph of `scheduler` for a run and lays it out (see
 * {@link PreparedGraph}). Throws (before anything starts) on a requirement
 * outside the scheduler, on a cycle, or when no job is free to start.
 *
 * The typed arrays cost 4 bytes per job or requirement each, and they are
 * reused where they can be (fresh memory is a large part of a big run's
 * cost): the buffer of the successor fill serves as the counters of the
 * cycle check, and that of the check's order as the run's queue.
 */
function prepareGraph(root: PureScheduler): PreparedGraph {
  // Nested graphs are validated (and laid out for their own runs) before
  // the graph holding them is checked, so that their errors come first: a
  // walk of the tree of schedulers, children first, with a stack of its own
  // rather than recursion, so that deep nesting does not overflow the call
  // stack.
  const stack: [GraphCount, number][] = [[countGraph(root), 0]];
  for (;;) {
    const top = stack[stack.length - 1]!;
    const [counted, next] = top;
    if (next < counted.nested.length) {
      top[1] = next + 1;
      stack.push([countGraph(counted.nested[next]!), 0]);
      continue;
    }
    stack.pop();
    const graph = completeGraph(counted);
    if (stack.length === 0) return graph;
    counted.scheduler._prepared = graph;
  }
}

/** What the first walk over a scheduler's jobs finds (see {@link prepareGraph}). */
class GraphCount {
  readonly jobs: AbstractJob[];
  readonly pending: Int32Array;
  /** Each job's count of successors, one slot ahead, for the prefix sum of completeGraph(). */
  readonly successorStart: Int32Array;
  readonly nested: PureScheduler[] = [];
  readonly withShutdown: AbstractJob[] = [];
  withExtras = false;
  nonForever = 0;
  /**
   * Whether every job comes after all its requirements, as when a graph is
   * built in order: then there is no cycle, and no check for one.
   */
  ordered = true;
  /** A requirement outside the scheduler, reported once the nested graphs have had their say. */
  strayJob: AbstractJob | undefined = undefined;
  strayRequirement: AbstractJob | undefined = undefined;

  constructor(readonly scheduler: PureScheduler) {
    // The members' own array: each job's _index is already its position.
    this.jobs = scheduler._members.list;
    this.pending = new Int32Array(this.jobs.length);
    this.successorStart = new Int32Array(this.jobs.length + 1);
  }
}

/** The first walk of {@link prepareGraph}: counts requirements and successors, finds nested schedulers. */
function countGraph(scheduler: PureScheduler): GraphCount {
  const counted = new GraphCount(scheduler);
  counted.nonForever = countJobs(counted);
  return counted;
}

/*
 * The loops that walk every job once per run live in functions of their
 * own, which end with the loop. The optimiser compiles such a loop while it
 * runs (on-stack replacement), and the compiled code is thrown away, at a
 * cost of up to 2 ms and a return to the interpreter, at the first
 * statement after the loop that never ran before: with the loop inside
 * countGraph() or completeGraph(), that was the next line, on every big run.
 * Loops walk arrays by index: a for-of would allocate a result per element
 * in code that runs mostly before the optimiser steps in.
 */

/** countGraph()'s walk: everything the run needs to know of each job. Answers how many are not forever. */
function countJobs(counted: GraphCount): number {
  const { scheduler, jobs, pending, successorStart, nested, withShutdown } = counted;
  let nonForever = 0;
  let current = 0;
  const count1 = (requirement: AbstractJob): void => {
    if (requirement._owner !== scheduler) {
      if (counted.strayJob === undefined) {
        counted.strayJob = jobs[current];
        counted.strayRequirement = requirement;
      }
      return;
    }
    const index = requirement._index;
    if (index >= current) counted.ordered = false;
    successorStart[index + 1]!++;
    pending[current]!++;
  };
  // One walk over them all: at a million jobs, each walk costs more than
  // the work done in it.
  for (current = 0; current < jobs.length; current++) {
    const job = jobs[current]!;
    if (job._required !== undefined) forEachRequirement(job, count1);
    if ((job._bits & FOREVER_BIT) === 0) nonForever++;
    if (job._extras !== undefined) counted.withExtras = true;
    if (job._hasShutdown()) {
      withShutdown.push(job);
      // Only nested schedulers say they have one whatever their jobs.
      if (isScheduler(job)) nested.push(job);
    }
  }
  return nonForever;
}

/** Turns counts, each one slot ahead of its job, into where each job's successors start. */
function accumulate(counts: Int32Array): void {
  for (let k = 1; k < counts.length; k++) counts[k]! += counts[k - 1]!;
}

/** Lists each job among the successors of its requirements, at `filled[requirement]` (advanced). */
function fillSuccessors(
  jobs: readonly AbstractJob[],
  pending: Int32Array,
  successors: Int32Array,
  filled: Int32Array,
): void {
  let current = 0;
  const fill = (requirement: AbstractJob): void => {
    successors[filled[requirement._index]!++] = current;
  };
  // Jobs that require nothing (most, in many graphs) are not visited again.
  for (current = 0; current < jobs.length; current++) {
    if (pending[current] !== 0) forEachRequirement(jobs[current]!, fill);
  }
}

/** The rest of {@link prepareGraph}, once the nested graphs are done: checks, and lays out the successors. */
function completeGraph(counted: GraphCount): PreparedGraph {
  const {
    scheduler,
    jobs,
    pending,
    successorStart,
    nested,
    withShutdown,
    withExtras,
    nonForever,
    ordered,
    strayJob,
    strayRequirement,
  } = counted;
  const count = jobs.length;
  if (strayJob !== undefined) {
    throw new Error(
      `scheduler ${describeScheduler(scheduler)}: job ${nameOf(strayJob)} requires ${nameOf(strayRequirement!)}, which is not in this scheduler; ` +
        "add it, or call sanitize() to drop such requirements",
    );
  }
  accumulate(successorStart);
  const successors = new Int32Array(successorStart[count]!);
  const filled = successorStart.slice(0, count);
  fillSuccessors(jobs, pending, successors, filled);
  const queue = new Int32Array(count);
  // In order, or without requirements, there is no cycle, and the first
  // job is free to start.
  if (!ordered) {
    checkStartable(scheduler, jobs, pending, successorStart, successors, filled, queue);
  }
  const version = scheduler._graphVersion;
  return {
    jobs,
    nested,
    withExtras,
    nonForever,
    withShutdown,
    pending,
    successorStart,
    successors,
    queue,
    version,
    jobsReset: false,
  };
}

/**
 * Kahn's walk over a copy of the counters (in `left`, with `order` for room):
 * throws unless every job can eventually start.
 */
function checkStartable(
  scheduler: PureScheduler,
  jobs: readonly AbstractJob[],
  pending: Int32Array,
  successorStart: Int32Array,
  successors: Int32Array,
  left: Int32Array,
  order: Int32Array,
): void {
  const count = jobs.length;
  left.set(pending);
  let tail = 0;
  for (let k = 0; k < count; k++) {
    if (left[k] === 0) order[tail++] = k;
  }
  const where = `scheduler ${describeScheduler(scheduler)}`;
  if (count > 0 && tail === 0) {
    throw new Error(
      `${where}: no job is free to start (every job requires another); ${cycleError(
        "",
        findCycle(jobs, () => true),
      ).message.slice(2)}`,
    );
  }
  for (let head = 0; head < tail; head++) {
    const k = order[head]!;
    for (let e = successorStart[k]!; e < successorStart[k + 1]!; e++) {
      const next = successors[e]!;
      if (--left[next]! === 0) order[tail++] = next;
    }
  }
  if (tail < count) {
    const isBlocked = (job: AbstractJob): boolean => left[job._index]! > 0;
    throw cycleError(where, findCycle(jobs.filter(isBlocked), isBlocked));
  }
}

/** Drops the layouts kept for schedulers that did not get to run, at every depth. */
function dropLayouts(schedulers: readonly PureScheduler[]): void {
  // With a stack of its own rather than recursion: nesting may be deep.
  const stack = schedulers.slice();
  while (stack.length > 0) {
    const scheduler = stack.pop()!;
    const graph = scheduler._prepared;
    scheduler._prepared = undefined;
    if (graph !== undefined) stack.push(...graph.nested);
  }
}

/** Runs `scheduler` once; resolves true on success. Validation errors reject. */
export function orchestrate(
  scheduler: PureScheduler,
  signal?: AbortSignal | RunContext,
): Promise<boolean> {
  // The layout made when an enclosing scheduler validated this one, unless
  // the graph changed since (add, remove, requires bump its version).
  if (standaloneRuns.count > 0) refuseStandaloneRuns(scheduler);
  const prepared = scheduler._prepared;
  scheduler._prepared = undefined;
  if (prepared !== undefined && prepared.version === scheduler._graphVersion) {
    return new Orchestration(scheduler, prepared, signal).start(!prepared.jobsReset);
  }
  return new Orchestration(scheduler, prepareGraph(scheduler), signal).start(true);
}

/** A job in a standalone run would run twice at once: refused before anything starts. */
function refuseStandaloneRuns(scheduler: PureScheduler): void {
  const jobs = scheduler._members.list;
  for (let k = 0; k < jobs.length; k++) {
    if (inStandaloneRun(jobs[k]!)) {
      throw new Error(
        `scheduler ${describeScheduler(scheduler)}: job ${nameOf(jobs[k]!)} is in a standalone run; wait for it to settle`,
      );
    }
  }
}

const NO_LIMIT = Number.POSITIVE_INFINITY;

/** How many runs are ending on the current stack (see #onContextAbort). */
let finishing = 0;
const FINISHES_PER_STACK = 64;
/** Ends of nested runs put off until the outermost end on the stack is done. */
const laterFinishes: (() => void)[] = [];
/** Shutdowns of the runs that ended, started once no run is ending any more. */
const laterShutdowns: (() => void)[] = [];

/**
 * Once the outermost end on the stack is done: the ends of nested runs put
 * off by #onContextAbort, a stack's worth at a time, then the shutdowns of
 * every run that ended, in the order they ended. Walked by index (and
 * emptied at the end): shift() would move every element each time.
 */
function drainLater(): void {
  // The calls below end runs too, which would drain again from within.
  if (draining) return;
  draining = true;
  try {
    // Both lists grow while they are walked: each end may put off deeper ones.
    let finished = 0;
    let shutDown = 0;
    while (finished < laterFinishes.length || shutDown < laterShutdowns.length) {
      if (finished < laterFinishes.length) laterFinishes[finished++]!();
      else laterShutdowns[shutDown++]!();
    }
  } finally {
    laterFinishes.length = 0;
    laterShutdowns.length = 0;
    draining = false;
  }
}
let draining = false;

const RELEASED = FIRST_FREE_FLAG;
const SETTLED = FIRST_FREE_FLAG << 1;

/**
 * The context of one job in one orchestration: what the job is handed, and
 * what its outcome handlers are bound to.
 */
class JobRun extends RunContext {
  declare readonly orchestration: Orchestration;

  constructor(orchestration: Orchestration, job: AbstractJob, released: boolean) {
    super(job);
    this.orchestration = orchestration;
    // Written a second time on purpose: V8 takes a field stored once per
    // object for a constant, and the first settle() would then throw away
    // the optimised code that starts jobs, in the middle of a big run.
    this._flags = released ? RELEASED : 0;
  }

  /**
   * The job's position in the run's arrays. Kept on the job rather than
   * here (a context exists per started job): nothing lays its scheduler's
   * graph out again while the scheduler runs.
   */
  get index(): number {
    return this._job!._index;
  }

  /** Its dependents were released early by ready(), so not again when it ends. */
  get _released(): boolean {
    return (this._flags & RELEASED) !== 0;
  }
  set _released(value: boolean) {
    this._flags = withBit(this._flags, RELEASED, value);
  }

  /** Its outcome is in; a later one (after its own timeout) is ignored. */
  get _settled(): boolean {
    return (this._flags & SETTLED) !== 0;
  }

  override _ready(): void {
    this.orchestration.ready(this);
  }
}

// The outcome handlers, bound to each job's JobRun: a bound function is
// smaller than a closure with its context, and an async frame is larger still.
function jobFulfilled(this: JobRun, value: unknown): void {
  this.orchestration.settle(this, false, value);
}
function jobRejected(this: JobRun, error: unknown): void {
  this.orchestration.settle(this, true, error);
}
function jobTimedOut(run: JobRun): void {
  run.orchestration.timedOut(run);
}
function retryNow(run: JobRun): void {
  run.orchestration.retry(run);
}
/**
 * Waits `delay` ms, then starts the next attempt. A timer fires a delay
 * beyond {@link MAX_TIMER_MS} after 1 ms, so a longer wait (backoff grows
 * without bound when `maxDelay` is not set) is made of several timers, each
 * kept in `run._timer` so that the end of the run clears the current one.
 */
function retryAfter(run: JobRun, delay: number): void {
  run._timer =
    delay > MAX_TIMER_MS
      ? setTimeout(retryAfter, MAX_TIMER_MS, run, delay - MAX_TIMER_MS)
      : setTimeout(retryNow, delay, run);
}
/** What {@link Orchestration.settle} hears from a job with extras that retries. */
const RETRYING: unique symbol = Symbol("retrying");
/** Starts the timer of a job's own timeout, if it has one (out of line: most jobs have none). */
function startTimer(run: JobRun, extras: JobExtras): void {
  const timeout = extras.timeout;
  if (timeout !== undefined && timeout !== null) {
    run._timer = setTimeout(jobTimedOut, timeout, run);
  }
}

/** Whether `job`'s trigger rule holds, given how its (finished) requirements ended. */
function triggerMet(job: AbstractJob, rule: TriggerRule): boolean {
  let failed = 0;
  let skipped = 0;
  forEachRequirement(job, (requirement) => {
    if (requirement._state === SKIPPED) skipped++;
    else if (requirement._state === DONE && requirement._raised) failed++;
  });
  return triggerAllows(rule, failed, skipped);
}

class Orchestration implements Resumable {
  readonly #scheduler: PureScheduler;
  readonly #jobs: AbstractJob[];
  readonly #withShutdown: AbstractJob[];
  readonly #nested: PureScheduler[];
  readonly #pending: Int32Array;
  readonly #successorStart: Int32Array;
  readonly #successors: Int32Array;
  readonly #window: number;
  readonly #signal: AbortSignal | undefined;
  /** The context of this scheduler as a job of its parent, which cancels it through it. */
  readonly #context: RunContext | undefined;
  /** Indices of the jobs made ready, in order; each job enters at most once per run. */
  readonly #queue: Int32Array;
  #head = 0;
  #tail = 0;
  #running = 0;
  /** Window slots held: the running jobs' weights (1 each unless told otherwise). */
  #used = 0;
  /** Jobs back from waiting on a pool, started before the queue. */
  readonly #parked: number[] = [];
  /** The pool of each job that names one (none in most runs). */
  readonly #poolOf: Map<AbstractJob, PoolState> | undefined;
  /** The pools this scheduler declares, live while it runs. */
  readonly #ownPools: Map<string, PoolState> | undefined;
  #waitingInPools = 0;
  /** Jobs whose trigger rule failed, skipped one at a time (a chain of skips must not recurse). */
  readonly #skips: number[] = [];
  #skipping = false;
  #remaining = 0;
  readonly #nonForever: number;
  #pumping = false;
  /** Whether this run waits for the next burst to start more jobs (see bursts.ts). */
  #yielding = false;
  #finished = false;
  /** See #mayHear(): its answer, and the count of listener additions it was found at. */
  #heard = false;
  #heardAt = -1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolve: (ok: boolean) => void = () => {};
  #reject: (error: unknown) => void = () => {};
  /** The first error an event listener threw during this run, boxed: run() rejects with it. */
  #listenerError: { error: unknown } | undefined;
  #onAbort = (): void => {
    this.#finish("aborted", undefined, this.#signal?.reason);
  };
  #onContextAbort = (reason: unknown): void => {
    // Cancelled by its parent's end, which is cancelling its jobs: deep
    // nesting would make one call stack of those ends, so past a depth
    // this end waits until the outermost is done (in the same turn).
    if (finishing >= FINISHES_PER_STACK) {
      laterFinishes.push(() => this.#finish("aborted", undefined, reason));
    } else {
      this.#finish("aborted", undefined, reason);
    }
  };

  constructor(
    scheduler: PureScheduler,
    graph: PreparedGraph,
    signal: AbortSignal | RunContext | undefined,
  ) {
    this.#scheduler = scheduler;
    this.#jobs = graph.jobs;
    this.#withShutdown = graph.withShutdown;
    this.#nonForever = graph.nonForever;
    this.#nested = graph.nested;
    this.#pending = graph.pending;
    this.#successorStart = graph.successorStart;
    this.#successors = graph.successors;
    this.#queue = graph.queue;
    this.#window = scheduler.jobsWindow ? scheduler.jobsWindow : NO_LIMIT;
    // A nested scheduler is handed its parent's context: it listens to it
    // directly, which costs neither an AbortController nor an event listener.
    this.#context = signal instanceof RunContext ? signal : undefined;
    this.#signal = signal instanceof RunContext ? undefined : signal;
    const declared = scheduler._pools;
    this.#ownPools =
      declared === undefined
        ? undefined
        : new Map(
            Object.entries(declared).map(([name, limit]) => [name, new PoolState(name, limit)]),
          );
    // Most runs have no job with extras: no walk over every job for them.
    this.#poolOf = graph.withExtras ? this.#checkExtras() : undefined;
  }

  /**
   * Checks the jobs' weights against the window and finds their pools,
   * before anything starts; returns the pools by job, if any job has one.
   */
  #checkExtras(): Map<AbstractJob, PoolState> | undefined {
    let pools: Map<AbstractJob, PoolState> | undefined;
    const where = `scheduler ${describeScheduler(this.#scheduler)}`;
    // By index: this runs once per run, before the optimiser steps in, and a
    // for-of would then allocate a result per job.
    const jobs = this.#jobs;
    for (let k = 0; k < jobs.length; k++) {
      const job = jobs[k]!;
      const extras = job._extras;
      if (extras === undefined) continue;
      if (extras.weight > this.#window) {
        throw new RangeError(
          `${where}: job ${nameOf(job)} has weight ${extras.weight}, more than jobsWindow ${this.#window}: it could never start`,
        );
      }
      if (extras.pool === undefined) continue;
      const pool = this.#findPool(extras.pool);
      if (pool === undefined) {
        throw new Error(
          `${where}: job ${nameOf(job)} uses pool "${extras.pool}", which neither this scheduler nor an enclosing running one declares (option "pools")`,
        );
      }
      if (extras.weight > pool.limit) {
        throw new RangeError(
          `${where}: job ${nameOf(job)} has weight ${extras.weight}, more than the limit ${pool.limit} of pool "${pool.name}": it could never start`,
        );
      }
      const held = this.#heldByEnclosing(pool);
      if (held > 0 && extras.weight > pool.limit - held) {
        throw new RangeError(
          `${where}: job ${nameOf(job)} has weight ${extras.weight}, but pool "${pool.name}" has ${pool.limit} slots and ` +
            `the enclosing scheduler(s) in the same pool hold ${held} of them while it waits: it could never start`,
        );
      }
      if (pools === undefined) pools = new Map();
      pools.set(job, pool);
    }
    return pools;
  }

  /** The pool named `name`: this scheduler's own, else that of the nearest enclosing running one. */
  #findPool(name: string): PoolState | undefined {
    return this.#ownPools?.get(name) ?? poolAbove(this.#scheduler, name);
  }

  /**
   * The slots of `pool` that this scheduler and those enclosing it hold as
   * jobs of their parents while they run: a job of this run can never have
   * them, since they are given back only when this run is over.
   */
  #heldByEnclosing(pool: PoolState): number {
    let held = 0;
    let current: PureScheduler | undefined = this.#scheduler;
    for (; current; current = current._owner) {
      const extras = (current as Partial<AbstractJob>)._extras;
      if (extras?.pool === pool.name && poolAbove(current, pool.name) === pool) {
        held += extras.weight;
      }
    }
    return held;
  }

  /**
   * Starts the run. `reset`: put the jobs back to idle first (not needed
   * when an enclosing run has just done it, with its nested schedulers').
   */
  start(reset: boolean): Promise<boolean> {
    const scheduler = this.#scheduler;
    const promise = new Promise<boolean>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    scheduler._onListenerError = (error) => this.#listenerFailed(error);
    scheduler._status = "running";
    scheduler._timeoutUsed = scheduler.timeout;
    scheduler._culprit = undefined;
    scheduler._abortReason = undefined;
    scheduler._shutdownAnswer = undefined;
    if (reset) {
      // Jobs that never ran since they joined are idle already.
      if (!scheduler._jobsFresh) resetStates(this.#jobs);
      // A nested scheduler starts afresh too, even if it does not get to run
      // this time: otherwise its jobs would show the previous run, and its
      // shutdown() would answer from then without shutting them down again.
      const nested = this.#nested;
      for (let k = 0; k < nested.length; k++) resetNested(nested[k]!);
    }
    scheduler._jobsFresh = false;
    this.#remaining = this.#nonForever;
    scheduler._activePools = this.#ownPools;
    if (this.#mayHear()) emitSchedulerEvent(scheduler, "scheduler:started");
    // A listener of that event may have thrown, which ends the run.
    if (this.#finished) return promise;

    if (this.#signal?.aborted) {
      this.#finish("aborted", undefined, this.#signal.reason);
      return promise;
    }
    const context = this.#context;
    if (context?._aborted) {
      this.#finish("aborted", undefined, context._reason);
      return promise;
    }
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    if (context !== undefined) context._more().onAbort = this.#onContextAbort;
    // A nested run shares the bursts of the run it is part of.
    else freshBudget();
    const timeout = scheduler.timeout;
    if (timeout !== null) {
      this.#timer = setTimeout(() => this.#finish("timeout"), timeout);
    }
    if (this.#jobs.length === 0) {
      this.#finish("fine");
      return promise;
    }
    // Skips wait until every entry job has been found: a skipped job releases
    // its dependents at once, and this loop must not take them for entry jobs
    // too (they would be made ready, or skipped, a second time).
    this.#skipping = true;
    this.#queueEntryJobs(this.#mayHear());
    this.#skipping = false;
    this.#drainSkips();
    this.#pump();
    return promise;
  }

  /**
   * Makes ready the jobs that require nothing. A method of its own that ends
   * with its loop, for the reason given above countJobs().
   */
  #queueEntryJobs(heard: boolean): void {
    const pending = this.#pending;
    const jobs = this.#jobs;
    const queue = this.#queue;
    for (let k = 0; k < pending.length; k++) {
      if (pending[k] !== 0) continue;
      const job = jobs[k]!;
      // Entry jobs without extras (most) are queued here directly: a call
      // per job costs before the optimiser steps in.
      if (job._extras !== undefined || heard || this.#finished) {
        this.#makeReady(k);
      } else {
        job._state = SCHEDULED;
        queue[this.#tail++] = k;
      }
    }
  }

  #makeReady(index: number): void {
    // A skip may end the run while its successors are being released.
    if (this.#finished) return;
    const job = this.#jobs[index]!;
    const extras = job._extras;
    if (extras !== undefined && extras.trigger !== "allDone" && !triggerMet(job, extras.trigger)) {
      this.#skips.push(index);
      this.#drainSkips();
      return;
    }
    job._state = SCHEDULED;
    this.#queue[this.#tail++] = index;
    if (this.#heardAt === listenerAdditions.count ? this.#heard : this.#mayHear()) {
      emitJobEvent(this.#scheduler, "job:scheduled", job);
    }
  }

  /** Skips the jobs queued for it, and what their skips leave without a way to run. */
  #drainSkips(): void {
    if (this.#skipping) return;
    this.#skipping = true;
    const skips = this.#skips;
    while (skips.length > 0) {
      const index = skips.pop()!;
      const job = this.#jobs[index]!;
      job._state = SKIPPED;
      if (this.#mayHear()) emitJobEvent(this.#scheduler, "job:skipped", job);
      if (!job.forever) this.#remaining--;
      // A skip counts as finished: once every non-forever job is, the run
      // ends before successors are made ready, as it does in settle(), so
      // that no forever job starts only to be cancelled at once.
      if (this.#remaining === 0 && this.#nonForever > 0) {
        skips.length = 0;
        this.#finish("fine");
        break;
      }
      this.#release(index);
    }
    this.#skipping = false;
  }

  /** The job at `index` has finished (or is ready): its successors have one requirement less. */
  #release(index: number): void {
    const pending = this.#pending;
    const successors = this.#successors;
    const end = this.#successorStart[index + 1]!;
    for (let e = this.#successorStart[index]!; e < end; e++) {
      const next = successors[e]!;
      if (--pending[next]! === 0) this.#makeReady(next);
    }
  }

  /**
   * Starts queued jobs while the window allows (in order: a job too heavy for
   * the room left waits, and those behind it too). A job whose pool is full
   * waits on the pool instead, without holding up the others. Stops when
   * the burst's budget is spent, and goes on at the next burst. Never
   * re-entered, so sync failures cannot recurse.
   */
  #pump(): void {
    if (this.#pumping || this.#yielding) return;
    this.#pumping = true;
    const queue = this.#queue;
    const parked = this.#parked;
    while (!this.#finished) {
      const fromParked = parked.length > 0;
      if (!fromParked && this.#head >= this.#tail) break;
      const index = fromParked ? parked[0]! : queue[this.#head]!;
      const job = this.#jobs[index]!;
      const extras = job._extras;
      const weight = extras === undefined ? 1 : extras.weight;
      if (this.#used + weight > this.#window) break;
      if (budget.left === 0) {
        this.#yielding = true;
        waitForNextBurst(this);
        break;
      }
      budget.left--;
      if (fromParked) parked.shift();
      else this.#head++;
      if (extras?.pool !== undefined && !this.#takePool(job, index, weight)) continue;
      this.#used += weight;
      this.#running++;
      this.#launch(index, 1, false);
    }
    this.#pumping = false;
    // #checkEnd() does nothing while jobs that are not forever remain.
    if (this.#remaining === 0) this.#checkEnd();
  }

  /** The next burst may start jobs (see bursts.ts). */
  resume(): void {
    this.#yielding = false;
    this.#pump();
  }

  /**
   * Takes `weight` slots of the pool of the job at `index` (out of line:
   * most jobs have none), or makes it wait there; answers whether it got
   * them.
   */
  #takePool(job: AbstractJob, index: number, weight: number): boolean {
    const pool = this.#poolOf?.get(job);
    if (pool === undefined) return true;
    if (!pool.fits(weight)) {
      this.#waitingInPools++;
      pool.waiting.push({ job, wake: () => this.#unpark(index) });
      return false;
    }
    pool.used += weight;
    return true;
  }

  /** A job that waited on its pool may find room now. */
  #unpark(index: number): void {
    this.#waitingInPools--;
    // Nor once an enclosing scheduler's run is over: it is cancelling its
    // jobs, this scheduler among them, and one it cancelled first may give
    // back slots of a pool this one waits on.
    if (this.#finished || enclosingEnded(this.#scheduler)) return;
    this.#parked.push(index);
    this.#pump();
  }

  /** Starts attempt `attempt` of the job at `index`, with a fresh context (and signal). */
  #launch(index: number, attempt: number, released: boolean): void {
    const job = this.#jobs[index]!;
    const run = new JobRun(this, job, released);
    if (attempt !== 1) run._attempt = attempt;
    job._context = run;
    job._state = RUNNING;
    if (this.#heardAt === listenerAdditions.count ? this.#heard : this.#mayHear()) {
      emitJobEvent(this.#scheduler, "job:started", job);
      // A listener that threw has ended the run (and cancelled this job).
      if (this.#finished) return;
    }
    if (job._extras !== undefined) startTimer(run, job._extras);
    let outcome: Promise<unknown>;
    try {
      // Plain values and foreign thenables are adopted, so that every job
      // settles through the same path, a microtask later at the earliest
      // (in the try: reading a foreign thenable's `then` may throw).
      outcome = Promise.resolve(job._invoke(run));
    } catch (error) {
      // A job that throws synchronously fails as if it had rejected.
      this.settle(run, true, error);
      return;
    }
    outcome.then(jobFulfilled.bind(run), jobRejected.bind(run));
  }

  /** A job's outcome; ignored once the run is over or the job was cancelled. */
  settle(run: JobRun, raised: boolean, outcome: unknown): void {
    // Flags read and set directly: this runs once per job, mostly before the
    // optimiser inlines the accessors.
    if (this.#finished || (run._flags & (CANCELLED | SETTLED)) !== 0) return;
    run._flags |= SETTLED;
    const job = run._job!;
    const index = job._index;
    const extras = job._extras;
    if (extras !== undefined) {
      const after = this.#afterAttempt(run, extras, raised, outcome);
      if (after === RETRYING) return;
      // A retryOn callback that threw: the job fails with its error.
      if (after !== outcome) {
        raised = true;
        outcome = after;
      }
    }
    job._state = DONE;
    if (raised) job._raised = true;
    job._outcome = outcome;
    // A done job's context tells nothing more than "not cancelled, one
    // attempt": let it go, so that a long run of short jobs does not keep one
    // per job (after retries it is kept, for attempts()).
    if (run._rare === undefined || run._attempt === 1) job._context = undefined;
    this.#running--;
    if (this.#heardAt === listenerAdditions.count ? this.#heard : this.#mayHear()) {
      emitJobEvent(
        this.#scheduler,
        raised ? "job:failed" : "job:done",
        job,
        raised ? outcome : undefined,
      );
    }
    if ((job._bits & FOREVER_BIT) === 0) this.#remaining--;
    // A critical failure ends the run. So does the end of every non-forever
    // job: end it before making successors ready, so that no forever job
    // starts only to be cancelled at once (the original checks for the end
    // first, too).
    if (raised && job.critical) this.#finish("critical", job);
    else if (this.#remaining === 0 && this.#nonForever > 0) this.#finish("fine");
    // Slots are given back once the job is seen done, and once the run is
    // over if the job ended it: a pool wakes its waiters at once, and they
    // must start neither before this job has ended nor after the end.
    if (extras === undefined) this.#used--;
    else this.#giveBack(job, extras.weight);
    if (this.#finished) return;
    // Calls made only when there is something to do: most jobs of a run end
    // before the optimiser steps in, and a call costs then.
    if ((run._flags & RELEASED) === 0) {
      const successorStart = this.#successorStart;
      if (successorStart[index] !== successorStart[index + 1]) this.#release(index);
    }
    if (this.#head < this.#tail || this.#parked.length > 0) this.#pump();
    else if (this.#remaining === 0) this.#checkEnd();
  }

  /**
   * The part of settle() for jobs with extras, out of line so that the
   * common path stays small for the optimiser: stops the job's timer, and
   * schedules its next attempt if it failed and may retry (a retrying job
   * keeps its slots, window and pool, while it waits). Answers
   * {@link RETRYING} if it does; otherwise the job's outcome, which is the
   * error of its `retryOn` callback if that threw (the job then fails with
   * it, rather than the error escaping into the run's machinery).
   */
  #afterAttempt(
    run: JobRun,
    extras: JobExtras,
    raised: boolean,
    outcome: unknown,
  ): unknown | typeof RETRYING {
    if (run._timer !== undefined) {
      clearTimeout(run._timer);
      run._timer = undefined;
    }
    if (!raised) return outcome;
    let again: boolean;
    try {
      again = shouldRetry(extras.retry, outcome, run._attempt);
    } catch (error) {
      return error;
    }
    if (!again) return outcome;
    if (this.#mayHear()) emitJobEvent(this.#scheduler, "job:retried", run._job!, outcome);
    // An event listener may have ended the run (see #listenerFailed).
    if (this.#finished) return RETRYING;
    retryAfter(run, retryDelay(extras.retry!, run._attempt));
    return RETRYING;
  }

  /**
   * Whether anybody may listen to this run's events, on this scheduler or
   * an enclosing one. Checked before the per-job events, so that a run
   * nobody watches makes no calls for them; found again only when a
   * listener was added somewhere since (one removed since is harmless: the
   * events find nobody). The per-job call sites test `#heardAt` themselves
   * and call this only when it is stale: a call per job costs before the
   * optimiser steps in.
   */
  #mayHear(): boolean {
    if (this.#heardAt !== listenerAdditions.count) {
      this.#heardAt = listenerAdditions.count;
      this.#heard = anyoneListens(this.#scheduler);
    }
    return this.#heard;
  }

  /** Gives back a job's window slots, and its pool's (waking who waits there). */
  #giveBack(job: AbstractJob, weight: number): void {
    this.#used -= weight;
    this.#poolOf?.get(job)?.release(weight);
  }

  /** The job's own timeout expired: it fails with a TimeoutError, and its signal aborts. */
  timedOut(run: JobRun): void {
    run._timer = undefined;
    if (this.#finished || run._cancelled || run._settled) return;
    const job = this.#jobs[run.index]!;
    const error = new TimeoutError(`job ${nameOf(job)} timed out after ${job._extras?.timeout} ms`);
    this.settle(run, true, error);
    run.abort(error);
  }

  /** The wait after a failed attempt is over: the next attempt starts. */
  retry(run: JobRun): void {
    run._timer = undefined;
    if (this.#finished) return;
    this.#launch(run.index, run._attempt + 1, run._released);
  }

  /** The job says its dependents may start while it goes on running. */
  ready(run: JobRun): void {
    if (this.#finished || run._cancelled || run._settled || run._released) return;
    run._released = true;
    if (this.#mayHear()) emitJobEvent(this.#scheduler, "job:ready", this.#jobs[run.index]!);
    this.#release(run.index);
    this.#pump();
  }

  /**
   * The run succeeds once every non-forever job is done. A scheduler with
   * only forever jobs keeps running until they all end by themselves (or a
   * timeout or an abort), as the original does.
   */
  #checkEnd(): void {
    if (this.#finished || this.#pumping || this.#remaining > 0) return;
    const idle =
      this.#running === 0 &&
      this.#head === this.#tail &&
      this.#parked.length === 0 &&
      this.#waitingInPools === 0;
    if (this.#nonForever > 0 || idle) {
      this.#finish("fine");
    }
  }

  #finish(status: RunStatus, culprit?: AbstractJob, abortReason?: unknown): void {
    if (this.#finished) return;
    finishing++;
    try {
      this.#end(status, culprit, abortReason);
    } finally {
      finishing--;
    }
    if (finishing === 0) drainLater();
  }

  /** See #finish(): the run is over; cancels what runs, gives back slots, shuts down. */
  #end(status: RunStatus, culprit: AbstractJob | undefined, abortReason: unknown): void {
    this.#finished = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    if (this.#context?._rare !== undefined) this.#context._rare.onAbort = undefined;
    const scheduler = this.#scheduler;
    scheduler._status = status;
    scheduler._culprit = culprit;
    scheduler._abortReason = abortReason;
    // The reason is an Error (with its stack): made only if a job is cancelled.
    let reason: unknown;
    let reasonMade = false;
    const jobs = this.#jobs;
    let holding: AbstractJob[] | undefined;
    // Only the jobs taken from the queue can be running (every start goes
    // through it): no walk over the jobs that never started.
    const started = this.#queue;
    // Nothing to cancel when every started job has settled.
    const startedCount = this.#running > 0 ? this.#head : 0;
    for (let q = 0; q < startedCount; q++) {
      const job = jobs[started[q]!]!;
      const run = job._context as JobRun | undefined;
      if (job._state === RUNNING && run !== undefined && !run._cancelled) {
        if (run._timer !== undefined) {
          clearTimeout(run._timer);
          run._timer = undefined;
        }
        if (!reasonMade) {
          reason = cancellationReason(scheduler, status, culprit, abortReason);
          reasonMade = true;
        }
        run.cancel(reason);
        if (this.#mayHear()) emitJobEvent(scheduler, "job:cancelled", job);
        if (job._extras !== undefined) {
          if (holding === undefined) holding = [];
          holding.push(job);
        }
      }
    }
    // Slots are given back only once every running job is cancelled: a pool
    // wakes its waiters at once, and a waiter in a nested scheduler that is
    // cancelled later in the loop above would otherwise start after the end.
    if (holding !== undefined) {
      for (const job of holding) this.#giveBack(job, job._extras!.weight);
    }
    this.#leavePools();
    dropLayouts(this.#nested);
    // The answer of this run's shutdown exists from now on, though the
    // shutdown starts only once every run ending on this stack has ended
    // (nested ones put off by #onContextAbort included): an enclosing run
    // whose shutdown asks this scheduler for its own (a listener of the
    // event below may end one) gets that answer, rather than shutting the
    // jobs down a second time, or being told that this one still runs.
    let startShutdown = (): void => {};
    scheduler._shutdownAnswer = new Promise<boolean>((resolve) => {
      startShutdown = () =>
        resolve(shutdownJobs(this.#withShutdown, scheduler.shutdownTimeout, true));
    });
    if (this.#mayHear()) emitSchedulerEvent(scheduler, "scheduler:ended", status === "fine");
    const ok = status === "fine";
    laterShutdowns.push(() => {
      startShutdown();
      void this.#shutdownThenResolve(ok);
    });
  }

  /** Withdraws this run's jobs still waiting on pools, and closes the pools it declared. */
  #leavePools(): void {
    if (this.#poolOf !== undefined) {
      const scheduler = this.#scheduler;
      for (const pool of new Set(this.#poolOf.values())) {
        const staying = pool.waiting.filter((waiter) => waiter.job._owner !== scheduler);
        pool.waiting.length = 0;
        pool.waiting.push(...staying);
      }
    }
    this.#scheduler._activePools = undefined;
  }

  /** Waits for the shutdown #end() set up, then settles the run. */
  async #shutdownThenResolve(ok: boolean): Promise<void> {
    const scheduler = this.#scheduler;
    const shutdownOk = await scheduler._shutdownAnswer!;
    if (this.#mayHear()) emitSchedulerEvent(scheduler, "scheduler:shutdown", shutdownOk);
    scheduler._onListenerError = undefined;
    applyDeferredSettings(scheduler);
    scheduler._busy = false;
    if (this.#listenerError !== undefined) this.#reject(this.#listenerError.error);
    else this.#resolve(ok);
  }

  /**
   * An event listener threw while this run dispatched an event: the run
   * ends at once (aborted, with that error as the reason, which cancels the
   * running jobs), and run() rejects with the error once the shutdown is
   * done. Only the first such error counts.
   */
  #listenerFailed(error: unknown): void {
    if (this.#listenerError === undefined) this.#listenerError = { error };
    this.#finish("aborted", undefined, error);
  }
}

/** The pool named `name` that the schedulers enclosing `scheduler` are running with, the nearest first. */
function poolAbove(scheduler: PureScheduler, name: string): PoolState | undefined {
  for (let current = scheduler._owner; current; current = current._owner) {
    const found = current._activePools?.get(name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Whether a scheduler enclosing `scheduler` has ended its run but not yet settled it. */
function enclosingEnded(scheduler: PureScheduler): boolean {
  for (let owner = scheduler._owner; owner !== undefined; owner = owner._owner) {
    if (owner._busy && owner._status !== "running") return true;
  }
  return false;
}

/** Puts a nested scheduler and its jobs, at every depth, back to "never ran" (unless it is still busy). */
function resetNested(top: PureScheduler): void {
  // With a stack of its own rather than recursion: nesting may be deep.
  const stack = [top];
  while (stack.length > 0) {
    const scheduler = stack.pop()!;
    if (scheduler._busy) continue;
    scheduler._status = "never";
    scheduler._culprit = undefined;
    scheduler._abortReason = undefined;
    scheduler._shutdownAnswer = undefined;
    const jobs = scheduler._members.list;
    if (!scheduler._jobsFresh) resetStates(jobs);
    const prepared = scheduler._prepared;
    // The layout made for its run knows its nested schedulers; without one,
    // they are looked for.
    const nested = prepared !== undefined ? prepared.nested : schedulersAmong(jobs);
    for (let k = 0; k < nested.length; k++) stack.push(nested[k]!);
    // Its own run, if it comes in this one, need not do it again.
    if (prepared !== undefined) prepared.jobsReset = true;
  }
}

/** The nested schedulers among `jobs`. */
function schedulersAmong(jobs: readonly AbstractJob[]): PureScheduler[] {
  const found: PureScheduler[] = [];
  for (let k = 0; k < jobs.length; k++) {
    const job = jobs[k];
    if (isScheduler(job)) found.push(job);
  }
  return found;
}

/**
 * Puts jobs back to "never ran" (their state, outcome and context). One
 * loop with the writes inside rather than a call per job: it runs once per
 * run, mostly before the optimiser steps in, when a call costs.
 */
function resetStates(jobs: readonly AbstractJob[]): void {
  for (let k = 0; k < jobs.length; k++) {
    const job = jobs[k]!;
    job._state = IDLE;
    job._bits &= ~RAISED_BIT;
    job._outcome = undefined;
    job._context = undefined;
  }
}

function cancellationReason(
  scheduler: PureScheduler,
  status: RunStatus,
  culprit: AbstractJob | undefined,
  abortReason: unknown,
): unknown {
  const where = `scheduler ${describeScheduler(scheduler)}`;
  switch (status) {
    case "timeout":
      return new TimeoutError(`${where} timed out after ${scheduler._timeoutUsed} ms`);
    case "critical":
      return new CancelledError(
        `${where} stopped: critical job ${culprit ? nameOf(culprit) : "?"} raised an exception`,
      );
    case "aborted":
      return abortReason;
    default:
      return new CancelledError(`${where} is done: its other jobs have finished`);
  }
}
