/**
 * list(), listSafe() and debrief(): the text a user reads to understand a
 * scheduler before, during and after a run, laid out as the original does:
 *
 * ```text
 * 1 ⚠ ☉ ☓   <Job `start`> [[ -> 0]]
 * 2 ⚠ ☉ ☓   <Scheduler `inner`> [[ -> true]] requires={1} -> entries={3}
 * 3 ⚠ ☉ ☓   > <Job `i1`> [[ -> 1]]
 * 4 ⚠ ☉ ☓   > <Job `i2`> [[ -> 2]] requires={3}
 * 2 --end-- < <Scheduler `inner`> exits={4}
 * ```
 */

import type { PureScheduler } from "../engine/pure-scheduler.js";
import { type AbstractJob, isScheduler } from "../jobs/abstract-job.js";
import { checkBoolean } from "../util/options.js";
import { writeOut } from "../util/output.js";
import { numberJobs, orderedJobs } from "./numbering.js";
import { formatException, idSet, joinParts } from "./repr.js";

/** Options of `list()` and `debrief()`. */
export interface ListOptions {
  /** Also print what each job's `details()` returns, under its line. */
  details?: boolean;
}

/** The order a listing walks each scheduler in. */
type Order = (scheduler: PureScheduler) => Iterable<AbstractJob>;

/**
 * Indents beyond this depth are written with their count (`>(12) `) rather
 * than as a row of `>`: a listing of deeply nested schedulers would
 * otherwise grow with the square of the depth.
 */
const DEEPEST_DRAWN = 8;

/** `> ` per nesting level, as the original writes it (`>> ` at depth 2). */
function indentOf(depth: number): string {
  if (depth === 0) return "";
  return depth > DEEPEST_DRAWN ? `>(${depth}) ` : `${">".repeat(depth)} `;
}

/** The `<` marks of a nested scheduler's `--end--` line, counted as {@link indentOf} does. */
function outdentOf(depth: number): string {
  return depth > DEEPEST_DRAWN ? `<(${depth})` : "<".repeat(depth);
}

/** The line of one job (and its details, if asked). */
function jobLines(job: AbstractJob, depth: number, details: boolean, out: string[]): void {
  const parts = [
    job.reprId(),
    job.reprShort(),
    `${indentOf(depth)}${job.reprMain()}`,
    job.reprResult(),
    // Retries show in the listing, after the result they led to.
    job.attempts() > 1 ? `(${job.attempts()} attempts)` : "",
    job.reprRequires(),
  ];
  if (isScheduler(job)) parts.push(`-> entries=${idSet(job.entryJobs())}`);
  out.push(joinParts(...parts));
  if (details) {
    const more = job.details();
    if (more !== undefined && more !== null) out.push(String(more));
  }
}

function listLines(
  scheduler: PureScheduler,
  order: Order,
  depth: number,
  details: boolean,
  out: string[],
): void {
  // Depth first, with a stack of its own rather than recursion: nesting may
  // be deep. Each frame: a scheduler's jobs in order, the next to list, and
  // the nested scheduler they belong to (undefined for the top one).
  const stack: { jobs: AbstractJob[]; next: number; owner: PureScheduler | undefined }[] = [
    { jobs: [...order(scheduler)], next: 0, owner: undefined },
  ];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const level = depth + stack.length - 1;
    if (frame.next === frame.jobs.length) {
      stack.pop();
      const job = frame.owner as AbstractJob | undefined;
      if (job !== undefined && isScheduler(job)) {
        out.push(
          joinParts(
            job.reprId(),
            "--end--",
            outdentOf(level),
            job.reprMain(),
            `exits=${idSet(job.exitJobs())}`,
          ),
        );
      }
      continue;
    }
    const job = frame.jobs[frame.next++]!;
    jobLines(job, level, details, out);
    if (isScheduler(job)) stack.push({ jobs: [...order(job)], next: 0, owner: job });
  }
}

function textOf(lines: readonly string[]): string {
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

function detailsOption(where: string, options: ListOptions | undefined): boolean {
  return checkBoolean(where, "details", options?.details, false);
}

/** The lines of `list()`, without printing them. */
export function listText(scheduler: PureScheduler, options?: ListOptions): string {
  const details = detailsOption("list()", options);
  numberJobs(scheduler, "list()");
  const out: string[] = [];
  listLines(scheduler, (current) => orderedJobs(current, "list()"), 0, details, out);
  return textOf(out);
}

/** Prints the jobs in topological order, one line each, and returns the text. */
export function list(scheduler: PureScheduler, options?: ListOptions): string {
  const text = listText(scheduler, options);
  writeOut(text);
  return text;
}

function listSafeText(scheduler: PureScheduler): string {
  numberJobs(scheduler, "listSafe()", true);
  const out: string[] = [];
  listLines(scheduler, (current) => current._members, 0, false, out);
  return textOf(out);
}

/**
 * Prints the jobs in the order they were added (which works on a graph with
 * cycles, where there is no topological order), and returns the text.
 */
export function listSafe(scheduler: PureScheduler): string {
  const text = listSafeText(scheduler);
  writeOut(text);
  return text;
}

/** `none is done`, `1 is done`, `2 are done`, as the original words its counts. */
function howMany(count: number, what: string): string {
  if (count === 0) return `none is ${what}`;
  return count === 1 ? `1 is ${what}` : `${count} are ${what}`;
}

/**
 * The counts line of `debrief()`. It counts the jobs the listing shows at
 * every depth, nested schedulers aside (their state is that of their jobs),
 * as the live view of the command line does, and says how many schedulers
 * hold them when some are nested. Cancelled jobs are counted apart: they are
 * not ongoing once the run is over.
 */
function countsLine(scheduler: PureScheduler): string {
  let total = 0;
  let schedulers = 1;
  let done = 0;
  let ongoing = 0;
  let cancelled = 0;
  for (const job of scheduler.iterateJobs({ scanSchedulers: true })) {
    if ((job as unknown) === scheduler) continue;
    if (isScheduler(job)) {
      schedulers++;
      continue;
    }
    total++;
    if (job.isDone()) done++;
    else if (job.isCancelled()) cancelled++;
    else if (job.isRunning()) ongoing++;
  }
  const idle = total - done - ongoing - cancelled;
  const where = schedulers > 1 ? ` in ${schedulers} schedulers` : "";
  const more = cancelled > 0 ? `, ${howMany(cancelled, "cancelled")}` : "";
  return (
    `scheduler has a total of ${total} job(s)${where}: ${howMany(done, "done")}, ` +
    `${howMany(ongoing, "ongoing")}, ${howMany(idle, "idle (or scheduled but not running)")}${more}`
  );
}

/** An exception with its stack (and the chain of its causes), indented by 4 spaces. */
function describeError(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    const text =
      current instanceof Error && current.stack ? current.stack : formatException(current);
    lines.push(...(depth === 0 ? text : `Caused by: ${text}`).split("\n"));
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.map((line) => `    ${line}`).join("\n");
}

/** The exceptions part of `debrief()`: every job that raised, nested ones too, critical first. */
function exceptionLines(scheduler: PureScheduler): string[] {
  // Not raisedException() !== undefined: a job may throw undefined itself.
  // The scheduler itself (yielded when it is a job) is not one of its jobs.
  const failed = [...scheduler.iterateJobs({ scanSchedulers: true })].filter(
    (job) => (job as unknown) !== scheduler && job.isDone() && job._raised,
  );
  if (failed.length === 0) return [];
  const byId = (a: AbstractJob, b: AbstractJob): number => a.reprId().localeCompare(b.reprId());
  const critical = failed.filter((job) => job.critical).sort(byId);
  const others = failed.filter((job) => !job.critical).sort(byId);
  const out = [
    `===== ${failed.length} job(s) with an exception, including ${critical.length} critical`,
  ];
  const shown = new Map<unknown, AbstractJob>();
  for (const job of [...critical, ...others]) {
    const error = job._outcome;
    out.push(
      `===== ${job.critical ? "CRITICAL exception" : "exception"} in ` +
        joinParts(job.reprId(), job.reprShort(), job.reprMain()),
    );
    const first = typeof error === "object" && error !== null ? shown.get(error) : undefined;
    if (first !== undefined) {
      out.push(`    (the same exception as ${first.reprId()}, shown above)`);
    } else {
      if (typeof error === "object" && error !== null) shown.set(error, job);
      out.push(describeError(error));
    }
  }
  return out;
}

/**
 * Prints `why()`, the listing, the counts, then every exception with its
 * stack, critical ones first; returns the text. On a graph with a cycle the
 * listing is that of `listSafe()`, preceded by the cycle.
 */
export function debrief(scheduler: PureScheduler, options?: ListOptions): string {
  const details = detailsOption("debrief()", options);
  const out = [`----- ${scheduler.why()}`];
  let listing: string;
  try {
    listing = listText(scheduler, { details });
  } catch (error) {
    out.push(`----- ${error instanceof Error ? error.message : String(error)}`);
    listing = listSafeText(scheduler);
  }
  if (listing !== "") out.push(listing.slice(0, -1));
  out.push(`----- ${countsLine(scheduler)}`);
  out.push(...exceptionLines(scheduler));
  const text = textOf(out);
  writeOut(text);
  return text;
}
