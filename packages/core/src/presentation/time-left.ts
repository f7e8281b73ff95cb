/**
 * How long a run has left, as the views estimate it: along its longest
 * chain of requirements, nested schedulers included, and no less than the
 * work left spread over its window.
 */
import type { PureScheduler } from "../engine/pure-scheduler.js";
import type { AbstractJob } from "../jobs/abstract-job.js";
import { isScheduler } from "../jobs/abstract-job.js";

/**
 * The milliseconds `scheduler`'s run has left, given what each of its jobs
 * has left: the longest chain of requirements (a nested scheduler lasts as
 * long as its own longest chain), or the sum of the jobs' times spread over
 * the window, whichever is longer. `leftOf` is asked about jobs, never about
 * schedulers; `undefined` counts as nothing left.
 *
 * @example
 * ```ts
 * // Every job not done takes the 200 ms the finished ones took on average.
 * const left = estimateTimeLeft(scheduler, (job) => (job.isDone() ? 0 : 200));
 * ```
 */
export function estimateTimeLeft(
  scheduler: PureScheduler,
  leftOf: (job: AbstractJob) => number | undefined,
): number {
  let total = 0;
  const finish = (owner: PureScheduler): number => {
    const memo = new Map<AbstractJob, number>();
    const at = (job: AbstractJob): number => {
      const known = memo.get(job);
      if (known !== undefined) return known;
      memo.set(job, 0); // Guards against cycles.
      let start = 0;
      for (const required of job.required) start = Math.max(start, at(required));
      let own = 0;
      if (isScheduler(job)) own = finish(job);
      else {
        own = leftOf(job) ?? 0;
        total += own;
      }
      memo.set(job, start + own);
      return start + own;
    };
    let longest = 0;
    for (const job of owner.jobs) longest = Math.max(longest, at(job));
    return longest;
  };
  const chain = finish(scheduler);
  const window = scheduler.jobsWindow;
  return Math.max(chain, window ? total / window : 0);
}
