/**
 * Validation of option objects and durations, shared by every constructor so
 * that a mistake is reported where it is made, with the option's name.
 */
import { describeValue, isPlainObject } from "./describe.js";

/**
 * Splits `[...items, options?]` into the items and the trailing options
 * object (a plain object is never a job, so the two cannot be confused).
 */
export function splitTrailingOptions<O extends object>(
  args: readonly unknown[],
): { items: unknown[]; options: Partial<O> } {
  const last = args[args.length - 1];
  if (args.length > 0 && isPlainObject(last)) {
    return { items: args.slice(0, -1), options: last as Partial<O> };
  }
  return { items: [...args], options: {} };
}

/** Throws a TypeError naming the first key of `options` that `allowed` lacks. */
export function rejectUnknownOptions(
  where: string,
  options: object,
  allowed: ReadonlySet<string>,
): void {
  // for...in rather than Object.keys(): no array per call (jobs are made
  // with options by the million). Own keys come first, in the same order;
  // inherited ones are skipped, as Object.keys() would.
  for (const key in options) {
    if (!allowed.has(key) && Object.hasOwn(options, key)) {
      const known = [...allowed].sort().join(", ");
      throw new TypeError(`${where}: unknown option "${key}" (known options: ${known})`);
    }
  }
}

/**
 * Checks the options object of a method: `undefined` (no options) or a plain
 * object whose keys are all in `allowed`. Throws a TypeError naming `where`
 * otherwise, so that nothing is applied with options the caller mistyped.
 */
export function checkOptions<O extends object>(
  where: string,
  value: unknown,
  allowed: ReadonlySet<string>,
): Partial<O> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new TypeError(`${where}: options must be a plain object, got ${describeValue(value)}`);
  }
  rejectUnknownOptions(where, value, allowed);
  return value as Partial<O>;
}

/**
 * The longest delay a timer can wait: Node (and browsers) store delays in a
 * signed 32-bit integer, and fire a longer one after 1 ms instead (about 24.8
 * days).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks a duration in milliseconds: a finite number from 0 to
 * `MAX_TIMER_MS` (2^31 − 1 ms), or null/undefined for "none". Returns it normalised
 * to `number | null`. Longer durations are refused rather than let a timer
 * fire after 1 ms.
 */
export function checkDuration(where: string, name: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number") {
    throw new TypeError(
      `${where}: option "${name}" must be a number of milliseconds or null, got ${describeValue(value)}`,
    );
  }
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `${where}: option "${name}" must be a finite number of milliseconds >= 0, got ${String(value)}`,
    );
  }
  if (value > MAX_TIMER_MS) {
    throw new RangeError(
      `${where}: option "${name}" must be at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest a timer waits), got ${String(value)}`,
    );
  }
  return value;
}

/** Checks a jobs window: an integer >= 0, or null/undefined (0 and null mean no limit). */
export function checkWindow(where: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number") {
    throw new TypeError(
      `${where}: option "jobsWindow" must be an integer or null, got ${describeValue(value)}`,
    );
  }
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `${where}: option "jobsWindow" must be an integer >= 0 (0 or null for no limit), got ${String(value)}`,
    );
  }
  return value;
}

/** Checks an optional boolean option. */
export function checkBoolean(
  where: string,
  name: string,
  value: unknown,
  fallback: boolean,
): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") {
    throw new TypeError(
      `${where}: option "${name}" must be a boolean, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Checks an optional string option. */
export function checkString(where: string, name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new TypeError(`${where}: option "${name}" must be a string, got ${describeValue(value)}`);
  }
  return value;
}
