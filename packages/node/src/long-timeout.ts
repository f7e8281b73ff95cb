/**
 * Timers for any duration. Node fires a `setTimeout` of more than 2^31 − 1 ms
 * (24.8 days) after 1 ms, with a warning: a job's timeout of a month would
 * kill its program at once. Longer waits are chained out of shorter ones.
 *
 * @module
 */

/** The longest delay `setTimeout` honours. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** Calls `callback` after `ms` milliseconds, however many; returns what cancels it. */
export function setLongTimeout(callback: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const arm = (left: number): void => {
    timer =
      left > MAX_TIMER_DELAY
        ? setTimeout(arm, MAX_TIMER_DELAY, left - MAX_TIMER_DELAY)
        : setTimeout(callback, left);
  };
  arm(ms);
  return () => clearTimeout(timer);
}
