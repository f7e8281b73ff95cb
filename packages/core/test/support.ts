/**
 * Test helpers: gates that jobs wait on, so tests drive a run step by step
 * through events instead of sleeping.
 */
import { Job, type JobContext } from "asyncjobs";
import { type Deferred, deferred } from "./deferred.js";
import { captureText } from "./presentation-capture.js";

export { type Deferred, deferred };

/** A job that signals when it starts and finishes when its gate opens (or its signal aborts). */
export interface GatedJob<T> {
  job: Job<T>;
  started: Promise<JobContext>;
  open: (value: T) => void;
  fail: (reason: unknown) => void;
  runs: () => number;
}

export function gatedJob<T = string>(
  label: string,
  options: ConstructorParameters<typeof Job>[1] = {},
): GatedJob<T> {
  let gate = deferred<T>();
  const started = deferred<JobContext>();
  let runs = 0;
  const job = new Job<T>(
    async (context) => {
      runs++;
      started.resolve(context);
      const current = gate;
      const aborted = new Promise<never>((_, reject) => {
        context.signal.addEventListener("abort", () => reject(context.signal.reason), {
          once: true,
        });
      });
      const value = await Promise.race([current.promise, aborted]);
      gate = deferred<T>();
      return value;
    },
    { label, ...options },
  );
  return {
    job,
    started: started.promise,
    open: (value) => gate.resolve(value),
    fail: (reason) => gate.reject(reason),
    runs: () => runs,
  };
}

/** Yields to the event loop `n` times (lets pending promise chains settle). */
export async function ticks(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Runs `fn` with the library's output captured; returns what was written.
 * (Only string chunks: the test runner's own binary reports pass through.)
 */
export const captureOutput = captureText;

/** A job that resolves `value` after yielding once. */
export function quickJob<T>(
  label: string,
  value: T,
  options: ConstructorParameters<typeof Job>[1] = {},
): Job<T> {
  return new Job<T>(
    async () => {
      await Promise.resolve();
      return value;
    },
    { label, ...options },
  );
}
