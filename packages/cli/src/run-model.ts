/**
 * What the views of `asyncjobs run` show, kept up to date from the engine's
 * events only: one row per job (nested ones included), its state and times,
 * and the last line each command printed.
 */

import { CommandJob, type CommandOutput, type OutputStream } from "@asyncjobs/node";
import {
  type AbstractJob,
  estimateTimeLeft,
  type JobEvent,
  type PureScheduler,
  type SchedulerEvent,
} from "asyncjobs";
import { isScheduler } from "asyncjobs/extend";

/** Where a job is in the run, as the events told. */
export type RowState =
  | "idle"
  | "scheduled"
  | "running"
  | "done"
  | "failed"
  | "cancelled"
  | "skipped";

/** One job of the run, as the views show it. */
export interface Row {
  readonly job: AbstractJob;
  /** Nesting depth: 0 for jobs of the top scheduler. */
  readonly depth: number;
  /** The label, prefixed by those of enclosing groups: `tests/unit`. */
  readonly path: string;
  readonly label: string;
  /** Whether the job is a nested scheduler. */
  readonly group: boolean;
  /** The labels of the jobs it requires. */
  readonly requires: readonly string[];
  state: RowState;
  started: number | undefined;
  ended: number | undefined;
  /** The last line the job printed, if it is a command. */
  lastLine: string | undefined;
  /** The attempt under way (or the last one): above 1 once the job retried. */
  attempt: number;
  /** Whether the job said its dependents may start while it runs (a service). */
  ready: boolean;
}

/** Counts of the jobs that are not groups. */
export interface Counts {
  done: number;
  failed: number;
  running: number;
  idle: number;
  cancelled: number;
  /** Jobs whose trigger rule was not met: they never ran. */
  skipped: number;
  total: number;
}

/** The text label of a job: `label`, else `textLabel()`, else `NOLABEL`. */
export function labelOf(job: AbstractJob): string {
  return job.label ?? job.textLabel() ?? "NOLABEL";
}

/** Terminal escape sequences (CSI, OSC and two-character ones). */
const ANSI = new RegExp(
  [
    String.raw`\x1b\[[0-?]*[ -/]*[@-~]`,
    String.raw`\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)`,
    String.raw`\x1b[@-Z\\-_]`,
  ].join("|"),
  "g",
);
/** Control characters left once escape sequences and tabs are dealt with. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is removed.
const CONTROL = /[\x00-\x1f\x7f]/g;

/** A printed line made fit for a one-line cell: no escape sequences, no carriage-return overdraws, no tabs. */
export function cleanLine(line: string): string {
  const last =
    line
      .replace(ANSI, "")
      .split("\r")
      .filter((part) => part.trim() !== "")
      .pop() ?? "";
  return last.replace(/\t/g, "  ").replace(CONTROL, "").trimEnd();
}

function orderOf(scheduler: PureScheduler): AbstractJob[] {
  try {
    return [...scheduler.topologicalOrder()];
  } catch {
    return [...scheduler.jobs]; // A cycle: run() rejects with the explanation.
  }
}

/** Event types the model follows. */
const JOB_EVENTS = [
  "job:scheduled",
  "job:started",
  "job:done",
  "job:failed",
  "job:cancelled",
  "job:retried",
  "job:skipped",
  "job:ready",
] as const;

/** The state of a run, fed by the scheduler's events. */
export class RunModel {
  readonly scheduler: PureScheduler;
  readonly rows: Row[] = [];
  readonly #byJob = new Map<AbstractJob, Row>();
  /** When the run started and ended, in `performance.now()` ms. */
  started: number | undefined;
  ended: number | undefined;
  /** Whether the whole run succeeded, once it ended. */
  ok: boolean | undefined;

  constructor(scheduler: PureScheduler) {
    this.scheduler = scheduler;
    const visit = (current: PureScheduler, depth: number, prefix: string): void => {
      for (const job of orderOf(current)) {
        const label = labelOf(job);
        const row: Row = {
          job,
          depth,
          path: prefix + label,
          label,
          group: isScheduler(job),
          requires: [...job.required].map(labelOf),
          state: "idle",
          started: undefined,
          ended: undefined,
          lastLine: undefined,
          attempt: 0,
          ready: false,
        };
        this.rows.push(row);
        this.#byJob.set(job, row);
        if (isScheduler(job)) visit(job, depth + 1, `${row.path}/`);
      }
    };
    visit(scheduler, 0, "");
  }

  /** The row of `job`, if it is part of the run. */
  rowOf(job: AbstractJob): Row | undefined {
    return this.#byJob.get(job);
  }

  /**
   * Follows the scheduler's events, calling `onChange` after each one the
   * model took in, and routes the output of command jobs through the model
   * (then to `onOutput`). Returns the function that undoes it all.
   */
  attach(
    onChange: (type: string, row: Row | undefined) => void,
    onOutput?: (row: Row, line: string, stream: OutputStream) => void | PromiseLike<unknown>,
  ): () => void {
    const events = this.scheduler.events;
    const onJob = (event: JobEvent): void => {
      const row = this.#byJob.get(event.job);
      if (row === undefined) return;
      switch (event.type) {
        case "job:scheduled":
          if (row.state === "idle") row.state = "scheduled";
          break;
        case "job:started":
          // A retry starts the job again: its time counts from the first attempt.
          if (row.state !== "running") row.started = event.time;
          row.state = "running";
          row.ended = undefined;
          row.attempt = Math.max(1, event.job.attempts());
          break;
        case "job:retried":
          row.attempt = event.job.attempts() + 1;
          break;
        case "job:skipped":
          row.state = "skipped";
          row.ended = event.time;
          break;
        case "job:ready":
          row.ready = true;
          break;
        case "job:done":
          row.state = "done";
          row.ended = event.time;
          break;
        case "job:failed":
          row.state = "failed";
          row.ended = event.time;
          break;
        case "job:cancelled":
          row.state = "cancelled";
          row.ended = event.time;
          break;
      }
      onChange(event.type, row);
    };
    const onScheduler = (event: SchedulerEvent): void => {
      if (event.scheduler !== this.scheduler) return;
      if (event.type === "scheduler:started") {
        this.started = event.time;
        this.ended = undefined;
        this.ok = undefined;
        for (const row of this.rows) {
          row.state = "idle";
          row.started = row.ended = row.lastLine = undefined;
          row.attempt = 0;
          row.ready = false;
        }
      } else if (event.type === "scheduler:ended") {
        this.ended = event.time;
        this.ok = event.ok;
      }
      onChange(event.type, undefined);
    };
    for (const type of JOB_EVENTS) events.addEventListener(type, onJob);
    for (const type of ["scheduler:started", "scheduler:ended", "scheduler:shutdown"] as const) {
      events.addEventListener(type, onScheduler);
    }

    const restore: [CommandJob, CommandOutput | undefined][] = [];
    for (const row of this.rows) {
      const job = row.job;
      if (!CommandJob.isCommandJob(job)) continue;
      restore.push([job, job.output]);
      job.output = (line, stream) => {
        const clean = cleanLine(line);
        if (clean !== "") row.lastLine = clean;
        // A promise from the view asks the job to wait (see CommandOutput).
        return onOutput?.(row, line, stream);
      };
    }
    return () => {
      for (const type of JOB_EVENTS) events.removeEventListener(type, onJob);
      for (const type of ["scheduler:started", "scheduler:ended", "scheduler:shutdown"] as const) {
        events.removeEventListener(type, onScheduler);
      }
      for (const [job, output] of restore) job.output = output;
    };
  }

  /** Counts of the jobs that are not groups. */
  counts(): Counts {
    const counts: Counts = {
      done: 0,
      failed: 0,
      running: 0,
      idle: 0,
      cancelled: 0,
      skipped: 0,
      total: 0,
    };
    for (const row of this.rows) {
      if (row.group) continue;
      counts.total++;
      if (row.state === "scheduled") counts.idle++;
      else counts[row.state]++;
    }
    return counts;
  }

  /** Milliseconds since the run started (until it ended). */
  elapsed(now: number = performance.now()): number {
    if (this.started === undefined) return 0;
    return (this.ended ?? now) - this.started;
  }

  /**
   * A rough estimate of the milliseconds left, once at least one job has
   * finished: every unfinished job is assumed to take as long as the
   * finished ones did on average, along the longest chain of requirements,
   * and no less than the remaining work spread over the top window.
   */
  eta(now: number = performance.now()): number | undefined {
    if (this.ended !== undefined) return undefined;
    const durations: number[] = [];
    for (const row of this.rows) {
      if (!row.group && !row.job.forever && row.started !== undefined && row.ended !== undefined) {
        if (row.state === "done" || row.state === "failed") durations.push(row.ended - row.started);
      }
    }
    if (durations.length === 0) return undefined;
    const average = durations.reduce((sum, value) => sum + value, 0) / durations.length;
    let unknown = false;
    const left = (row: Row): number => {
      if (row.job.forever || row.state === "done" || row.state === "failed") return 0;
      if (row.state === "cancelled" || row.state === "skipped") return 0;
      if (row.state === "running" && row.started !== undefined) {
        // A job already running for longer than the average says the average means little.
        if (now - row.started > average) unknown = true;
        return Math.max(average - (now - row.started), 0);
      }
      return average;
    };
    const estimate = estimateTimeLeft(this.scheduler, (job) => {
      const row = this.#byJob.get(job);
      return row === undefined ? undefined : left(row);
    });
    return estimate > 0 && !unknown ? estimate : undefined;
  }
}
