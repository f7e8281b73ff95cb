/**
 * The data the page receives: a snapshot of the whole run when it loads,
 * then batches of what changed, and a job's details when it is clicked.
 * Times are milliseconds since the run started.
 */

import { type AbstractJob, estimateTimeLeft, type PureScheduler, type TraceSpan } from "asyncjobs";
import { isScheduler } from "asyncjobs/extend";
import { type JobRecord, type JobState, type RunWatch, stateOf } from "./watch.js";

/** Counts of the jobs that are not groups. */
export interface Counts {
  idle: number;
  scheduled: number;
  running: number;
  done: number;
  failed: number;
  cancelled: number;
  skipped: number;
  total: number;
}

/** One job, as the table, the graph and the timeline need it. */
export interface JobSummary {
  /** Its index in the run's list of jobs. */
  i: number;
  /** Its id in graphs and listings. */
  id: string;
  label: string;
  path: string;
  /** Index of the group holding it, -1 at the top. */
  parent: number;
  depth: number;
  kind: JobRecord["kind"];
  critical: boolean;
  forever: boolean;
  state: JobState;
  start: number | null;
  end: number | null;
  attempts: number;
  lastLine: string;
  /** Indices of the jobs it requires. */
  requires: number[];
}

/** A job's changes: `[index, state, start, end, attempts, lastLine]`. */
export type JobChange = [number, JobState, number | null, number | null, number, string];

/** What the page shows above the graph. */
export interface Progress {
  elapsed: number;
  /** Milliseconds left, roughly; null when nothing can be said. */
  eta: number | null;
  counts: Counts;
  /** Whether the run has started, ended, and succeeded. */
  started: boolean;
  ended: boolean;
  ok: boolean | null;
  why: string;
}

/** The whole run, when the page loads. */
export interface Snapshot extends Progress {
  title: string;
  jobs: JobSummary[];
  /** Whether the graph is drawn one group at a time, groups folded into nodes. */
  collapsed: boolean;
}

/** What changed since the last batch. */
export interface Batch extends Progress {
  jobs: JobChange[];
  /**
   * New output lines: `[index, first, [[stream, line], ...]]`, where `first`
   * numbers the first line in the job's output, and stream 1 is stderr.
   */
  out: [number, number, [0 | 1, string][]][];
}

/** A job's details, shown on a click. */
export interface JobDetails {
  i: number;
  id: string;
  label: string;
  path: string;
  kind: JobRecord["kind"];
  state: JobState;
  critical: boolean;
  forever: boolean;
  start: number | null;
  end: number | null;
  attempts: number;
  /** The result, as text, when the job is done and did not raise. */
  result: string | null;
  /** The exception with its stack, when the job raised. */
  error: string | null;
  /** Its description, as `list()` shows it. */
  details: string;
  /** Output lines kept: `[stream, text]`, stream 1 for stderr. */
  output: [0 | 1, string][];
  /** How many earlier lines were not kept. */
  dropped: number;
}

const MAX_TEXT = 20_000;

function capped(text: string): string {
  return text.length > MAX_TEXT
    ? `${text.slice(0, MAX_TEXT)}\n… (${text.length - MAX_TEXT} more characters)`
    : text;
}

/** A value as text: strings as they are, the rest as JSON when it can be. */
export function describeResult(value: unknown): string {
  if (typeof value === "string") return capped(value);
  if (value === undefined) return "undefined";
  try {
    const json = JSON.stringify(value, null, 2);
    if (json !== undefined) return capped(json);
  } catch {
    // Cycles, BigInts: fall back to String().
  }
  return capped(String(value));
}

/** An exception with its stack and causes. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    if (current instanceof Error) {
      const head = `${current.name}: ${current.message}`;
      const stack = current.stack ?? head;
      parts.push(stack.includes(current.message) ? stack : `${head}\n${stack}`);
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return capped(parts.join("\nCaused by: "));
}

function spanOf(watch: RunWatch, job: AbstractJob): TraceSpan | undefined {
  return watch.trace()?.spanOf(job);
}

function round(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value * 10) / 10;
}

/** The elapsed milliseconds of the run. */
function elapsed(watch: RunWatch, now: number): number {
  if (watch.started === undefined) return 0;
  return Math.round((watch.ended ?? now) - watch.started);
}

const ZERO: Readonly<Counts> = {
  idle: 0,
  scheduled: 0,
  running: 0,
  done: 0,
  failed: 0,
  cancelled: 0,
  skipped: 0,
  total: 0,
};

/** Counts of the jobs that are not groups, as they are now. */
export function countJobs(watch: RunWatch): Counts {
  const counts: Counts = { ...ZERO };
  for (const record of watch.records) {
    if (record.group) continue;
    counts.total++;
    counts[stateOf(record.job, watch.cancelled)]++;
  }
  return counts;
}

/**
 * A rough estimate of the milliseconds left, as the terminal view makes it:
 * every unfinished job is assumed to take as long as the finished ones did
 * on average, along the longest chain of requirements, and no less than the
 * remaining work spread over the top window. Undefined until a job has
 * finished, or when a running job has already outlasted the average.
 */
export function estimateLeft(watch: RunWatch, now: number, counts?: Counts): number | undefined {
  if (watch.ended !== undefined || watch.started === undefined) return undefined;
  // Above the folding size, the walk along chains costs more than it tells:
  // the work left spread over the jobs running now will do, from what the
  // batches counted.
  if (counts !== undefined && watch.records.length > COLLAPSE_ABOVE) {
    const { took, finished } = watch.settled;
    if (finished === 0) return undefined;
    const left = counts.idle + counts.scheduled + counts.running;
    const slots = watch.scheduler.jobsWindow || Math.max(1, counts.running);
    const estimate = ((took / finished) * left) / slots;
    return estimate > 0 ? estimate : undefined;
  }
  const trace = watch.trace();
  if (trace === undefined) return undefined;
  let sum = 0;
  let finished = 0;
  for (const span of trace.spans) {
    if (span.job.forever || isScheduler(span.job)) continue;
    if ((span.outcome === "done" || span.outcome === "failed") && span.start !== undefined) {
      sum += (span.end ?? span.start) - span.start;
      finished++;
    }
  }
  if (finished === 0) return undefined;
  const average = sum / finished;
  const clock = now - trace.origin;
  let unknown = false;
  const left = (record: JobRecord): number => {
    const state = stateOf(record.job, watch.cancelled);
    if (record.job.forever || state === "done" || state === "failed") return 0;
    if (state === "cancelled" || state === "skipped") return 0;
    const start = state === "running" ? trace.spanOf(record.job)?.start : undefined;
    if (start !== undefined) {
      if (clock - start > average) unknown = true;
      return Math.max(average - (clock - start), 0);
    }
    return average;
  };
  const estimate = estimateTimeLeft(watch.scheduler, (job) => {
    const record = watch.byJob.get(job);
    return record === undefined ? undefined : left(record);
  });
  return estimate > 0 && !unknown ? estimate : undefined;
}

/** The last estimate, kept a second: its walk over the graph is not worth doing ten times a second. */
const estimates = new WeakMap<RunWatch, { at: number; value: number | undefined }>();

/** Counts, times and outcome of the run. */
export function progress(
  watch: RunWatch,
  now: number = performance.now(),
  counts: Counts = countJobs(watch),
): Progress {
  let kept = estimates.get(watch);
  if (kept === undefined || now - kept.at >= 1000 || now < kept.at) {
    kept = { at: now, value: estimateLeft(watch, now, counts) };
    estimates.set(watch, kept);
  }
  const eta = watch.ended === undefined ? kept.value : undefined;
  return {
    elapsed: elapsed(watch, now),
    eta: eta === undefined ? null : Math.round(eta),
    counts,
    started: watch.started !== undefined,
    ended: watch.ended !== undefined,
    ok: watch.ok ?? null,
    why: watch.ended !== undefined ? safeWhy(watch.scheduler) : "",
  };
}

function safeWhy(scheduler: PureScheduler): string {
  try {
    return scheduler.why();
  } catch {
    return "";
  }
}

function change(watch: RunWatch, record: JobRecord, state: JobState): JobChange {
  const span = spanOf(watch, record.job);
  return [
    record.index,
    state,
    round(span?.start),
    round(span?.end),
    span?.attempts ?? 0,
    record.lastLine,
  ];
}

/** Above this many jobs, the graph is drawn one group at a time. */
export const COLLAPSE_ABOVE = 500;

/** The whole run. */
export function snapshot(watch: RunWatch, title: string, now?: number): Snapshot {
  const jobs = watch.records.map((record): JobSummary => {
    const [, state, start, end, attempts, lastLine] = change(
      watch,
      record,
      stateOf(record.job, watch.cancelled),
    );
    const requires: number[] = [];
    for (const required of record.job.required) {
      const other = watch.byJob.get(required);
      if (other !== undefined) requires.push(other.index);
    }
    return {
      i: record.index,
      id: record.job.reprId(),
      label: record.label,
      path: record.path,
      parent: record.parent,
      depth: record.depth,
      kind: record.kind,
      critical: record.job.critical,
      forever: record.job.forever,
      state,
      start,
      end,
      attempts,
      lastLine,
      requires,
    };
  });
  return {
    ...progress(watch, now),
    title,
    jobs,
    collapsed: watch.records.length > COLLAPSE_ABOVE,
  };
}

/**
 * What changed since the last call: the states are read from the jobs, and
 * compared with those the last batch sent.
 */
export function takeBatch(watch: RunWatch, now?: number): Batch {
  const jobs: JobChange[] = [];
  const trace = watch.trace();
  const counts: Counts = { ...ZERO };
  const settled = watch.settled;
  const keep: number[] = [];
  const look = (record: JobRecord): void => {
    const state = stateOf(record.job, watch.cancelled);
    const span = trace?.spanOf(record.job);
    const attempts = span?.attempts ?? 0;
    if (
      state !== record.state ||
      attempts !== record.sentAttempts ||
      record.lines !== record.sentLines
    ) {
      record.state = state;
      record.sentAttempts = attempts;
      record.sentLines = record.lines;
      jobs.push(change(watch, record, state));
    }
    if (state === "idle" || state === "scheduled" || state === "running") {
      keep.push(record.index);
      if (!record.group) counts[state]++;
    } else if (!record.group) {
      settled[state]++;
      if (
        (state === "done" || state === "failed") &&
        !record.job.forever &&
        span?.start !== undefined
      ) {
        settled.took += (span.end ?? span.start) - span.start;
        settled.finished++;
      }
    }
  };
  if (watch.unsettled === undefined) for (const record of watch.records) look(record);
  else {
    for (const index of watch.unsettled) {
      const record = watch.records[index];
      if (record !== undefined) look(record);
    }
    // Settled jobs are looked at again only when they printed since.
    for (const index of watch.printed) {
      const record = watch.records[index];
      if (record !== undefined && record.lines !== record.sentLines) {
        record.sentLines = record.lines;
        jobs.push(change(watch, record, record.state));
      }
    }
  }
  watch.printed.clear();
  watch.unsettled = keep;
  counts.done = settled.done;
  counts.failed = settled.failed;
  counts.cancelled = settled.cancelled;
  counts.skipped = settled.skipped;
  counts.total = watch.records.length - watch.groups;
  const out: Batch["out"] = [];
  for (const [index, pending] of watch.pendingOutput)
    out.push([index, pending.first, pending.lines]);
  watch.pendingOutput.clear();
  return { ...progress(watch, now, counts), jobs, out };
}

/** The details of job `index`, with at most `maxLines` of its output (the last ones). */
export function jobDetails(
  watch: RunWatch,
  index: number,
  maxLines = Number.POSITIVE_INFINITY,
): JobDetails | undefined {
  const record = watch.records[index];
  if (record === undefined) return undefined;
  const job = record.job;
  const [, state, start, end, attempts] = change(watch, record, stateOf(job, watch.cancelled));
  let result: string | null = null;
  let error: string | null = null;
  if (job.isDone()) {
    const raised = job.raisedException();
    if (raised !== undefined) error = describeError(raised);
    else {
      try {
        result = describeResult(job.result());
      } catch (thrown) {
        error = describeError(thrown);
      }
    }
  } else if (state === "failed") {
    error = describeError(spanOf(watch, job)?.error);
  }
  let details = "";
  try {
    details = job.details() ?? "";
  } catch {
    details = "";
  }
  const kept = record.output.length > maxLines ? record.output.slice(-maxLines) : record.output;
  return {
    i: index,
    id: job.reprId(),
    label: record.label,
    path: record.path,
    kind: record.kind,
    state,
    critical: job.critical,
    forever: job.forever,
    start,
    end,
    attempts,
    result,
    error,
    details: capped(details),
    output: kept.slice(),
    dropped: record.dropped + record.output.length - kept.length,
  };
}
