/**
 * One run of one scheduler: the heart of the engine.
 *
 * Before the run, the graph is laid out in flat typed arrays indexed by the
 * jobs' positions (each job's count of pending requirements, and the list of
 * its successors), so a job becomes ready in O(1) when its last requirement
 * finishes, and the run allocates no per-job arrays. Ready jobs wait in a
 * FIFO queue of indices for a slot in the window. Nothing rescans all jobs
 * until the run ends.
 *
 * Each started job costs one context object and one promise reaction whose
 * two handlers are bound to that context: no async frame and no closure per
 * job (see bench/NOTES.md for what each of those cost). A job whose run was
 * cancelled, or whose run belongs to an earlier orchestration, is ignored
 * when it settles late.
 */
import { type AbstractJob, isScheduler, nameOf } from "../jobs/abstract-job.js";
import { RunContext } from "../jobs/context.js";
import { forEachRequirement, requirementCount } from "../jobs/requirements.js";
import { DONE, IDLE, RUNNING, SCHEDULED } from "../jobs/state.js";
import { CancelledError, TimeoutError } from "../util/errors.js";
import { emitJobEvent, emitSchedulerEvent } from "./events.js";
import { cycleError, describeScheduler, findCycle } from "./graph.js";
import type { PureScheduler, RunStatus } from "./pure-scheduler.js";
import { shutdownJobs } from "./shutdown.js";

/**
 * A scheduler's graph laid out for one run. Job `k` is `jobs[k]`; it waits
 * for `pending[k]` requirements, and the jobs that require it are
 * `successors[successorStart[k] .. successorStart[k + 1])`.
 */
interface PreparedGraph {
  readonly jobs: AbstractJob[];
  readonly pending: Int32Array;
  readonly successorStart: Int32Array;
  readonly successors: Int32Array;
}

/**
 * Validates the graph of `scheduler` for a run and lays it out (see
 * {@link PreparedGraph}). Throws (before anything starts) on a requirement
 * outside the scheduler, on a cycle, or when no job is free to start; with
 * `deep`, checks nested schedulers the same way.
 */
export function prepareGraph(scheduler: PureScheduler, deep: boolean): PreparedGraph {
  // Loops here walk arrays by index: they run once per run, mostly before the
  // optimiser steps in, and a for-of would then allocate a result per element.
  const jobs = [...scheduler._members];
  const count = jobs.length;
  // Each job's requirements as indices: job k's are
  // requiredIndex[requiredStart[k] .. requiredStart[k + 1]).
  const pending = new Int32Array(count);
  const requiredStart = new Int32Array(count + 1);
  for (let k = 0; k < count; k++) {
    const job = jobs[k]!;
    job._index = k;
    pending[k] = requirementCount(job);
    requiredStart[k + 1] = requiredStart[k]! + pending[k]!;
  }
  const edges = requiredStart[count]!;
  const requiredIndex = new Int32Array(edges);
  let job: AbstractJob;
  let edge = 0;
  const record = (requirement: AbstractJob): void => {
    if (requirement._owner !== scheduler) {
      throw new Error(
        `scheduler ${describeScheduler(scheduler)}: job ${nameOf(job)} requires ${nameOf(requirement)}, which is not in this scheduler; ` +
          "add it, or call sanitize() to drop such requirements",
      );
    }
    requiredIndex[edge++] = requirement._index;
  };
  for (let k = 0; k < count; k++) {
    job = jobs[k]!;
    forEachRequirement(job, record);
  }
  // The same edges the other way round: each job's successors, by counting.
  const successorStart = new Int32Array(count + 1);
  for (let e = 0; e < edges; e++) successorStart[requiredIndex[e]! + 1]!++;
  for (let k = 0; k < count; k++) successorStart[k + 1]! += successorStart[k]!;
  const successors = new Int32Array(edges);
  const filled = successorStart.slice(0, count);
  for (let k = 0; k < count; k++) {
    for (let e = requiredStart[k]!; e < requiredStart[k + 1]!; e++) {
      successors[filled[requiredIndex[e]!]!++] = k;
    }
  }
  const graph = { jobs, pending, successorStart, successors };
  checkStartable(scheduler, graph);
  if (deep) {
    for (let k = 0; k < count; k++) {
      const nested = jobs[k]!;
      if (isScheduler(nested)) prepareGraph(nested, true);
    }
  }
  return graph;
}

/** Kahn's walk over a copy of the counters: throws unless every job can eventually start. */
function checkStartable(scheduler: PureScheduler, graph: PreparedGraph): void {
  const { jobs, pending, successorStart, successors } = graph;
  const count = jobs.length;
  const left = pending.slice();
  const order = new Int32Array(count);
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

/** Runs `scheduler` once; resolves true on success. Validation errors reject. */
export function orchestrate(scheduler: PureScheduler, signal?: AbortSignal): Promise<boolean> {
  // Validate nested graphs up front; this level's graph is prepared last so
  // that its indices are the ones in place for the run.
  for (const job of scheduler._members) {
    if (isScheduler(job)) prepareGraph(job, true);
  }
  const graph = prepareGraph(scheduler, false);
  return new Orchestration(scheduler, graph, signal).start();
}

const NO_LIMIT = Number.POSITIVE_INFINITY;

/**
 * The context of one job in one orchestration: what the job is handed, and
 * what its outcome handlers are bound to.
 */
class JobRun extends RunContext {
  readonly orchestration: Orchestration;
  readonly index: number;

  constructor(orchestration: Orchestration, index: number) {
    super();
    this.orchestration = orchestration;
    this.index = index;
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

class Orchestration {
  readonly #scheduler: PureScheduler;
  readonly #jobs: AbstractJob[];
  readonly #pending: Int32Array;
  readonly #successorStart: Int32Array;
  readonly #successors: Int32Array;
  readonly #window: number;
  readonly #signal: AbortSignal | undefined;
  /** Indices of the jobs made ready, in order; each job enters at most once per run. */
  readonly #queue: Int32Array;
  #head = 0;
  #tail = 0;
  #running = 0;
  #remaining = 0;
  #nonForever = 0;
  #pumping = false;
  #finished = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolve: (ok: boolean) => void = () => {};
  #onAbort = (): void => {
    this.#finish("aborted", undefined, this.#signal?.reason);
  };

  constructor(scheduler: PureScheduler, graph: PreparedGraph, signal: AbortSignal | undefined) {
    this.#scheduler = scheduler;
    this.#jobs = graph.jobs;
    this.#pending = graph.pending;
    this.#successorStart = graph.successorStart;
    this.#successors = graph.successors;
    this.#queue = new Int32Array(graph.jobs.length);
    this.#window = scheduler.jobsWindow ? scheduler.jobsWindow : NO_LIMIT;
    this.#signal = signal;
  }

  start(): Promise<boolean> {
    const scheduler = this.#scheduler;
    const promise = new Promise<boolean>((resolve) => {
      this.#resolve = resolve;
    });
    scheduler._status = "running";
    scheduler._timeoutUsed = scheduler.timeout;
    scheduler._culprit = undefined;
    scheduler._abortReason = undefined;
    scheduler._shutdownAnswer = undefined;
    const jobs = this.#jobs;
    for (let k = 0; k < jobs.length; k++) {
      const job = jobs[k]!;
      job._state = IDLE;
      job._raised = false;
      job._outcome = undefined;
      job._context = undefined;
      if (!job.forever) this.#nonForever++;
      // A nested scheduler starts afresh too, even if it does not get to run
      // this time: otherwise its jobs would show the previous run, and its
      // shutdown() would answer from then without shutting them down again.
      if (isScheduler(job)) resetNested(job);
    }
    this.#remaining = this.#nonForever;
    emitSchedulerEvent(scheduler, "scheduler:started");

    if (this.#signal?.aborted) {
      this.#finish("aborted", undefined, this.#signal.reason);
      return promise;
    }
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    const timeout = scheduler.timeout;
    if (timeout !== null) {
      this.#timer = setTimeout(() => this.#finish("timeout"), timeout);
    }
    if (this.#jobs.length === 0) {
      this.#finish("fine");
      return promise;
    }
    const pending = this.#pending;
    for (let k = 0; k < pending.length; k++) {
      if (pending[k] === 0) this.#makeReady(k);
    }
    this.#pump();
    return promise;
  }

  #makeReady(index: number): void {
    const job = this.#jobs[index]!;
    job._state = SCHEDULED;
    this.#queue[this.#tail++] = index;
    emitJobEvent(this.#scheduler, "job:scheduled", job);
  }

  /** Starts queued jobs while the window allows. Never re-entered, so sync failures cannot recurse. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    const queue = this.#queue;
    while (this.#head < this.#tail && this.#running < this.#window && !this.#finished) {
      this.#start(queue[this.#head++]!);
    }
    this.#pumping = false;
    this.#checkEnd();
  }

  #start(index: number): void {
    const job = this.#jobs[index]!;
    const run = new JobRun(this, index);
    job._context = run;
    job._state = RUNNING;
    this.#running++;
    emitJobEvent(this.#scheduler, "job:started", job);
    let outcome: unknown;
    try {
      outcome = job._invoke(run);
    } catch (error) {
      this.settle(run, true, error);
      return;
    }
    // Plain values and foreign thenables are adopted, so that every job
    // settles through the same path, a microtask later at the earliest.
    Promise.resolve(outcome).then(jobFulfilled.bind(run), jobRejected.bind(run));
  }

  /** A job's outcome; ignored once the run is over or the job was cancelled. */
  settle(run: JobRun, raised: boolean, outcome: unknown): void {
    if (this.#finished || run._cancelled) return;
    const index = run.index;
    const job = this.#jobs[index]!;
    job._state = DONE;
    job._raised = raised;
    job._outcome = outcome;
    this.#running--;
    emitJobEvent(this.#scheduler, raised ? "job:failed" : "job:done", job);
    if (!job.forever) this.#remaining--;
    if (raised && job.critical) {
      this.#finish("critical", job);
      return;
    }
    // Once every non-forever job is done the run is over: end it before
    // making successors ready, so that no forever job starts only to be
    // cancelled at once (the original checks for the end first, too).
    if (this.#remaining === 0 && this.#nonForever > 0) {
      this.#finish("fine");
      return;
    }
    const pending = this.#pending;
    const successors = this.#successors;
    const end = this.#successorStart[index + 1]!;
    for (let e = this.#successorStart[index]!; e < end; e++) {
      const next = successors[e]!;
      if (--pending[next]! === 0) this.#makeReady(next);
    }
    this.#pump();
  }

  /**
   * The run succeeds once every non-forever job is done. A scheduler with
   * only forever jobs keeps running until they all end by themselves (or a
   * timeout or an abort), as the original does.
   */
  #checkEnd(): void {
    if (this.#finished || this.#pumping || this.#remaining > 0) return;
    if (this.#nonForever > 0 || (this.#running === 0 && this.#head === this.#tail)) {
      this.#finish("fine");
    }
  }

  #finish(status: RunStatus, culprit?: AbstractJob, abortReason?: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    const scheduler = this.#scheduler;
    scheduler._status = status;
    scheduler._culprit = culprit;
    scheduler._abortReason = abortReason;
    const reason = cancellationReason(scheduler, status, culprit, abortReason);
    const jobs = this.#jobs;
    for (let k = 0; k < jobs.length; k++) {
      const job = jobs[k]!;
      if (job._state === RUNNING && job._context !== undefined && !job._context._cancelled) {
        job._context.cancel(reason);
        emitJobEvent(scheduler, "job:cancelled", job);
      }
    }
    emitSchedulerEvent(scheduler, "scheduler:ended", status === "fine");
    void this.#shutdownThenResolve(status === "fine");
  }

  async #shutdownThenResolve(ok: boolean): Promise<void> {
    const scheduler = this.#scheduler;
    const answer = shutdownJobs(this.#jobs, scheduler.shutdownTimeout);
    scheduler._shutdownAnswer = answer;
    const shutdownOk = await answer;
    emitSchedulerEvent(scheduler, "scheduler:shutdown", shutdownOk);
    scheduler._busy = false;
    this.#resolve(ok);
  }
}

/** Puts a nested scheduler and its jobs, at every depth, back to "never ran" (unless it is still busy). */
function resetNested(scheduler: PureScheduler): void {
  if (scheduler._busy) return;
  scheduler._status = "never";
  scheduler._culprit = undefined;
  scheduler._abortReason = undefined;
  scheduler._shutdownAnswer = undefined;
  for (const job of scheduler._members) {
    job._state = IDLE;
    job._raised = false;
    job._outcome = undefined;
    job._context = undefined;
    if (isScheduler(job)) resetNested(job);
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
