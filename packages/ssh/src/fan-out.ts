/**
 * Fan-out: the same commands on many nodes, a window of them at a time,
 * with one result row per node.
 *
 * @module
 */
import { PureScheduler } from "asyncjobs";
import { messageOf, SshCommandError, SshConnectionError } from "./errors.js";
import type { SshCommandLike } from "./job.js";
import { SshJob, type SshJobOptions } from "./job.js";
import type { SshNode } from "./node.js";
import { checkOptions } from "./validate.js";

/** Options of {@link fanOut}. */
export interface FanOutOptions {
  /** How many nodes run at once; default 10; 0 or null for all at once. */
  window?: number | null;
  /** Where output goes; default the prefixed formatter. */
  formatter?: SshJobOptions["formatter"];
  /** Milliseconds each node's commands may take. */
  timeout?: number | null;
  /** Aborting it stops the nodes still running (their remote commands are terminated). */
  signal?: AbortSignal;
}

const FAN_OUT_OPTION_NAMES: ReadonlySet<string> = new Set([
  "window",
  "formatter",
  "timeout",
  "signal",
]);

/** The outcome on one node. */
export interface FanOutRow {
  /** The node. */
  readonly node: SshNode;
  /** The job that ran there. */
  readonly job: SshJob;
  /** Whether every command succeeded. */
  readonly ok: boolean;
  /** `"ok"`, `"failed"` (a command failed), `"unreachable"` (no connection), or `"cancelled"`. */
  readonly status: "ok" | "failed" | "unreachable" | "cancelled";
  /** The job's result: the last exit code, or the captured output. */
  readonly result: string | number | undefined;
  /** The exit code of the last command run, when known (null if none ran to its end). */
  readonly exitCode: number | null;
  /** What the job failed with, if it did. */
  readonly error: unknown;
  /** Milliseconds the node's commands took. */
  readonly elapsed: number | undefined;
}

/** The rows of a fan-out, one per node in the order given, and their table. */
export class FanOutReport {
  /** One row per node, in the order the nodes were given. */
  readonly rows: readonly FanOutRow[];

  constructor(rows: readonly FanOutRow[]) {
    this.rows = rows;
  }

  /** Whether every node succeeded. */
  get ok(): boolean {
    return this.rows.every((row) => row.ok);
  }

  /** The rows of the nodes that did not succeed. */
  get failed(): readonly FanOutRow[] {
    return this.rows.filter((row) => !row.ok);
  }

  /**
   * A text table: node, status, exit code, seconds, and the output (when
   * captured) or the error, one line per node, then a count.
   */
  table(): string {
    const cells = this.rows.map((row) => [
      row.node.label,
      row.status,
      row.exitCode === null ? "-" : String(row.exitCode),
      row.elapsed === undefined ? "-" : `${(row.elapsed / 1000).toFixed(2)}s`,
      summary(row),
    ]);
    const header = ["node", "status", "exit", "time", "output / error"];
    const widths = header.map((title, column) =>
      Math.max(title.length, ...cells.map((cell) => cell[column]!.length)),
    );
    const line = (cell: readonly string[]): string =>
      cell
        .map((text, column) => (column === cell.length - 1 ? text : text.padEnd(widths[column]!)))
        .join("  ")
        .trimEnd();
    const ok = this.rows.filter((row) => row.ok).length;
    return [line(header), ...cells.map(line), `${ok}/${this.rows.length} node(s) ok`].join("\n");
  }

  /** The same as {@link FanOutReport.table}. */
  toString(): string {
    return this.table();
  }
}

function summary(row: FanOutRow): string {
  const flat = (text: string): string => {
    const one = text.replace(/\s*\n\s*/g, " ⏎ ");
    return one.length > 80 ? `${one.slice(0, 79)}…` : one;
  };
  if (row.error !== undefined) {
    const error = row.error;
    if (error instanceof SshCommandError) {
      return flat(error.stderr.length > 0 ? error.stderr[error.stderr.length - 1]! : error.message);
    }
    return flat(messageOf(error).replace(`${row.node.target}: `, ""));
  }
  return typeof row.result === "string" ? flat(row.result) : "";
}

/**
 * Runs the same commands on every node, `window` nodes at a time, and
 * resolves with a {@link FanOutReport} (it never rejects because of a
 * node: each failure is in its row). Connections stay open for later
 * commands on the same nodes; close them with `SshNode.closeAll()`.
 *
 * @example
 * ```ts
 * const report = await fanOut(nodes, "uptime", { window: 50, formatter: captureFormatter() });
 * console.log(report.table());
 * ```
 */
export async function fanOut(
  nodes: Iterable<SshNode>,
  commands: SshCommandLike | readonly SshCommandLike[],
  options: FanOutOptions = {},
): Promise<FanOutReport> {
  checkOptions("fanOut()", options, FAN_OUT_OPTION_NAMES);
  const window = options.window === undefined ? 10 : options.window;
  const jobs = [...nodes].map((node) => {
    const jobOptions: SshJobOptions = { critical: false };
    if (options.formatter !== undefined) jobOptions.formatter = options.formatter;
    if (options.timeout !== undefined) jobOptions.timeout = options.timeout;
    return new SshJob(node, commands, jobOptions);
  });
  const scheduler = new PureScheduler(...jobs, { jobsWindow: window });
  await scheduler.run(options.signal === undefined ? {} : { signal: options.signal });
  return new FanOutReport(jobs.map(rowOf));
}

function rowOf(job: SshJob): FanOutRow {
  const base = { node: job.node, job, elapsed: job.elapsed };
  if (!job.isDone()) {
    return {
      ...base,
      ok: false,
      status: "cancelled",
      result: undefined,
      exitCode: null,
      error: undefined,
    };
  }
  const error = job.raisedException();
  if (error === undefined) {
    const result = job.result();
    return {
      ...base,
      ok: true,
      status: "ok",
      result,
      exitCode: job.exitCode,
      error: undefined,
    };
  }
  return {
    ...base,
    ok: false,
    status: error instanceof SshConnectionError ? "unreachable" : "failed",
    result: undefined,
    exitCode: job.exitCode,
    error,
  };
}
