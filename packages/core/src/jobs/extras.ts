/**
 * The options beyond the original: per-job timeout, retries, trigger rule,
 * weight in the window and named pool. A job that uses none of them keeps
 * `_extras` undefined, so the engine's hot path tests one field and moves on.
 */
import { describeValue } from "../util/describe.js";
import { checkDuration } from "../util/options.js";
import { checkRetry, type RetryOptions, type RetryPolicy } from "./retry.js";
import { checkTrigger, type TriggerRule } from "./trigger.js";

/** The options of every job that go beyond the original. */
export interface ExtraJobOptions {
  /**
   * Milliseconds this job may run (each attempt): past that its signal is
   * aborted and it fails with a `TimeoutError`; `critical` decides what follows.
   */
  timeout?: number | null;
  /** Retry a failing job: a number of retries, or a policy with backoff. */
  retry?: RetryOptions | number | null;
  /** What the requirements must have achieved for this job to run (default `allDone`). */
  trigger?: TriggerRule;
  /** How many slots of the window this job takes (default 1). */
  weight?: number;
  /** A named pool (see the scheduler option `pools`) whose limit this job counts against. */
  pool?: string | null;
}

/** Validated extra options, as the engine reads them. */
export interface JobExtras {
  readonly timeout: number | null;
  readonly retry: RetryPolicy | undefined;
  readonly trigger: TriggerRule;
  readonly weight: number;
  readonly pool: string | undefined;
}

export const EXTRA_OPTION_NAMES: readonly string[] = [
  "timeout",
  "retry",
  "trigger",
  "weight",
  "pool",
];

/** Validates the extra options; undefined when none is used (the common case). */
export function checkExtras(where: string, options: ExtraJobOptions): JobExtras | undefined {
  const { timeout, retry, trigger, weight, pool } = options;
  if (
    timeout === undefined &&
    retry === undefined &&
    trigger === undefined &&
    weight === undefined &&
    pool === undefined
  ) {
    return undefined;
  }
  if (
    weight !== undefined &&
    (typeof weight !== "number" || !Number.isInteger(weight) || weight < 1)
  ) {
    throw new RangeError(
      `${where}: option "weight" must be an integer >= 1, got ${describeValue(weight)}`,
    );
  }
  if (pool !== undefined && pool !== null && (typeof pool !== "string" || pool === "")) {
    throw new TypeError(
      `${where}: option "pool" must be a non-empty string, got ${describeValue(pool)}`,
    );
  }
  return {
    timeout: checkDuration(where, "timeout", timeout),
    retry: checkRetry(where, retry),
    trigger: checkTrigger(where, trigger),
    weight: weight ?? 1,
    pool: pool ?? undefined,
  };
}
