/**
 * A promise with its settling functions, for tests that drive a run step by
 * step: shared by the Node tests (support.ts) and the bundle that runs in
 * Deno, Bun and browsers (runtimes/harness.ts), so it imports nothing.
 */

/** A promise with its resolve and reject functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/** Makes a {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
