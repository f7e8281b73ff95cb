/**
 * The symbols of the status badge, in Unicode and in the ASCII fallback used
 * when the output cannot show Unicode (or when `ASYNCJOBS_ASCII=1`).
 */
import { environmentVariable } from "../util/output.js";

/** One set of badge symbols, one per position and value. */
export interface BadgeSymbols {
  /** Position 1: the job is critical. */
  readonly critical: string;
  /** Position 2: the job is done and raised an exception. */
  readonly raised: string;
  /** Position 2: the job is running or done, without an exception. */
  readonly fine: string;
  /** Position 3: idle (requirements not met yet). */
  readonly idle: string;
  /** Position 3: scheduled (waiting for a slot in the window). */
  readonly scheduled: string;
  /** Position 3: running. */
  readonly running: string;
  /** Position 3: done. */
  readonly done: string;
  /** Position 3: skipped (its trigger rule was not met; it never ran). */
  readonly skipped: string;
  /** Position 3: cancelled by its scheduler while it ran (its signal aborted). */
  readonly cancelled: string;
  /** Position 4: the job runs forever. */
  readonly forever: string;
}

/** The symbols of the original, for terminals that show Unicode. */
export const UNICODE_SYMBOLS: BadgeSymbols = Object.freeze({
  critical: "⚠",
  raised: "★",
  fine: "☉",
  idle: "⚐",
  scheduled: "⚑",
  running: "↺",
  done: "☓",
  skipped: "⊘",
  cancelled: "⊗",
  forever: "∞",
});

/** The ASCII fallback of the original (position 2 is two characters wide there). */
export const ASCII_SYMBOLS: BadgeSymbols = Object.freeze({
  critical: "!",
  raised: ":(",
  fine: ":)",
  idle: ">",
  scheduled: ".",
  running: "o",
  done: "x",
  skipped: "-",
  cancelled: "/",
  forever: "8",
});

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off"]);

/**
 * Whether listings should use ASCII. `ASYNCJOBS_ASCII` forces the choice
 * (`1`/`true` or `0`/`false`). Otherwise ASCII is chosen when the output is
 * known not to show these symbols: a locale naming a charset other than
 * UTF-8 (`LANG=fr_FR.ISO-8859-1`), the bare Linux console (`TERM=linux`,
 * whose font lacks them), or the legacy Windows console. An unset locale, or
 * `C`/`POSIX`, counts as UTF-8, as it does for modern Python, whose output
 * the original's detection relied on.
 */
export function prefersAscii(): boolean {
  const forced = environmentVariable("ASYNCJOBS_ASCII")?.trim().toLowerCase();
  if (forced !== undefined && TRUE_WORDS.has(forced)) return true;
  if (forced !== undefined && FALSE_WORDS.has(forced)) return false;
  const locale =
    environmentVariable("LC_ALL") || environmentVariable("LC_CTYPE") || environmentVariable("LANG");
  if (locale && locale !== "C" && locale !== "POSIX" && !/utf-?8/i.test(locale)) return true;
  if (environmentVariable("TERM") === "linux") return true;
  const platform = (globalThis as { process?: { platform?: string } }).process?.platform;
  return (
    platform === "win32" &&
    environmentVariable("WT_SESSION") === undefined &&
    environmentVariable("TERM_PROGRAM") === undefined
  );
}

/** The symbols to use now; read at each call, so that a change of environment applies at once. */
export function currentSymbols(): BadgeSymbols {
  return prefersAscii() ? ASCII_SYMBOLS : UNICODE_SYMBOLS;
}
