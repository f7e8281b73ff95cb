/**
 * What the browser view and the report show, kept from the engine's events:
 * one record per job (nested ones included), its state, the output lines of
 * command and SSH jobs, and the set of jobs changed since the last batch.
 * Event listeners only mark jobs as changed; the work of describing them is
 * done once per batch, so that a big run pays little for being watched.
 */

import { CommandJob, type CommandOutput } from "@asyncjobs/node";
import type { AbstractJob, JobEvent, PureScheduler, RunTrace, SchedulerEvent } from "asyncjobs";
import { isScheduler } from "asyncjobs/extend";

/** Where a job is in the run, as the view shows it. */
export type JobState =
  | "idle"
  | "scheduled"
  | "running"
  | "done"
  | "failed"
  | "cancelled"
  | "skipped";

/** A job's record. @internal */
export interface JobRecord {
  readonly index: number;
  readonly job: AbstractJob;
  /** The index of the nested scheduler holding it, -1 at the top. */
  readonly parent: number;
  readonly depth: number;
  readonly label: string;
  /** Labels of the enclosing groups and its own: `tests/unit`. */
  readonly path: string;
  readonly group: boolean;
  readonly kind: "job" | "command" | "ssh" | "group";
  /** Its state as last sent in a batch. */
  state: JobState;
  /** Its attempts and printed lines as last sent in a batch. */
  sentAttempts: number;
  sentLines: number;
  /** Output lines kept, each `[stream, text]`; the oldest are dropped past the cap. */
  output: [0 | 1, string][];
  /** How many lines were dropped from the start of `output`. */
  dropped: number;
  lastLine: string;
  /** How many lines the job printed in this run. */
  lines: number;
}

/** Output lines not yet sent: `first` is the number of the first one in the job's run. @internal */
export interface PendingOutput {
  first: number;
  lines: [0 | 1, string][];
}

/** Options of {@link watchRun}. */
export interface WatchOptions {
  /**
   * How many output lines are kept per job while the run goes (the oldest
   * are dropped first); default 5000.
   */
  maxLinesKept?: number;
}

/** The longest output line kept; longer ones are cut, saying so. */
const MAX_LINE_LENGTH = 4000;

/** Terminal escape sequences: CSI, OSC and two-character ones. */
const ANSI = new RegExp(
  [
    String.raw`\x1b\[[0-?]*[ -/]*[@-~]`,
    String.raw`\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)`,
    String.raw`\x1b[@-Z\\-_]`,
  ].join("|"),
  "g",
);
// biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is removed.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** A printed line as the page shows it: no escape sequences nor control characters. */
export function cleanOutputLine(line: string): string {
  const clean = line.replace(ANSI, "").replace(CONTROL, "");
  return clean.length > MAX_LINE_LENGTH
    ? `${clean.slice(0, MAX_LINE_LENGTH)} … (${clean.length - MAX_LINE_LENGTH} more characters)`
    : clean;
}

function labelOf(job: AbstractJob): string {
  return job.label ?? job.textLabel() ?? "NOLABEL";
}

function orderOf(scheduler: PureScheduler): AbstractJob[] {
  try {
    return [...scheduler.topologicalOrder()];
  } catch {
    return [...scheduler.jobs]; // A cycle: run() rejects with the explanation.
  }
}

/** The parts of an SSH job this package uses, without depending on @asyncjobs/ssh. */
interface SshLike {
  formatter: {
    open(source: unknown): { line(line: string, stream: string): void; close(): unknown };
  };
  node: unknown;
}

function isSshJob(job: AbstractJob): job is AbstractJob & SshLike {
  const candidate = job as unknown as Partial<SshLike>;
  return (
    job.constructor.name === "SshJob" &&
    typeof candidate.formatter?.open === "function" &&
    candidate.node !== undefined
  );
}

/**
 * Where `job` is now, read from the job itself: the view reads states at
 * each batch instead of following every event, so that a big run pays
 * nothing per job for being watched. Only cancellations are told by an
 * event (`cancelled`), as a job keeps no sign of one after the run.
 */
export function stateOf(job: AbstractJob, cancelled: ReadonlySet<AbstractJob>): JobState {
  if (job.isSkipped()) return "skipped";
  if (job.isDone()) return job.raisedException() !== undefined ? "failed" : "done";
  if (cancelled.has(job) || job.isCancelled()) return "cancelled";
  if (job.isRunning()) return "running";
  if (job.isScheduled()) return "scheduled";
  return "idle";
}

/**
 * A run being watched: made by {@link watchRun} before the run starts, and
 * handed to {@link serve} and {@link writeReport}. It follows the
 * scheduler's events and captures what command and SSH jobs print, until
 * {@link RunWatch.stop}.
 */
export class RunWatch {
  /** The scheduler watched. */
  readonly scheduler: PureScheduler;
  /** @internal */
  readonly records: JobRecord[] = [];
  /** @internal */
  readonly byJob = new Map<AbstractJob, JobRecord>();
  /** How many of the records are nested schedulers. @internal */
  groups = 0;
  /**
   * Indices of the jobs a batch still has to look at: a job that has
   * settled (done, failed, cancelled, skipped) stays so until the next
   * run, so batches stop reading it. Undefined: every job. @internal
   */
  unsettled: number[] | undefined;
  /** The jobs (groups aside) that settled, by state, and the time the done and failed ones took. @internal */
  settled = { done: 0, failed: 0, cancelled: 0, skipped: 0, took: 0, finished: 0 };
  /** Indices of the jobs that printed since the last batch. @internal */
  readonly printed = new Set<number>();
  /** The jobs cancelled in this run. @internal */
  readonly cancelled = new Set<AbstractJob>();
  /** Output lines since the last batch, by job index. @internal */
  pendingOutput = new Map<number, PendingOutput>();
  /** Whether anybody takes batches (output is queued for them only). @internal */
  streaming = false;
  /** `performance.now()` when the run started and ended. @internal */
  started: number | undefined;
  /** @internal */
  ended: number | undefined;
  /** Whether the run succeeded, once it ended. @internal */
  ok: boolean | undefined;
  /** Called when the run ends (after the records are up to date). @internal */
  onEnd: (() => void) | undefined;
  readonly #maxLines: number;
  #tracedBefore = false;
  #undo: (() => void) | undefined;

  /** @internal */
  constructor(scheduler: PureScheduler, options: WatchOptions = {}) {
    if (
      typeof scheduler !== "object" ||
      scheduler === null ||
      typeof (scheduler as { dotFormat?: unknown }).dotFormat !== "function"
    ) {
      throw new TypeError(`watchRun(): expected a scheduler, got ${String(scheduler)}`);
    }
    const maxLines = options.maxLinesKept ?? 5000;
    if (!Number.isSafeInteger(maxLines) || maxLines < 0) {
      throw new RangeError(
        `watchRun(): option "maxLinesKept" must be a whole number >= 0, got ${String(maxLines)}`,
      );
    }
    this.scheduler = scheduler;
    this.#maxLines = maxLines;
    // Gives every job its id (the one graphs and listings show) once and for all.
    try {
      scheduler.dotFormat();
    } catch {
      // A cycle: the run will say so; jobs keep the ids they get anyway.
    }
    const visit = (current: PureScheduler, parent: number, depth: number, prefix: string): void => {
      for (const job of orderOf(current)) {
        const label = labelOf(job);
        const group = isScheduler(job);
        const record: JobRecord = {
          index: this.records.length,
          job,
          parent,
          depth,
          label,
          path: prefix + label,
          group,
          kind: group
            ? "group"
            : CommandJob.isCommandJob(job)
              ? "command"
              : isSshJob(job)
                ? "ssh"
                : "job",
          state: "idle",
          sentAttempts: 0,
          sentLines: 0,
          output: [],
          dropped: 0,
          lastLine: "",
          lines: 0,
        };
        this.records.push(record);
        if (group) this.groups++;
        this.byJob.set(job, record);
        if (group) visit(job, record.index, depth + 1, `${record.path}/`);
      }
    };
    visit(scheduler, -1, 0, "");
    // The timeline is drawn from the run's own trace.
    this.#tracedBefore = scheduler.tracing;
    scheduler.tracing = true;
    this.#undo = this.#attach();
  }

  /** The trace of the run under way or done, if a run started. @internal */
  trace(): RunTrace | undefined {
    if (this.started === undefined) return undefined;
    try {
      return this.scheduler.trace();
    } catch {
      return undefined; // Tracing was turned off before the run: no timeline.
    }
  }

  /**
   * Stops following the run: output goes back where it went before, and
   * the scheduler's `tracing` to what it was. What was recorded stays, for
   * a report.
   */
  stop(): void {
    if (this.#undo === undefined) return;
    this.#undo();
    this.#undo = undefined;
    this.scheduler.tracing = this.#tracedBefore;
  }

  #line(record: JobRecord, line: string, stderr: boolean): void {
    const clean = cleanOutputLine(line);
    const entry: [0 | 1, string] = [stderr ? 1 : 0, clean];
    if (this.#maxLines > 0) {
      record.output.push(entry);
      if (record.output.length > this.#maxLines + 1000) {
        // Dropping in chunks keeps this cheap for jobs that print a lot.
        const excess = record.output.length - this.#maxLines;
        record.output.splice(0, excess);
        record.dropped += excess;
      }
    } else {
      record.dropped++;
    }
    if (clean.trim() !== "") record.lastLine = clean;
    if (this.streaming) {
      let pending = this.pendingOutput.get(record.index);
      if (pending === undefined) {
        pending = { first: record.lines, lines: [] };
        this.pendingOutput.set(record.index, pending);
      }
      pending.lines.push(entry);
    }
    record.lines++;
    this.printed.add(record.index);
  }

  #attach(): () => void {
    const events = this.scheduler.events;
    const onCancelled = (event: JobEvent): void => {
      this.cancelled.add(event.job);
    };
    const onScheduler = (event: SchedulerEvent): void => {
      if (event.scheduler !== this.scheduler) return;
      if (event.type === "scheduler:started") {
        this.started = event.time;
        this.ended = undefined;
        this.ok = undefined;
        this.cancelled.clear();
        this.unsettled = undefined;
        this.settled = { done: 0, failed: 0, cancelled: 0, skipped: 0, took: 0, finished: 0 };
        for (const record of this.records) {
          // A job that printed in the last run is sent again, without its last line.
          if (record.lines > 0) record.sentLines = -1;
          record.output = [];
          record.dropped = 0;
          record.lastLine = "";
          record.lines = 0;
        }
      } else if (event.type === "scheduler:ended") {
        this.ended = event.time;
        this.ok = event.ok;
        this.onEnd?.();
      }
    };
    events.addEventListener("job:cancelled", onCancelled);
    events.addEventListener("scheduler:started", onScheduler);
    events.addEventListener("scheduler:ended", onScheduler);

    const restore: (() => void)[] = [];
    for (const record of this.records) {
      const job = record.job;
      if (record.kind === "command" && CommandJob.isCommandJob(job)) {
        const previous: CommandOutput | undefined = job.output;
        // The job's own output still goes where it went: the view only listens in.
        job.output = (line, stream, self) => {
          this.#line(record, line, stream === "stderr");
          // The sink's promise, if any, says it is backed up: the job waits for it.
          if (previous !== undefined) return previous(line, stream, self);
          defaultCommandOutput(line, stream, self);
          return undefined;
        };
        restore.push(() => {
          job.output = previous;
        });
      } else if (record.kind === "ssh" && isSshJob(job)) {
        const previous = job.formatter;
        job.formatter = {
          open: (source: unknown) => {
            const sink = previous.open(source);
            return {
              line: (line: string, stream: string) => {
                this.#line(record, line, stream === "stderr");
                sink.line(line, stream);
              },
              close: () => sink.close(),
            };
          },
        };
        restore.push(() => {
          job.formatter = previous;
        });
      }
    }
    return () => {
      events.removeEventListener("job:cancelled", onCancelled);
      events.removeEventListener("scheduler:started", onScheduler);
      events.removeEventListener("scheduler:ended", onScheduler);
      for (const undo of restore) undo();
    };
  }
}

/**
 * What a command job prints when it has no `output` of its own: the
 * package's default, `[label] line` on this process's stdout or stderr.
 */
function defaultCommandOutput(line: string, stream: "stdout" | "stderr", job: CommandJob): void {
  const target = stream === "stderr" ? process.stderr : process.stdout;
  target.write(`[${job.label ?? job.textLabel()}] ${line}\n`);
}

/**
 * Starts watching `scheduler` for the browser view and the report: call it
 * before `run()`. The jobs' output still goes where it went; the watch only
 * keeps a copy (the last {@link WatchOptions.maxLinesKept} lines per job).
 * Also turns the scheduler's `tracing` on, for the timeline, until
 * {@link RunWatch.stop}.
 */
export function watchRun(scheduler: PureScheduler, options?: WatchOptions): RunWatch {
  return new RunWatch(scheduler, options);
}
