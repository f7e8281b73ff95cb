/**
 * Checks of the options of remote jobs, reported where the mistake is made.
 *
 * @module
 */
import { describeValue, isPlainObject, rejectUnknownOptions } from "asyncjobs/extend";

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
