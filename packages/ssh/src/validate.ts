/**
 * Checks of the options of remote jobs, reported where the mistake is made.
 *
 * @module
 */
import {
  checkDuration,
  describeValue,
  isPlainObject,
  rejectUnknownOptions,
} from "asyncjobs/extend";

/** The longest delay Node's timers honour; a longer one fires after 1 ms. */
export const MAX_TIMER_DELAY = 2_147_483_647;

/**
 * An optional duration in milliseconds that a timer will wait: as
 * `checkDuration`, and no longer than Node's timers can wait (about 24.8
 * days), since a longer delay would fire at once.
 */
export function checkTimer(where: string, name: string, value: unknown): number | null {
  const duration = checkDuration(where, name, value);
  if (duration !== null && duration > MAX_TIMER_DELAY) {
    throw new RangeError(
      `${where}: option "${name}" must be at most ${MAX_TIMER_DELAY} ms (about 24.8 days), got ${duration}`,
    );
  }
  return duration;
}

/** Throws unless `options` is a plain object whose keys are all in `names`. */
export function checkOptions(where: string, options: unknown, names: ReadonlySet<string>): void {
  if (!isPlainObject(options)) {
    throw new TypeError(`${where}: options must be a plain object, got ${describeValue(options)}`);
  }
  rejectUnknownOptions(where, options, names);
}

/** An optional integer >= 0, or `fallback`. */
export function checkCount(where: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new TypeError(
      `${where}: option "${name}" must be an integer >= 0, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** An optional list of strings (or one string), as a fresh array. */
export function checkWords(where: string, name: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  if (!Array.isArray(value) || !value.every((word) => typeof word === "string")) {
    throw new TypeError(`${where}: ${name} must be a list of strings, got ${describeValue(value)}`);
  }
  return [...value];
}

/** An optional function. */
export function checkFunction<F>(where: string, name: string, value: F | undefined): F | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "function") {
    throw new TypeError(
      `${where}: option "${name}" must be a function, got ${describeValue(value)}`,
    );
  }
  return value;
}
