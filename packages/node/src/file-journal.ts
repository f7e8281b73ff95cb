/**
 * A run journal in plain files: one JSON-lines file per run in a folder,
 * appended to with one synchronous write per record, so that what a run did
 * is on disk before the jobs that depend on it start. See docs/journal.md
 * for the format.
 */
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import {
  JOURNAL_FORMAT_VERSION,
  type JournalRecord,
  type RecordedJob,
  type RunEndRecord,
  type RunJournal,
  type RunStartRecord,
} from "asyncjobs";

/** Options of {@link FileJournal}. */
export interface FileJournalOptions {
  /** How many runs to keep: older ones are deleted when a run ends (default 20, at least 1). */
  keep?: number;
  /**
   * Flush each job's end and the run's end to the disk itself (fdatasync),
   * not only to the system: survives a power loss, at a cost per job.
   * Default false: a write survives the process being killed, not the machine.
   */
  fsync?: boolean;
}

/** The records of one run as read back, and whether its file ended in a torn line. */
export interface JournalRun {
  /** The run's id: its file name without `.jsonl`, sortable by start time. */
  readonly id: string;
  /** The file it is in. */
  readonly file: string;
  /** Its records, in order; lines that are not JSON records are left out. */
  readonly records: readonly JournalRecord[];
  /** Whether lines were left out (a torn last line, after a kill or a power loss). */
  readonly torn: boolean;
}

/** What `asyncjobs runs` shows of a run. */
export interface JournalRunSummary {
  /** The run's id (its file name without `.jsonl`). */
  readonly id: string;
  /** Wall-clock start, in milliseconds since the epoch. */
  readonly started: number;
  /** Wall-clock end, when the run recorded one; else that of its last record. */
  readonly ended: number;
  /** Whether the run recorded its end (false: it was killed, or still runs). */
  readonly finished: boolean;
  /** `success`, `failed`, `interrupted` or `unfinished`. */
  readonly outcome: "success" | "failed" | "interrupted" | "unfinished";
  /** The scheduler's `why()` at the end, when recorded. */
  readonly why: string | undefined;
  /** How many jobs ended each way; `notRun`: jobs with no end recorded. */
  readonly counts: {
    readonly jobs: number;
    readonly done: number;
    readonly resumed: number;
    readonly failed: number;
    readonly cancelled: number;
    readonly skipped: number;
    readonly notRun: number;
  };
}

const SUFFIX = ".jsonl";

/** Reads JSON-lines text; lines that do not parse to a record are dropped, never fatal. */
export function parseJournal(text: string): { records: JournalRecord[]; torn: boolean } {
  const records: JournalRecord[] = [];
  let torn = false;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      torn = true;
      continue;
    }
    if (
      value !== null &&
      typeof value === "object" &&
      typeof (value as { type?: unknown }).type === "string"
    ) {
      records.push(value as JournalRecord);
    } else {
      torn = true;
    }
  }
  return { records, torn };
}

/** The outcome of each job in a run's records, by key: its last end record. */
export function recordedJobs(records: readonly JournalRecord[]): Map<string, RecordedJob> {
  const jobs = new Map<string, RecordedJob>();
  for (const record of records) {
    if (record.type === "job-end") jobs.set(record.key, record);
  }
  return jobs;
}

/** Summarises a run's records for a listing. */
export function summarizeRun(run: JournalRun): JournalRunSummary | undefined {
  const start = run.records.find((record): record is RunStartRecord => record.type === "run-start");
  if (start === undefined) return undefined;
  const end = run.records.find((record): record is RunEndRecord => record.type === "run-end");
  const last = run.records[run.records.length - 1]!;
  const counts = { jobs: 0, done: 0, resumed: 0, failed: 0, cancelled: 0, skipped: 0, notRun: 0 };
  const outcomes = recordedJobs(run.records);
  for (const job of start.jobs) {
    // A nested scheduler is counted through its jobs.
    if (job.scheduler) continue;
    counts.jobs++;
    const outcome = outcomes.get(job.key)?.outcome;
    if (outcome === undefined) counts.notRun++;
    else counts[outcome]++;
  }
  let outcome: JournalRunSummary["outcome"] = "unfinished";
  if (end !== undefined) {
    outcome = end.ok ? "success" : end.status === "aborted" ? "interrupted" : "failed";
  }
  return {
    id: run.id,
    started: start.time,
    ended: end?.time ?? last.time,
    finished: end !== undefined,
    outcome,
    why: end?.why,
    counts,
  };
}

/** The start time and last part of the last run id made by this process. */
let lastTime = "";
let lastPart = 0;

/**
 * A run id: the start time (sortable), this process, and a part of four hex
 * digits against clashes. It is random, except that runs this process starts
 * within one millisecond count up from the one before, so that ids still
 * sort in the order the runs started.
 */
function newRunId(): string {
  // 20261202-054230-050: UTC, to the millisecond.
  const time = new Date().toISOString().replace(/[-:Z]/g, "").replace("T", "-").replace(".", "-");
  // Random below 0x8000, which leaves room to count up.
  lastPart =
    time === lastTime && lastPart < 0xffff ? lastPart + 1 : Math.floor(Math.random() * 0x8000);
  lastTime = time;
  return `${time}-${process.pid}-${lastPart.toString(16).padStart(4, "0")}`;
}

/**
 * A {@link RunJournal} in a folder of plain files, one per run
 * (`<id>.jsonl`), for `run({ journal })` and the command line's `--resume`.
 *
 * Each run writes a file of its own, opened exclusively: two runs at once
 * never write to the same file. Each record is one line, written with one
 * synchronous `write` on a file opened for appending, before the run goes on;
 * a line torn by a kill or a power loss is skipped when read back. Runs
 * beyond `keep` are deleted, oldest first, when a run ends.
 *
 * @example
 * ```ts
 * import { FileJournal } from "@asyncjobs/node";
 * const journal = new FileJournal(".asyncjobs/nightly");
 * await scheduler.run({ journal, resume: true });
 * ```
 */
export class FileJournal implements RunJournal {
  /** The folder of the runs' files. */
  readonly directory: string;
  /** How many runs are kept. */
  readonly keep: number;
  /** Whether ends are flushed to the disk (fdatasync). */
  readonly fsync: boolean;
  #fd: number | undefined;
  #id: string | undefined;

  /** The journal of the workflow `file`: the folder `.asyncjobs/<file name>` beside it. */
  static forWorkflow(file: string, options: FileJournalOptions = {}): FileJournal {
    const path = resolve(file);
    return new FileJournal(join(dirname(path), ".asyncjobs", basename(path)), options);
  }

  constructor(directory: string, options: FileJournalOptions = {}) {
    if (typeof directory !== "string" || directory === "") {
      throw new TypeError(
        `FileJournal(): the folder must be a non-empty string, got ${String(directory)}`,
      );
    }
    const { keep = 20, fsync = false, ...rest } = options;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) {
      throw new TypeError(
        `FileJournal(): unknown option "${unknown}" (known options: fsync, keep)`,
      );
    }
    if (!Number.isInteger(keep) || keep < 1) {
      throw new RangeError(
        `FileJournal(): option "keep" must be an integer >= 1, got ${String(keep)}`,
      );
    }
    if (typeof fsync !== "boolean") {
      throw new TypeError(`FileJournal(): option "fsync" must be a boolean, got ${String(fsync)}`);
    }
    this.directory = directory;
    this.keep = keep;
    this.fsync = fsync;
  }

  /** The id of the run being recorded (or last recorded) through this object. */
  get currentRun(): string | undefined {
    return this.#id;
  }

  /** The ids of the runs on disk, oldest first. */
  runIds(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return names
      .filter((name) => name.endsWith(SUFFIX))
      .map((name) => name.slice(0, -SUFFIX.length))
      .sort();
  }

  /** Reads run `id` back (torn lines skipped). */
  read(id: string): JournalRun {
    const file = join(this.directory, `${id}${SUFFIX}`);
    const { records, torn } = parseJournal(readFileSync(file, "utf8"));
    return { id, file, records, torn };
  }

  /** The runs on disk that recorded their start, oldest first, summarised. */
  runs(): JournalRunSummary[] {
    const out: JournalRunSummary[] = [];
    for (const id of this.runIds()) {
      const summary = summarizeRun(this.read(id));
      if (summary !== undefined) out.push(summary);
    }
    return out;
  }

  /**
   * The last run on disk that recorded its start (not the one this object
   * is recording), or undefined.
   */
  lastRun(): JournalRun | undefined {
    const ids = this.runIds();
    for (let k = ids.length - 1; k >= 0; k--) {
      const id = ids[k]!;
      if (id === this.#id && this.#fd !== undefined) continue;
      const run = this.read(id);
      const start = run.records.find((record) => record.type === "run-start");
      if (start === undefined) continue;
      if ((start as RunStartRecord).v > JOURNAL_FORMAT_VERSION) {
        throw new Error(
          `${run.file}: written in journal format ${(start as RunStartRecord).v}, newer than this version reads (${JOURNAL_FORMAT_VERSION})`,
        );
      }
      return run;
    }
    return undefined;
  }

  /** The outcomes of the last run, by key (see {@link RunJournal.load}). */
  load(): ReadonlyMap<string, RecordedJob> | undefined {
    const run = this.lastRun();
    return run === undefined ? undefined : recordedJobs(run.records);
  }

  /** Appends a record; a run's start opens a new file for the run. */
  record(record: JournalRecord): void {
    if (record.type === "run-start") this.#open();
    if (this.#fd === undefined) {
      throw new Error(
        `FileJournal ${this.directory}: a ${record.type} record came before any run-start`,
      );
    }
    writeSync(this.#fd, `${JSON.stringify(record)}\n`);
    if (this.fsync && (record.type === "job-end" || record.type === "run-end")) {
      fdatasyncSync(this.#fd);
    }
  }

  /** Closes the run's file and deletes the runs beyond `keep`, oldest first. */
  close(): void {
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    this.prune();
  }

  /** Deletes the runs beyond `keep`, oldest first (never the one being recorded). */
  prune(): void {
    const ids = this.runIds();
    const excess = ids.length - this.keep;
    for (let k = 0, removed = 0; k < ids.length && removed < excess; k++) {
      if (ids[k] === this.#id && this.#fd !== undefined) continue;
      rmSync(join(this.directory, `${ids[k]}${SUFFIX}`), { force: true });
      removed++;
    }
  }

  #open(): void {
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    mkdirSync(this.directory, { recursive: true });
    for (;;) {
      const id = newRunId();
      try {
        // Exclusive: a file of its own, even for runs started in the same millisecond.
        this.#fd = openSync(join(this.directory, `${id}${SUFFIX}`), "ax");
        this.#id = id;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    }
  }
}
