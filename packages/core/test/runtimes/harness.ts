/**
 * A tiny test harness that needs nothing but the language and the web
 * platform's standard globals, so that the same bundle runs unchanged in
 * Node, Deno, Bun and a browser page.
 */

/** One registered test. */
interface TestCase {
  name: string;
  fn: () => unknown;
}

/** What a whole run reports. */
export interface Summary {
  passed: number;
  failed: number;
  failures: string[];
}

const cases: TestCase[] = [];

/** Registers a test; `fn` may be async. */
export function test(name: string, fn: () => unknown): void {
  cases.push({ name, fn });
}

/** Thrown by the assertions below. */
export class AssertionFailure extends Error {
  override name = "AssertionFailure";
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Fails unless `actual === expected` (Object.is). */
export function equal<T>(actual: T, expected: T, message = ""): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionFailure(
      `${message ? `${message}: ` : ""}${show(actual)} !== ${show(expected)}`,
    );
  }
}

/** Fails unless both values have the same JSON text. */
export function sameJson(actual: unknown, expected: unknown, message = ""): void {
  equal(JSON.stringify(actual), JSON.stringify(expected), message);
}

/** Fails unless `condition` is truthy. */
export function ok(condition: unknown, message = "expected a truthy value"): asserts condition {
  if (!condition) throw new AssertionFailure(message);
}

/** Fails unless `promise` rejects with a reason that `check` accepts. */
export async function rejects(
  promise: Promise<unknown>,
  check: (reason: unknown) => boolean,
  message = "unexpected rejection",
): Promise<void> {
  let settled: { value: unknown } | undefined;
  try {
    settled = { value: await promise };
  } catch (reason) {
    if (!check(reason)) throw new AssertionFailure(`${message}: ${show(reason)}`);
    return;
  }
  throw new AssertionFailure(`expected a rejection, got ${show(settled.value)}`);
}

import { type Deferred, deferred } from "../deferred.js";

export { type Deferred, deferred };

/** Lets pending promise reactions run, `n` microtask turns in a row. */
export async function microtasks(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

/** Unhandled rejections seen while the tests run, whatever the runtime reports them through. */
function watchUnhandledRejections(): { seen: unknown[]; stop: () => void } {
  const seen: unknown[] = [];
  const scope = globalThis as {
    addEventListener?: (type: string, listener: (event: { reason: unknown }) => void) => void;
    removeEventListener?: (type: string, listener: (event: { reason: unknown }) => void) => void;
    process?: {
      on?: (type: string, listener: (reason: unknown) => void) => void;
      off?: (type: string, listener: (reason: unknown) => void) => void;
    };
  };
  const onEvent = (event: { reason: unknown; preventDefault?: () => void }): void => {
    event.preventDefault?.();
    seen.push(event.reason);
  };
  const onProcess = (reason: unknown): void => {
    seen.push(reason);
  };
  // Node and Bun report through `process`; Deno and browsers through the
  // global scope.
  const useProcess = typeof scope.process?.on === "function" && !("Deno" in globalThis);
  if (useProcess) scope.process?.on?.("unhandledRejection", onProcess);
  else scope.addEventListener?.("unhandledrejection", onEvent);
  return {
    seen,
    stop: () => {
      if (useProcess) scope.process?.off?.("unhandledRejection", onProcess);
      else scope.removeEventListener?.("unhandledrejection", onEvent);
    },
  };
}

/**
 * Runs every registered test in order, printing one line per test with
 * `print`; resolves with the counts. An unhandled rejection during the run
 * counts as a failure of its own.
 */
export async function runAll(print: (line: string) => void): Promise<Summary> {
  const summary: Summary = { passed: 0, failed: 0, failures: [] };
  const unhandled = watchUnhandledRejections();
  for (const { name, fn } of cases) {
    try {
      await fn();
      summary.passed++;
      print(`ok - ${name}`);
    } catch (error) {
      summary.failed++;
      const reason = error instanceof Error ? (error.stack ?? error.message) : show(error);
      summary.failures.push(`${name}: ${reason}`);
      print(`not ok - ${name}\n  ${reason.replaceAll("\n", "\n  ")}`);
    }
  }
  // A rejection is reported as unhandled a task or two after it happens.
  for (let turn = 0; turn < 3; turn++) {
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    await microtasks();
  }
  unhandled.stop();
  if (unhandled.seen.length > 0) {
    summary.failed++;
    const reasons = unhandled.seen.map(show).join(", ");
    summary.failures.push(`unhandled rejections: ${reasons}`);
    print(`not ok - no unhandled rejection\n  ${reasons}`);
  }
  return summary;
}
