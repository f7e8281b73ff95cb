/**
 * Named pools: a limit on how many slots the jobs naming a pool may hold at
 * once, shared by every scheduler below the one that declares it (option
 * `pools`). A pool lives for one run of its declaring scheduler.
 */
import type { AbstractJob } from "../jobs/abstract-job.js";
import { describeValue, isPlainObject } from "../util/describe.js";

/** A job waiting for room in a pool, with the run that will start it. */
export interface PoolWaiter {
  readonly job: AbstractJob;
  /** Called when the pool may have room: the run queues the job again. */
  readonly wake: () => void;
}

/** One pool during one run. */
export class PoolState {
  readonly name: string;
  readonly limit: number;
  used = 0;
  readonly waiting: PoolWaiter[] = [];

  constructor(name: string, limit: number) {
    this.name = name;
    this.limit = limit;
  }

  /** Whether a job of `weight` fits now. */
  fits(weight: number): boolean {
    return this.used + weight <= this.limit;
  }

  /** Gives `weight` slots back and wakes the waiting jobs (they re-check for room). */
  release(weight: number): void {
    this.used -= weight;
    const waiting = this.waiting.splice(0);
    for (const waiter of waiting) waiter.wake();
  }
}

/** Validates the `pools` option of a scheduler: names to integer limits >= 1. */
export function checkPools(
  where: string,
  value: unknown,
): Readonly<Record<string, number>> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    throw new TypeError(
      `${where}: option "pools" must be an object of pool names to limits, got ${describeValue(value)}`,
    );
  }
  for (const [name, limit] of Object.entries(value)) {
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `${where}: option "pools": the limit of pool "${name}" must be an integer >= 1, got ${describeValue(limit)}`,
      );
    }
  }
  return { ...(value as Record<string, number>) };
}
