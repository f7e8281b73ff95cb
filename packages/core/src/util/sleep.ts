/**
 * An abortable sleep that never leaves a timer behind: aborting clears it.
 */
import { describeValue } from "./describe.js";
import { MAX_TIMER_MS } from "./options.js";

/**
 * Resolves after `ms` milliseconds, or rejects with `signal.reason` as soon
 * as `signal` aborts (clearing the timer, so nothing keeps the process alive).
 */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  // Bad arguments reject at once: a NaN or negative delay would otherwise
  // fire at once, and a non-signal would throw from inside the timer setup.
  if (typeof ms !== "number") {
    return Promise.reject(
      new TypeError(`sleep(): ms must be a number of milliseconds, got ${describeValue(ms)}`),
    );
  }
  if (!Number.isFinite(ms) || ms < 0) {
    return Promise.reject(
      new RangeError(`sleep(): ms must be a finite number of milliseconds >= 0, got ${ms}`),
    );
  }
  // A timer fires a longer delay after 1 ms: refused rather than cut short.
  if (ms > MAX_TIMER_MS) {
    return Promise.reject(
      new RangeError(
        `sleep(): ms must be at most ${MAX_TIMER_MS} (about 24.8 days, the longest a timer waits), got ${ms}`,
      ),
    );
  }
  if (signal === null) signal = undefined;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return Promise.reject(
      new TypeError(`sleep(): signal must be an AbortSignal, got ${describeValue(signal)}`),
    );
  }
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
