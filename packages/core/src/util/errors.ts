/**
 * Error classes the engine raises.
 *
 * @module
 */

/** Whether `value` is the `DOMException` that `AbortSignal.timeout()` aborts with. */
function isDomTimeout(value: unknown): boolean {
  return (
    typeof DOMException === "function" &&
    value instanceof DOMException &&
    value.name === "TimeoutError"
  );
}

/**
 * Raised when a scheduler's overall `timeout` expires: a critical
 * `Scheduler` rejects with it, and the signals of the jobs it cancels are
 * aborted with it.
 *
 * `instanceof TimeoutError` also holds for the `DOMException` named
 * `"TimeoutError"` that `AbortSignal.timeout()` aborts with: a run given
 * `{ signal: AbortSignal.timeout(50) }` rejects with that signal's reason
 * itself, and one check then covers both kinds of timeout. (Subclasses of
 * TimeoutError match their own instances only.)
 *
 * @example
 * ```ts
 * try {
 *   await scheduler.run({ signal: AbortSignal.timeout(50) });
 * } catch (error) {
 *   if (error instanceof TimeoutError) console.log("too slow");
 * }
 * ```
 */
export class TimeoutError extends Error {
  /** `"TimeoutError"`, as `DOMException`s of timeouts are named too. */
  override name = "TimeoutError";

  /** Instances, and the `DOMException` of `AbortSignal.timeout()` (for TimeoutError itself). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class on the right of instanceof: subclasses keep the usual check.
    // biome-ignore lint/complexity/noThisInStatic: see above.
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    // biome-ignore lint/complexity/noThisInStatic: see above.
    return this === TimeoutError && isDomTimeout(value);
  }
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
