/**
 * The words both views use for a row: its outcome, its error, its timing.
 */
import { CommandError, CommandJob } from "@asyncjobs/node";
import { formatDuration } from "./duration.js";
import type { Row } from "./run-model.js";

/** `Name: message` (first line) of anything a job threw. */
export function errorText(error: unknown): string {
  if (
    error instanceof Error ||
    (error !== null && typeof error === "object" && "message" in error)
  ) {
    const { name, message } = error as { name?: unknown; message?: unknown };
    const first = String(message ?? "").split("\n")[0];
    return `${typeof name === "string" && name ? name : "Error"}: ${first}`;
  }
  return `${typeof error}: ${String(error)}`;
}

/** What a finished row shows: the result worth showing, or the error; undefined when nothing is. */
export function outcomeText(row: Row): string | undefined {
  const job = row.job;
  if (row.state === "failed") {
    const error = job.raisedException();
    if (CommandError.isCommandError(error)) {
      const last = error.stderr[error.stderr.length - 1]?.trim();
      return `${error.name}: ${error.reason}${last ? ` | ${last}` : ""}`;
    }
    return errorText(error);
  }
  if (row.state === "cancelled") return "cancelled";
  if (row.state !== "done" || row.group) return undefined;
  if (CommandJob.isCommandJob(job) && !job.capture) return undefined;
  let value: unknown;
  try {
    value = job.result();
  } catch {
    return undefined;
  }
  if (value === undefined) return undefined;
  if (typeof value === "string") return `→ ${value.split("\n").pop()}`;
  try {
    return `→ ${JSON.stringify(value) ?? String(value)}`;
  } catch {
    return `→ ${String(value)}`;
  }
}

/**
 * What a row says about retries, once the job has retried: the attempt
 * under way (`attempt 2 of 4`) while it runs, how many it took
 * (`3 attempts`) once it finished.
 */
export function attemptText(row: Row): string | undefined {
  if (row.attempt <= 1) return undefined;
  if (row.state !== "running") return `${row.attempt} attempts`;
  const retries = row.job.retry?.retries;
  return retries === undefined
    ? `attempt ${row.attempt}`
    : `attempt ${row.attempt} of ${retries + 1}`;
}

/** How long a row ran (or has been running), or undefined before it starts. */
export function rowDuration(row: Row, now: number): number | undefined {
  if (row.started === undefined) return undefined;
  return (row.ended ?? now) - row.started;
}

/** `1.2s`, `850ms`: a row's time as text, or an empty string. */
export function rowTime(row: Row, now: number): string {
  const ms = rowDuration(row, now);
  return ms === undefined ? "" : formatDuration(ms);
}

const ASCII_REPLACEMENTS: [RegExp, string][] = [
  [/·/g, "|"],
  [/→/g, "->"],
  [/…/g, "..."],
  [/─/g, "-"],
];

/** The views' own non-ASCII characters replaced, for --ascii. */
export function asciiText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of ASCII_REPLACEMENTS) out = out.replace(pattern, replacement);
  return out;
}
