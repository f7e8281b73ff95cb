/**
 * Capturing what the library prints. Only string chunks are taken: the
 * library writes strings, while Node's test runner, in the same process,
 * writes its own reports as binary chunks, which must go through untouched.
 */

/** Runs `fn` with the library's output captured; returns what was written. */
export async function captureText(fn: () => unknown): Promise<string> {
  const chunks: string[] = [];
  const original = process.stdout.write;
  process.stdout.write = function (
    this: typeof process.stdout,
    chunk: unknown,
    ...rest: unknown[]
  ) {
    if (typeof chunk === "string") {
      chunks.push(chunk);
      return true;
    }
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = original;
  }
  return chunks.join("");
}
