/**
 * A job's lifecycle and outcome as one word, with the colour graphs paint it
 * in when drawn with `{ status: true }`: the picture of a run.
 */
import type { AbstractJob } from "../jobs/abstract-job.js";
import { formatException, formatValue } from "./repr.js";

/** Where a job is after (or during) a run, outcome included. */
export type JobStatus =
  | "idle"
  | "scheduled"
  | "running"
  | "cancelled"
  | "done"
  | "raised"
  | "skipped";

/** The status of `job`: its lifecycle, refined by its outcome once done or cancelled. */
export function statusOf(job: AbstractJob): JobStatus {
  if (job.isDone()) return job._raised ? "raised" : "done";
  if (job.isCancelled()) return "cancelled";
  if (job.isSkipped()) return "skipped";
  if (job.isRunning()) return "running";
  return job.isScheduled() ? "scheduled" : "idle";
}

/** Fill colours: light, so that the red borders of critical jobs stay visible. */
export const STATUS_COLOURS: Readonly<Record<JobStatus, string>> = Object.freeze({
  idle: "#ffffff",
  scheduled: "#fff3bf",
  running: "#d0ebff",
  cancelled: "#dee2e6",
  done: "#d3f9d8",
  raised: "#ffc9c9",
  skipped: "#f1f3f5",
});

const MAX_DETAIL = 40;

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_DETAIL ? `${oneLine.slice(0, MAX_DETAIL - 1)}…` : oneLine;
}

/** A short line saying how the job is doing: `done -> 42`, `raised Error:boom`, `idle`. */
export function statusLine(job: AbstractJob): string {
  const status = statusOf(job);
  if (status === "done") return shorten(`done -> ${formatValue(job._outcome)}`);
  if (status === "raised") return shorten(`raised ${formatException(job._outcome)}`);
  return status;
}
