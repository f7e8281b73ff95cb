/**
 * The output of `asyncjobs run` when standard output is not a terminal (CI,
 * pipes, files): one plain line per event, nothing redrawn, and what the
 * commands print, each line prefixed with its job's label (a CI log is all
 * there is to read afterwards), unless told to be quiet.
 */
import type { OutputStream } from "@asyncjobs/node";
import { asciiText, attemptText, outcomeText, rowTime } from "./row-text.js";
import type { Row, RunModel } from "./run-model.js";

/** Writes text somewhere; process.stdout in the command line. */
export interface TextOut {
  write(text: string): unknown;
  /** A stream's events: with them, a backed-up stream slows the commands' output down. */
  on?(event: "drain" | "close" | "error", listener: () => void): unknown;
  off?(event: "drain" | "close" | "error", listener: () => void): unknown;
}

const VERBS: Record<string, string> = {
  "job:started": "started",
  "job:done": "done",
  "job:failed": "FAILED",
  "job:cancelled": "cancelled",
  "job:retried": "retrying",
  "job:skipped": "skipped",
  "job:ready": "ready",
};

/** `012.345`: seconds since the run started. */
export function stamp(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3).padStart(7, "0");
}

/** Options of {@link PlainView}. */
export interface PlainViewOptions {
  /** Leave out what the commands print: only the event lines. */
  quiet?: boolean;
  /** Only ASCII characters. */
  ascii?: boolean;
}

/** Prints one line per job event, and every output line of the commands unless `quiet`. */
export class PlainView {
  readonly #model: RunModel;
  readonly #out: TextOut;
  readonly #quiet: boolean;
  readonly #ascii: boolean;
  #detach: (() => void) | undefined;
  /** Resolves once the backed-up output drains; one for all the lines that wait. */
  #draining: Promise<void> | undefined;

  constructor(model: RunModel, out: TextOut, options: PlainViewOptions = {}) {
    this.#model = model;
    this.#out = out;
    this.#quiet = options.quiet === true;
    this.#ascii = options.ascii === true;
  }

  /** Starts following the run. */
  start(): void {
    this.#detach = this.#model.attach(
      (type, row) => this.#onChange(type, row),
      (row, line, stream) => this.#onOutput(row, line, stream),
    );
  }

  /** Says that the run is being cancelled. */
  interrupted(): void {
    this.#line("interrupted: cancelling the run (interrupt again to exit at once)");
  }

  /** Stops following the run. */
  stop(): void {
    this.#detach?.();
    this.#detach = undefined;
  }

  #line(text: string): void {
    const line = `${stamp(this.#model.elapsed())} ${text}\n`;
    this.#out.write(this.#ascii ? asciiText(line) : line);
  }

  #onChange(type: string, row: Row | undefined): void {
    const verb = VERBS[type];
    if (verb === undefined || row === undefined) return;
    // A resumed job does not run: one line says it kept its recorded result.
    if (row.job.isResumed()) {
      if (type === "job:started") return;
      if (type === "job:done") {
        const outcome = outcomeText(row);
        this.#line(
          `${"resumed".padEnd(9)} ${row.path}${outcome === undefined || outcome === "resumed" ? "" : ` ${outcome}`}`,
        );
        return;
      }
    }
    const now = performance.now();
    let text = `${verb.padEnd(9)} ${row.path}`;
    if (type === "job:skipped") {
      text += ` (trigger ${row.job.trigger})`;
    } else if (type === "job:started") {
      // A retry's own start: the line before said which attempt it is.
      if (row.attempt > 1) return;
    } else {
      // The time so far, with how many attempts a job that retried took or is on.
      const notes = [rowTime(row, now), attemptText(row)].filter(Boolean);
      if (notes.length > 0) text += ` (${notes.join(", ")})`;
      const outcome = outcomeText(row);
      if (outcome !== undefined && type !== "job:cancelled") text += ` ${outcome}`;
    }
    this.#line(text);
  }

  /**
   * Prints a command's line, unless --quiet. When the output is backed up (a
   * pipe to a slow reader), returns a promise that resolves once it drains:
   * the command job stops reading its program meanwhile, so that the lines
   * wait in the program's pipe rather than in this process's memory.
   */
  #onOutput(row: Row, line: string, _stream: OutputStream): Promise<void> | undefined {
    if (this.#quiet) return undefined;
    if (this.#out.write(`[${row.path}] ${line}\n`) !== false) return undefined;
    const out = this.#out;
    if (this.#draining === undefined && out.on !== undefined && out.off !== undefined) {
      this.#draining = new Promise<void>((resolve) => {
        const events = ["drain", "close", "error"] as const;
        const finish = (): void => {
          for (const event of events) out.off?.(event, finish);
          this.#draining = undefined;
          resolve();
        };
        for (const event of events) out.on?.(event, finish);
      });
    }
    return this.#draining;
  }
}
