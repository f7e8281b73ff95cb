/**
 * The symbols of the status badge, in Unicode and in the ASCII fallback used
 * when the output cannot show Unicode (or `ASYNCJOBS_ASCII=1`).
 */
import { environmentVariable } from "../util/output.js";

/** One set of badge symbols. */
export interface BadgeSymbols {
  critical: string;
  raised: string;
  fine: string;
  idle: string;
  scheduled: string;
  running: string;
  done: string;
  forever: string;
  /** Used where a position has nothing to show, as wide as its symbols. */
  blank: string;
}

export const UNICODE_SYMBOLS: BadgeSymbols = {
  critical: "⚠",
  raised: "★",
  fine: "☉",
  idle: "⚐",
  scheduled: "⚑",
  running: "↺",
  done: "☓",
  forever: "∞",
  blank: " ",
};

export const ASCII_SYMBOLS: BadgeSymbols = {
  critical: "!",
  raised: ":(",
  fine: ":)",
  idle: ">",
  scheduled: ".",
  running: "o",
  done: "x",
  forever: "8",
  blank: " ",
};

/**
 * Whether to print ASCII: forced either way by `ASYNCJOBS_ASCII` (`1`/`0`),
 * else chosen when the locale says the terminal is not UTF-8 (`LANG=C`,
 * `POSIX`, or a non-UTF-8 charset) or the terminal is the bare Linux console.
 */
export function prefersAscii(): boolean {
  const forced = environmentVariable("ASYNCJOBS_ASCII");
  if (forced !== undefined && forced !== "") return forced !== "0" && forced !== "false";
  const locale =
    environmentVariable("LC_ALL") || environmentVariable("LC_CTYPE") || environmentVariable("LANG");
  if (locale && !/utf-?8/i.test(locale)) return true;
  return environmentVariable("TERM") === "linux";
}

/** The symbols to use now (read at each call, so the environment may change). */
export function currentSymbols(): BadgeSymbols {
  return prefersAscii() ? ASCII_SYMBOLS : UNICODE_SYMBOLS;
}
