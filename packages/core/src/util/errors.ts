/**
 * Error classes the engine raises.
 *
 * @module
 */

/**
 * Raised when a scheduler's overall `timeout` expires: a critical
 * `Scheduler` rejects with it, and the signals of the jobs it cancels are
 * aborted with it.
 */
export class TimeoutError extends Error {
  /** `"TimeoutError"`, as `DOMException`s of timeouts are named too. */
  override name = "TimeoutError";
}

/**
 * The reason a job's signal is aborted with when its scheduler cancels it for
 * any reason other than a timeout or a caller's abort: a forever job at the end
 * of a run, or running jobs after a critical failure.
 */
export class CancelledError extends Error {
  /** `"CancelledError"`. */
  override name = "CancelledError";
}
