/**
 * One run of one scheduler: the heart of the engine.
 *
 * Requirements are counted down (each job holds how many of its requirements
 * are not done yet, and the list of jobs that require it), so a job becomes
 * ready in O(1) when its last requirement finishes; ready jobs wait in a FIFO
 * queue for a slot in the window. Nothing ever rescans all jobs until the run
 * ends. Job outcomes arrive through one async method per job (no per-job
 * closures), and a job whose run was cancelled, or whose run belongs to an
 * earlier orchestration, is ignored when it settles late.
 */
import { type AbstractJob, isScheduler, nameOf } from "../jobs/abstract-job.js";
import { RunContext } from "../jobs/context.js";
import { DONE, IDLE, RUNNING, SCHEDULED } from "../jobs/state.js";
import { CancelledError, TimeoutError } from "../util/errors.js";
import { emitJobEvent, emitSchedulerEvent } from "./events.js";
import { cycleError, describeScheduler, findCycle } from "./graph.js";
import type { PureScheduler, RunStatus } from "./pure-scheduler.js";
import { shutdownJobs } from "./shutdown.js";

/**
 * Validates the graph of `scheduler` for a run and leaves each job with its
 * count of pending requirements and its successors. Throws (before anything
 * starts) on a requirement outside the scheduler, on a cycle, or when no job
 * is free to start; with `deep`, checks nested schedulers the same way.
 */
export function prepareGraph(scheduler: PureScheduler, deep: boolean): AbstractJob[] {
  const where = `scheduler ${describeScheduler(scheduler)}`;
  const jobs = [...scheduler._members];
  for (const job of jobs) {
    job._pending = 0;
    job._successors = undefined;
  }
  for (const job of jobs) {
    const required = job._required;
    if (required === undefined) continue;
    for (const requirement of required) {
      if (requirement._owner !== scheduler) {
        throw new Error(
          `${where}: job ${nameOf(job)} requires ${nameOf(requirement)}, which is not in this scheduler; ` +
            "add it, or call sanitize() to drop such requirements",
        );
      }
      job._pending++;
      if (requirement._successors === undefined) requirement._successors = [job];
      else requirement._successors.push(job);
    }
  }
  const ready: AbstractJob[] = [];
  for (const job of jobs) {
    if (job._pending === 0) ready.push(job);
  }
  if (jobs.length > 0 && ready.length === 0) {
    throw new Error(
      `${where}: no job is free to start (every job requires another); ${cycleError(
        "",
        findCycle(jobs, () => true),
      ).message.slice(2)}`,
    );
  }
  // Kahn's walk over the counters, restored afterwards for the run itself.
  let visited = 0;
  const queue = ready.slice();
  for (let index = 0; index < queue.length; index++) {
    visited++;
    const successors = queue[index]!._successors;
    if (successors === undefined) continue;
    for (const next of successors) {
      if (--next._pending === 0) queue.push(next);
    }
  }
  if (visited < jobs.length) {
    const blocked = jobs.filter((job) => job._pending > 0);
    throw cycleError(
      where,
      findCycle(blocked, (job) => job._pending > 0),
    );
  }
  for (const job of jobs) job._pending = job._required?.size ?? 0;
  if (deep) {
    for (const job of jobs) {
      if (isScheduler(job)) prepareGraph(job, true);
    }
  }
  return jobs;
}

/** Runs `scheduler` once; resolves true on success. Validation errors reject. */
export function orchestrate(scheduler: PureScheduler, signal?: AbortSignal): Promise<boolean> {
  // Validate nested graphs up front; this level's graph is prepared last so
  // that its counters are the ones in place for the run.
  for (const job of scheduler._members) {
    if (isScheduler(job)) prepareGraph(job, true);
  }
  const jobs = prepareGraph(scheduler, false);
  return new Orchestration(scheduler, jobs, signal).start();
}

const NO_LIMIT = Number.POSITIVE_INFINITY;

class Orchestration {
  readonly #scheduler: PureScheduler;
  readonly #jobs: AbstractJob[];
  readonly #window: number;
  readonly #signal: AbortSignal | undefined;
  #queue: AbstractJob[] = [];
  #head = 0;
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

  constructor(scheduler: PureScheduler, jobs: AbstractJob[], signal: AbortSignal | undefined) {
    this.#scheduler = scheduler;
    this.#jobs = jobs;
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
    for (const job of this.#jobs) {
      job._state = IDLE;
      job._raised = false;
      job._outcome = undefined;
      job._context = undefined;
      if (!job.forever) this.#nonForever++;
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
    for (const job of this.#jobs) {
      if (job._pending === 0) this.#makeReady(job);
    }
    this.#pump();
    return promise;
  }

  #makeReady(job: AbstractJob): void {
    job._state = SCHEDULED;
    this.#queue.push(job);
    emitJobEvent(this.#scheduler, "job:scheduled", job);
  }

  /** Starts queued jobs while the window allows. Never re-entered, so sync failures cannot recurse. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    const queue = this.#queue;
    while (this.#head < queue.length && this.#running < this.#window && !this.#finished) {
      const job = queue[this.#head++]!;
      this.#start(job);
    }
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    }
    this.#pumping = false;
    this.#checkEnd();
  }

  #start(job: AbstractJob): void {
    const context = new RunContext();
    job._context = context;
    job._state = RUNNING;
    this.#running++;
    emitJobEvent(this.#scheduler, "job:started", job);
    void this.#execute(job, context);
  }

  async #execute(job: AbstractJob, context: RunContext): Promise<void> {
    let value: unknown;
    try {
      value = await job._invoke(context);
    } catch (error) {
      if (!this.#finished && !context._cancelled) this.#settle(job, true, error);
      return;
    }
    if (!this.#finished && !context._cancelled) this.#settle(job, false, value);
  }

  #settle(job: AbstractJob, raised: boolean, outcome: unknown): void {
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
    const successors = job._successors;
    if (successors !== undefined) {
      for (const next of successors) {
        if (--next._pending === 0) this.#makeReady(next);
      }
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
    if (this.#nonForever > 0 || (this.#running === 0 && this.#head === this.#queue.length)) {
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
    for (const job of this.#jobs) {
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
