/**
 * A stopwatch for debugging output, as in the original: it remembers a start
 * and prints the time elapsed since then as `SSS.MMM` (seconds).
 */
import { describeValue } from "./describe.js";
import { checkBoolean, checkOptions } from "./options.js";
import { writeOut } from "./output.js";

const WATCH_OPTION_NAMES: ReadonlySet<string> = new Set(["showElapsed", "showWallClock"]);

function checkSuffix(where: string, suffix: unknown): string {
  if (typeof suffix !== "string") {
    throw new TypeError(`Watch.${where}: suffix must be a string, got ${describeValue(suffix)}`);
  }
  return suffix;
}

function now(): number {
  return performance.now();
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/** Formats a number of seconds as `SSS.MMM`. */
export function formatSeconds(seconds: number): string {
  const totalMs = Math.max(0, Math.round(seconds * 1000));
  return `${pad(Math.floor(totalMs / 1000), 3)}.${pad(totalMs % 1000, 3)}`;
}

/** Options of {@link Watch}'s constructor. */
export interface WatchOptions {
  /** Print `000.000` before the message at creation (default true). */
  showElapsed?: boolean;
  /** Print the wall clock before the message at creation (default false). */
  showWallClock?: boolean;
}

/**
 * Remembers a starting point so that verbose output can show times relative
 * to it. Durations here are in seconds, as the text it prints.
 *
 * @example
 * ```ts
 * const watch = new Watch("hello there"); // prints "000.000  hello there"
 * // ... later
 * watch.printElapsed(); // prints "001.000 "
 * ```
 */
export class Watch {
  #start: number = now();

  /**
   * @param message - when given, printed at once, preceded by the elapsed
   *   time (and/or the wall clock, per `options`); not printed when both
   *   are turned off.
   */
  constructor(message?: string | null, options?: WatchOptions | null) {
    if (message !== undefined && message !== null && typeof message !== "string") {
      throw new TypeError(`Watch(): message must be a string, got ${describeValue(message)}`);
    }
    const given = checkOptions<WatchOptions>("Watch()", options ?? undefined, WATCH_OPTION_NAMES);
    const showElapsed = checkBoolean("Watch()", "showElapsed", given.showElapsed, true);
    const showWallClock = checkBoolean("Watch()", "showWallClock", given.showWallClock, false);
    // With neither time shown, the original prints nothing at all.
    if (message !== undefined && message !== null && (showElapsed || showWallClock)) {
      if (showWallClock) Watch.printWallClock();
      if (showElapsed) this.printElapsed();
      writeOut(` ${message}\n`);
    }
  }

  /** Seconds elapsed since the start, with milliseconds, as `SSS.MMM`. */
  elapsed(): string {
    return formatSeconds(this.seconds());
  }

  /** Seconds elapsed since the start, as a number. */
  seconds(): number {
    return (now() - this.#start) / 1000;
  }

  /** Prints `SSS.MMM` followed by `suffix` (a space by default, no newline). */
  printElapsed(suffix = " "): void {
    writeOut(`${this.elapsed()}${checkSuffix("printElapsed()", suffix)}`);
  }

  /** Prints the wall clock as `HH:MM:SS.MMM` followed by `suffix`. */
  static printWallClock(suffix = " "): void {
    writeOut(`${Watch.wallClock()}${checkSuffix("printWallClock()", suffix)}`);
  }

  /** The wall clock as `HH:MM:SS.MMM`, local time. */
  static wallClock(date: Date = new Date()): string {
    if (!(date instanceof Date)) {
      throw new TypeError(`Watch.wallClock(): date must be a Date, got ${describeValue(date)}`);
    }
    return `${pad(date.getHours(), 2)}:${pad(date.getMinutes(), 2)}:${pad(date.getSeconds(), 2)}.${pad(date.getMilliseconds(), 3)}`;
  }

  /** Restarts the watch from now. */
  reset(): void {
    this.#start = now();
  }
}
