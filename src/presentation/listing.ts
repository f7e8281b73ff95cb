/**
 * list(), listSafe() and debrief(): the text a user reads to understand a
 * scheduler before, during and after a run.
 */

import type { PureScheduler } from "../engine/pure-scheduler.js";
import { type AbstractJob, isScheduler } from "../jobs/abstract-job.js";
import { writeOut } from "../util/output.js";
import { numberJobs } from "./numbering.js";
import { formatException } from "./repr.js";

function line(job: AbstractJob, indent: string, details: boolean): string {
  const requires = job.reprRequires();
  let text = `${job.reprId()} ${job.reprShort()} ${indent}${job.reprMain()} ${job.reprResult()}${requires ? ` ${requires}` : ""}`;
  if (details) {
    const more = job.details();
    if (more !== undefined) text += `\n${more}`;
  }
  return text;
}

function listLines(
  scheduler: PureScheduler,
  order: (s: PureScheduler) => Iterable<AbstractJob>,
  depth: number,
  details: boolean,
  out: string[],
): void {
  const indent = "> ".repeat(depth);
  for (const job of order(scheduler)) {
    out.push(line(job, indent, details));
    if (isScheduler(job)) {
      listLines(job, order, depth + 1, details, out);
      out.push(`${job.reprId()} --end-- ${indent}< ${job.reprMain()}`);
    }
  }
}

/** Prints the jobs in topological order, one line each, and returns the text. */
export function list(scheduler: PureScheduler, options: { details?: boolean } = {}): string {
  numberJobs(scheduler);
  const out: string[] = [];
  listLines(scheduler, (s) => s.topologicalOrder(), 0, options.details === true, out);
  const text = out.length ? `${out.join("\n")}\n` : "";
  writeOut(text);
  return text;
}

/** Prints the jobs in insertion order (works with cycles), and returns the text. */
export function listSafe(scheduler: PureScheduler): string {
  numberJobs(scheduler, true);
  const out: string[] = [];
  listLines(scheduler, (s) => s._members, 0, false, out);
  const text = out.length ? `${out.join("\n")}\n` : "";
  writeOut(text);
  return text;
}

/** Prints why(), the listing, the counts, then each exception; returns the text. */
export function debrief(scheduler: PureScheduler, options: { details?: boolean } = {}): string {
  const parts: string[] = [];
  parts.push(`========== ${scheduler.why()}`);
  numberJobs(scheduler);
  const out: string[] = [];
  listLines(scheduler, (s) => s.topologicalOrder(), 0, options.details === true, out);
  parts.push(...out);
  parts.push(`========== ${scheduler.stats()}`);
  const failed = [...scheduler.iterateJobs()].filter((job) => job.isDone() && job._raised);
  failed.sort((a, b) => Number(b.critical) - Number(a.critical));
  for (const job of failed) {
    const error = job._outcome;
    parts.push(
      `===== ${job.critical ? "CRITICAL " : ""}exception in ${job.reprId()} ${job.reprMain()}`,
    );
    parts.push(error instanceof Error && error.stack ? error.stack : formatException(error));
  }
  const text = `${parts.join("\n")}\n`;
  writeOut(text);
  return text;
}
