/**
 * What a job's `run` receives: its abort signal, created only when read so
 * that jobs which never look at it cost no AbortController.
 */

/** What every job's `run` is handed. */
export interface JobContext {
  /**
   * Aborted when the scheduler cancels the job (a forever job at the end of
   * the run, running jobs after a timeout, a critical failure or an abort of
   * the run). Its `reason` says why.
   */
  readonly signal: AbortSignal;
}

/**
 * One attempt of one job. Cancelling it before its signal was ever read
 * records the reason, so that a later read gets an already aborted signal.
 *
 * @internal
 */
export class RunContext implements JobContext {
  _controller: AbortController | undefined = undefined;
  _cancelled = false;
  _reason: unknown = undefined;

  get signal(): AbortSignal {
    if (this._controller === undefined) {
      this._controller = new AbortController();
      if (this._cancelled) this._controller.abort(this._reason);
    }
    return this._controller.signal;
  }

  /** Aborts the signal with `reason` (once; later calls do nothing). */
  cancel(reason: unknown): void {
    if (this._cancelled) return;
    this._cancelled = true;
    this._reason = reason;
    this._controller?.abort(reason);
  }
}
