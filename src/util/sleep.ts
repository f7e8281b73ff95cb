/**
 * An abortable sleep that never leaves a timer behind: aborting clears it.
 */

/**
 * Resolves after `ms` milliseconds, or rejects with `signal.reason` as soon
 * as `signal` aborts (clearing the timer, so nothing keeps the process alive).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
