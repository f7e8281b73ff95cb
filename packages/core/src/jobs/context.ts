/**
 * What a job's `run` receives: its abort signal (created only when read, so
 * that jobs which never look at it cost no AbortController), typed access to
 * its requirements' results, and a way to say it is ready.
 */

import { withBit } from "../util/bits.js";
import type { AbstractJob } from "./abstract-job.js";
import { hasRequirement } from "./requirements.js";

/** What every job's `run` is handed. */
export interface JobContext {
  /**
   * Aborted when the scheduler cancels the job (a forever job at the end of
   * the run, running jobs after a timeout, a critical failure or an abort of
   * the run) or when the job's own `timeout` expires. Its `reason` says why.
   */
  readonly signal: AbortSignal;
  /** Which attempt this is: 1, then 2 and on when the job retries. */
  readonly attempt: number;
  /**
   * The result of `requirement`, one of this job's requirements, typed as
   * that job's result: `results(fetch)` is what `fetch` resolved with.
   * Throws if `requirement` is not one of this job's requirements, or
   * raised, or was skipped.
   */
  results<U>(requirement: AbstractJob<U>): U;
  /**
   * Says that the jobs requiring this one may start now, while it goes on
   * running: how a forever job acts as a service (start a server, call
   * `ready()` once it listens; it is cancelled once the other jobs are done).
   * Calls after the first do nothing.
   */
  ready(): void;
}

/** See {@link RunContext._rare}. */
class RareContextState {
  controller: AbortController | undefined = undefined;
  reason: unknown = undefined;
  attempt = 1;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /**
   * Told when the context is aborted: how a nested scheduler's run hears
   * that its parent cancelled it, with no AbortController in between.
   */
  onAbort: ((reason: unknown) => void) | undefined = undefined;
}

/** Bits of `_flags`. */
export const CANCELLED = 1;
const ABORTED = 2;
/** The lowest bit of `_flags` a subclass of {@link RunContext} may use. */
export const FIRST_FREE_FLAG = 4;
/** A standalone run's context (the top bit: subclasses count up from FIRST_FREE_FLAG). */
const STANDALONE = 1 << 30;

/**
 * One attempt of one job. Cancelling it before its signal was ever read
 * records the reason, so that a later read gets an already aborted signal.
 *
 * @internal
 */
export class RunContext implements JobContext {
  /**
   * The context's yes/no states, one bit each: a context exists per started
   * job, and a boolean field costs a word. Subclasses take bits from
   * {@link FIRST_FREE_FLAG} up.
   */
  declare _flags: number;
  /** The job, for `results()`. */
  declare _job: AbstractJob | undefined;
  /**
   * What most contexts never need (a signal, an abort reason, a retry, a
   * timer), in one object made the first time one of them is set. The
   * accessors below read and write it.
   */
  declare _rare: RareContextState | undefined;

  constructor(job?: AbstractJob) {
    // Fields are set here rather than by initialisers, which V8 runs as a
    // function of their own: a call more per started job, and most jobs of
    // a run start before the optimiser steps in.
    this._flags = 0;
    this._job = job;
    this._rare = undefined;
  }

  /** The AbortController behind `signal`, once `signal` was read. */
  get _controller(): AbortController | undefined {
    return this._rare?.controller;
  }
  set _controller(value: AbortController | undefined) {
    this._more().controller = value;
  }

  /** Why the signal is (to be) aborted. */
  get _reason(): unknown {
    return this._rare?.reason;
  }
  set _reason(value: unknown) {
    this._more().reason = value;
  }

  /** Which attempt of the job this context is for (1-based). */
  get _attempt(): number {
    return this._rare?.attempt ?? 1;
  }
  set _attempt(value: number) {
    if (value !== 1 || this._rare !== undefined) this._more().attempt = value;
  }

  /** The job's own timeout, or the wait before its next attempt (engine contexts). */
  get _timer(): ReturnType<typeof setTimeout> | undefined {
    return this._rare?.timer;
  }
  set _timer(value: ReturnType<typeof setTimeout> | undefined) {
    if (value !== undefined || this._rare !== undefined) this._more().timer = value;
  }

  /** The rarely needed state, made on first use. */
  _more(): RareContextState {
    if (this._rare === undefined) this._rare = new RareContextState();
    return this._rare;
  }

  /** The scheduler cancelled the job. */
  get _cancelled(): boolean {
    return (this._flags & CANCELLED) !== 0;
  }
  set _cancelled(value: boolean) {
    this._flags = withBit(this._flags, CANCELLED, value);
  }

  /** The context of a standalone run under way (see `AbstractJob.standaloneRun()`). */
  get _standalone(): boolean {
    return (this._flags & STANDALONE) !== 0;
  }
  set _standalone(value: boolean) {
    this._flags = withBit(this._flags, STANDALONE, value);
  }

  /** The signal is (to be) aborted: by a cancellation, or by the job's own timeout. */
  get _aborted(): boolean {
    return (this._flags & ABORTED) !== 0;
  }
  set _aborted(value: boolean) {
    this._flags = withBit(this._flags, ABORTED, value);
  }

  get signal(): AbortSignal {
    if (this._controller === undefined) {
      this._controller = new AbortController();
      if (this._aborted) this._controller.abort(this._reason);
    }
    return this._controller.signal;
  }

  get attempt(): number {
    return this._attempt;
  }

  // results and ready are getters handing out functions bound to this
  // context, so that `async ({ signal, results, ready }) => ...` works;
  // nothing is allocated for jobs that do not use them.

  get results(): <U>(requirement: AbstractJob<U>) => U {
    return (requirement) => this._results(requirement);
  }

  get ready(): () => void {
    return () => this._ready();
  }

  _results<U>(requirement: AbstractJob<U>): U {
    const job = this._self();
    // hasRequirement, not job.required: that would turn the job's compact
    // storage of its requirements into a Set.
    if (job === undefined || !hasRequirement(job, requirement)) {
      const me = job ? `job "${job.label ?? job.textLabel() ?? "NOLABEL"}"` : "this job";
      const them = `"${requirement?.label ?? requirement?.textLabel?.() ?? String(requirement)}"`;
      throw new Error(`${me}: results(${them}): that job is not one of its requirements`);
    }
    return requirement.result();
  }

  /** Outside a scheduler nothing waits on this job: readiness means nothing. */
  _ready(): void {}

  /** The job this context belongs to. */
  _self(): AbstractJob | undefined {
    return this._job;
  }

  /** Aborts the signal with `reason` (once; later calls do nothing). */
  cancel(reason: unknown): void {
    if (this._cancelled) return;
    this._cancelled = true;
    this.abort(reason);
  }

  /** Aborts the signal with `reason` without marking the job cancelled (its own timeout). */
  abort(reason: unknown): void {
    if (this._aborted) return;
    this._aborted = true;
    this._reason = reason;
    this._controller?.abort(reason);
    this._rare?.onAbort?.(reason);
  }
}
