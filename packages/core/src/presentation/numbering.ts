/**
 * Ids for listings and graphs: every job, nested ones included, numbered in
 * topological order (a nested scheduler's jobs right after it), zero-padded
 * to the number of digits of the total count, as the original does.
 */

import type { PureScheduler } from "../engine/pure-scheduler.js";
import type { AbstractJob } from "../jobs/abstract-job.js";
import { SCHEDULER_BRAND } from "../jobs/brands.js";

/**
 * The ids given by the last numbering, kept here rather than on the jobs: a
 * field per job would cost every job of every graph, listed or not.
 */
const ids = new WeakMap<AbstractJob, string>();

/** The id the last listing gave `job`, if any. */
export function idOf(job: AbstractJob): string | undefined {
  return ids.get(job);
}

// Jobs call into this module (through repr.ts) to number themselves on
// demand, so it reads the scheduler brand itself rather than importing
// abstract-job.ts at run time, which would close an import cycle.
function isScheduler(value: unknown): value is PureScheduler {
  return typeof value === "object" && value !== null && SCHEDULER_BRAND in value;
}

/** Counts every job below `scheduler`, nested schedulers and their jobs included. */
export function countAll(scheduler: PureScheduler): number {
  // With a stack of its own rather than recursion: nesting may be deep.
  let count = 0;
  const stack = [scheduler];
  while (stack.length > 0) {
    for (const job of stack.pop()!._members) {
      count++;
      if (isScheduler(job)) stack.push(job);
    }
  }
  return count;
}

/**
 * The jobs of `scheduler` in topological order. On a cycle, rethrows the
 * engine's error (which names the cycle) with what `what` needs, and points
 * to `listSafe()`, which works on any graph.
 */
export function orderedJobs(scheduler: PureScheduler, what: string): AbstractJob[] {
  try {
    return [...scheduler.topologicalOrder()];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${what} needs jobs in topological order, but ${message}; ` +
        "use listSafe() to list a graph with a cycle",
      { cause: error },
    );
  }
}

/**
 * Sets the id of every job below `scheduler`. With `safe`, uses insertion
 * order instead of topological order, which works on graphs with cycles;
 * otherwise throws as {@link orderedJobs} does, naming `what`.
 */
export function numberJobs(scheduler: PureScheduler, what: string, safe = false): void {
  const width = String(countAll(scheduler)).length;
  let next = 1;
  const jobsOf = (current: PureScheduler): AbstractJob[] =>
    safe ? [...current._members] : orderedJobs(current, what);
  // Depth first (a nested scheduler's jobs right after it), with a stack of
  // its own rather than recursion: nesting may be deep.
  const stack: { jobs: AbstractJob[]; next: number }[] = [{ jobs: jobsOf(scheduler), next: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.jobs.length) {
      stack.pop();
      continue;
    }
    const job = frame.jobs[frame.next++]!;
    ids.set(job, String(next++).padStart(width, "0"));
    if (isScheduler(job)) stack.push({ jobs: jobsOf(job), next: 0 });
  }
}

/** The outermost scheduler that `scheduler` is nested in (itself when it is not nested). */
export function outermost(scheduler: PureScheduler): PureScheduler {
  let current = scheduler;
  for (;;) {
    const owner = current._owner;
    if (owner === undefined) return current;
    current = owner;
  }
}

/**
 * Gives ids to the jobs of the tree `job` belongs to, if it has none yet, so
 * that a job printed on its own (`toString()`, `console.log`) names its
 * requirements by id even before any listing. Uses topological order as
 * listings do, or insertion order on a graph with a cycle; a job outside
 * any scheduler keeps `??`.
 */
export function ensureIds(job: AbstractJob): void {
  if (ids.has(job) || job._owner === undefined) return;
  const root = outermost(job._owner);
  try {
    numberJobs(root, "numbering");
  } catch {
    numberJobs(root, "numbering", true);
  }
}
