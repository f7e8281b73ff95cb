/**
 * What run journals keep about jobs outside the jobs themselves: the `key`
 * option and the "resumed" mark. Side tables rather than fields, so that
 * every job keeps one shape and a run without a journal reads none of it.
 * No imports at run time: jobs and the journal both use it.
 */
import type { AbstractJob } from "./abstract-job.js";

/** The `key` option of each job that has one: a side table, so that jobs keep one shape. */
const keys = new WeakMap<AbstractJob, string>();

/** @internal Sets a job's key (its constructor does, from the `key` option). */
export function setJobKey(job: AbstractJob, key: string): void {
  keys.set(job, key);
}

/** @internal The `key` option of a job, if it was given one. */
export function explicitKey(job: AbstractJob): string | undefined {
  return keys.get(job);
}

/** The key that identifies `job` in a journal: its `key` option, else its label. */
export function journalKey(job: AbstractJob): string | undefined {
  return keys.get(job) ?? job.label;
}

/** The jobs the last journaled run of their scheduler resumed. */
const resumed = new WeakSet<AbstractJob>();
/** How many jobs may carry a mark: a run without a journal clears them only if some may. */
let marked = 0;

/** @internal Whether `job` was resumed by the last run of its scheduler. */
export function isResumed(job: AbstractJob): boolean {
  return marked > 0 && resumed.has(job);
}

/**
 * @internal Clears the resumed marks of a scheduler's jobs before a run
 * without a journal: one comparison when no job was ever resumed.
 */
export function clearResumedMarks(scheduler: { iterateJobs(): Iterable<AbstractJob> }): void {
  if (marked === 0) return;
  for (const job of scheduler.iterateJobs()) clearMark(job);
}

/** @internal Drops the resumed mark of one job. */
export function clearMark(job: AbstractJob): void {
  if (resumed.delete(job)) marked--;
}

/** @internal Marks a job as resumed by the run about to start. */
export function markResumed(job: AbstractJob): void {
  if (!resumed.has(job)) {
    resumed.add(job);
    marked++;
  }
}
