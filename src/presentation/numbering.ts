/**
 * Ids for listings and graphs: every job, nested ones included, numbered in
 * topological order (a nested scheduler's jobs right after it), zero-padded
 * to the number of digits of the total count.
 */

import type { PureScheduler } from "../engine/pure-scheduler.js";
import { type AbstractJob, isScheduler } from "../jobs/abstract-job.js";

function orderOf(scheduler: PureScheduler): Iterable<AbstractJob> {
  return scheduler.topologicalOrder();
}

/** Counts every job below `scheduler`, nested schedulers and their jobs included. */
export function countAll(scheduler: PureScheduler): number {
  let count = 0;
  for (const job of scheduler._members) {
    count++;
    if (isScheduler(job)) count += countAll(job);
  }
  return count;
}

/**
 * Sets the id of every job below `scheduler`. With `safe`, uses insertion
 * order instead of topological order (for graphs that may have cycles).
 */
export function numberJobs(scheduler: PureScheduler, safe = false): void {
  const width = String(countAll(scheduler)).length;
  let next = 1;
  const visit = (current: PureScheduler): void => {
    for (const job of safe ? current._members : orderOf(current)) {
      job._id = String(next++).padStart(width, "0");
      if (isScheduler(job)) visit(job);
    }
  };
  visit(scheduler);
}
