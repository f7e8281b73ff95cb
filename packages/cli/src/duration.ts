/**
 * Durations as people write them on a command line or in a workflow file:
 * `500ms`, `30s`, `2m`, `1h`, `1m30s`, `1.5s`. A unit is always required, so
 * that `30` is never read as 30 ms when 30 s was meant.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/gy;

/** Milliseconds in `text`, or undefined when it is not a duration with units. */
export function parseDuration(text: string): number | undefined {
  const source = text.trim();
  if (source === "") return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let end = 0;
  for (let match = PART.exec(source); match; match = PART.exec(source)) {
    total += Number(match[1]) * UNITS[match[2]!]!;
    end = PART.lastIndex;
  }
  return end === source.length ? Math.round(total) : undefined;
}

/**
 * The longest timeout the command line accepts: 2^31 − 1 ms (24.8 days),
 * the longest a Node timer waits. A longer one would fire after 1 ms.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** What to say about a timeout beyond {@link MAX_TIMEOUT_MS}. */
export const MAX_TIMEOUT_HINT = "at most 596h31m (2^31 - 1 ms, the longest a timer waits)";

/** What to say when a duration cannot be read. */
export const DURATION_HINT = "a duration with a unit, like 500ms, 30s, 2m, 1h or 1m30s";

/** A short human duration: `850ms`, `4.2s`, `1m05s`, `2h03m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) {
    const rest = seconds % 60;
    return `${Math.floor(seconds / 60)}m${rest === 0 ? "" : `${String(rest).padStart(2, "0")}s`}`;
  }
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
