/**
 * The shutdown phase: every job's shutdown() called once, all at once,
 * bounded by the scheduler's shutdownTimeout, with no timer left behind.
 */
import type { AbstractJob } from "../jobs/abstract-job.js";
import { isThenable } from "../util/describe.js";

/**
 * Calls `shutdown()` on each job that has one worth calling (all of `jobs`
 * when `selected`: the caller has picked them already). Resolves true when
 * all of them completed within `timeoutMs` without throwing and none
 * answered `false` (a nested scheduler whose own shutdown failed).
 */
export async function shutdownJobs(
  jobs: Iterable<AbstractJob>,
  timeoutMs: number | null,
  selected = false,
): Promise<boolean> {
  let ok = true;
  const pending: Promise<unknown>[] = [];
  // By index: this loop runs once per run, over a million jobs before the
  // optimiser steps in, and a for-of would allocate a result per job.
  const list = Array.isArray(jobs) ? jobs : [...jobs];
  for (let k = 0; k < list.length; k++) {
    const job = list[k]!;
    if (!selected && !job._hasShutdown()) continue;
    try {
      const answer = job.shutdown();
      if (isThenable(answer)) pending.push(Promise.resolve(answer));
      else if (answer === false) ok = false;
    } catch {
      ok = false;
    }
  }
  if (pending.length === 0) return ok;
  const all = Promise.allSettled(pending).then((outcomes) =>
    outcomes.every((outcome) => outcome.status === "fulfilled" && outcome.value !== false),
  );
  if (timeoutMs === null) return (await all) && ok;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, false);
  });
  try {
    return (await Promise.race([all, expired])) && ok;
  } finally {
    clearTimeout(timer);
  }
}
