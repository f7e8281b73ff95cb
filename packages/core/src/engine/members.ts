/**
 * The jobs of one scheduler, in the order they were added.
 *
 * Kept in a plain array rather than a Set: graphs are built one `add()` at a
 * time by the million, and pushing onto an array costs a fraction of
 * growing a hash table, in time and in memory. Each member's position is
 * kept on the job (`_index`; a job belongs to one scheduler at most), which
 * makes `has()` O(1) and gives a run its jobs' positions with no copy.
 * Removing a job shifts the ones after it: O(jobs), like removing many at
 * once with {@link Members.retain}.
 */
import type { AbstractJob } from "../jobs/abstract-job.js";

/** @internal */
export class Members implements ReadonlySet<AbstractJob> {
  /** The jobs; `list[job._index] === job` for every member. */
  readonly list: AbstractJob[] = [];

  get size(): number {
    return this.list.length;
  }

  has(job: AbstractJob): boolean {
    // Anything may be asked (the set is public, as scheduler.jobs).
    return job != null && this.list[job._index] === job;
  }

  /** Adds `job` at the end unless it is already in. */
  add(job: AbstractJob): void {
    if (this.has(job)) return;
    job._index = this.list.length;
    this.list.push(job);
  }

  /**
   * Adds each of `jobs` that is not in yet, in order, and tells `joined`
   * about it: one walk over them, where add() per job would be a call more
   * per job. The list grows by push, which keeps it a packed array: made at
   * its final size up front it is holey, and a run of a million layered jobs
   * reading it measured slower than the pushes cost (856 against 787 ms,
   * medians of 7).
   */
  addAll(jobs: readonly AbstractJob[], joined: (job: AbstractJob) => void): void {
    const list = this.list;
    for (let k = 0; k < jobs.length; k++) {
      const job = jobs[k]!;
      // In already, or earlier in `jobs`.
      if (list[job._index] === job) continue;
      job._index = list.length;
      list.push(job);
      joined(job);
    }
  }

  /** Removes `job`, if it is in; true if it was. */
  delete(job: AbstractJob): boolean {
    if (!this.has(job)) return false;
    const list = this.list;
    list.splice(job._index, 1);
    for (let k = job._index; k < list.length; k++) list[k]!._index = k;
    job._index = 0;
    return true;
  }

  /** Keeps the members for which `keep` holds, in order; returns those removed. */
  retain(keep: (job: AbstractJob) => boolean): AbstractJob[] {
    const list = this.list;
    const removed: AbstractJob[] = [];
    let kept = 0;
    for (let k = 0; k < list.length; k++) {
      const job = list[k]!;
      if (keep(job)) {
        job._index = kept;
        list[kept++] = job;
      } else {
        job._index = 0;
        removed.push(job);
      }
    }
    list.length = kept;
    return removed;
  }

  clear(): void {
    this.retain(() => false);
  }

  forEach(
    callback: (value: AbstractJob, value2: AbstractJob, set: ReadonlySet<AbstractJob>) => void,
    thisArg?: unknown,
  ): void {
    // By index: callers walk a million jobs once per run, mostly before the
    // optimiser steps in, and an iterator would allocate a result per job.
    const list = this.list;
    for (let k = 0; k < list.length; k++) callback.call(thisArg, list[k]!, list[k]!, this);
  }

  [Symbol.iterator](): SetIterator<AbstractJob> {
    return this.list.values() as SetIterator<AbstractJob>;
  }

  values(): SetIterator<AbstractJob> {
    return this[Symbol.iterator]();
  }

  keys(): SetIterator<AbstractJob> {
    return this[Symbol.iterator]();
  }

  entries(): SetIterator<[AbstractJob, AbstractJob]> {
    return this.list.map((job): [AbstractJob, AbstractJob] => [job, job]).values() as SetIterator<
      [AbstractJob, AbstractJob]
    >;
  }
}
