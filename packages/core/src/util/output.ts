/**
 * Where printing methods write. The core must run outside Node, so standard
 * output is reached through `globalThis.process` when it exists and through
 * `console.log` otherwise (browsers, and runtimes without a process object).
 */

interface TextSink {
  write(text: string): unknown;
}

function stdout(): TextSink | undefined {
  const proc = (globalThis as { process?: { stdout?: TextSink } }).process;
  const out = proc?.stdout;
  return out && typeof out.write === "function" ? out : undefined;
}

/** Writes `text` as is (no newline added) to standard output. */
export function writeOut(text: string): void {
  const out = stdout();
  if (out) {
    out.write(text);
  } else {
    console.log(text.endsWith("\n") ? text.slice(0, -1) : text);
  }
}

/**
 * Reads an environment variable where the runtime has them; `undefined` where
 * reading is not allowed (Deno without `--allow-env` throws on the read).
 */
export function environmentVariable(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  try {
    return proc?.env?.[name];
  } catch {
    return undefined;
  }
}
