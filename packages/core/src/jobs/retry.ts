/**
 * Retry policies: how many more attempts a failing job gets, and how long
 * to wait before each (exponential backoff, capped, optionally jittered).
 */
import { describeValue, isPlainObject } from "../util/describe.js";
import { checkDuration, rejectUnknownOptions } from "../util/options.js";

/** How a job retries after it raises. Durations are in milliseconds. */
export interface RetryOptions {
  /** How many attempts after the first one, at most. */
  retries: number;
  /** Wait before the first retry (default 0). */
  delay?: number;
  /** Each further wait is the previous one times this (default 2). */
  factor?: number;
  /** No wait is longer than this (default: no cap). */
  maxDelay?: number | null;
  /**
   * Randomises each wait down by up to this fraction (0 to 1; `true` is 1,
   * "full jitter"), so that jobs failing together do not retry together.
   */
  jitter?: number | boolean;
  /** Whether to retry after `error` on attempt `attempt` (1-based); default: always. */
  retryOn?: (error: unknown, attempt: number) => boolean;
}

/** A validated retry policy. */
export interface RetryPolicy {
  /** How many attempts after the first one, at most. */
  readonly retries: number;
  /** Milliseconds to wait before the first retry. */
  readonly delay: number;
  /** Each further wait is the previous one times this. */
  readonly factor: number;
  /** The longest wait, in milliseconds (`Infinity`: no cap). */
  readonly maxDelay: number;
  /** The fraction (0 to 1) by which each wait is randomly shortened, at most. */
  readonly jitter: number;
  /** Whether to retry after an error on a given attempt (1-based); undefined: always. */
  readonly retryOn: ((error: unknown, attempt: number) => boolean) | undefined;
}

const RETRY_OPTION_NAMES: ReadonlySet<string> = new Set([
  "retries",
  "delay",
  "factor",
  "maxDelay",
  "jitter",
  "retryOn",
]);

/** Validates the `retry` option of a job (a number means `{ retries: n }`). */
export function checkRetry(where: string, value: unknown): RetryPolicy | undefined {
  if (value === undefined || value === null) return undefined;
  const options = typeof value === "number" ? { retries: value } : value;
  if (!isPlainObject(options)) {
    throw new TypeError(
      `${where}: option "retry" must be a number of retries or an object, got ${describeValue(value)}`,
    );
  }
  rejectUnknownOptions(`${where}: option "retry"`, options, RETRY_OPTION_NAMES);
  const given = options as Partial<RetryOptions>;
  const { retries, factor = 2, jitter = 0, retryOn } = given;
  if (typeof retries !== "number" || !Number.isInteger(retries) || retries < 0) {
    throw new RangeError(
      `${where}: option "retry.retries" must be an integer >= 0, got ${describeValue(retries)}`,
    );
  }
  if (typeof factor !== "number" || !Number.isFinite(factor) || factor < 1) {
    throw new RangeError(
      `${where}: option "retry.factor" must be a number >= 1, got ${describeValue(factor)}`,
    );
  }
  const jitterFraction = jitter === true ? 1 : jitter === false ? 0 : jitter;
  if (typeof jitterFraction !== "number" || !(jitterFraction >= 0 && jitterFraction <= 1)) {
    throw new RangeError(
      `${where}: option "retry.jitter" must be a boolean or a number from 0 to 1, got ${describeValue(jitter)}`,
    );
  }
  if (retryOn !== undefined && typeof retryOn !== "function") {
    throw new TypeError(
      `${where}: option "retry.retryOn" must be a function, got ${describeValue(retryOn)}`,
    );
  }
  const delay = checkDuration(where, "retry.delay", given.delay) ?? 0;
  const maxDelay =
    checkDuration(where, "retry.maxDelay", given.maxDelay) ?? Number.POSITIVE_INFINITY;
  return { retries, delay, factor, maxDelay, jitter: jitterFraction, retryOn };
}

/**
 * The wait before the retry that follows failed attempt `attempt` (1-based):
 * `delay × factor^(attempt-1)`, capped at `maxDelay`, then reduced by up to
 * `jitter` of itself at random.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const base = Math.min(policy.delay * policy.factor ** (attempt - 1), policy.maxDelay);
  return base * (1 - policy.jitter * random());
}

/** Whether a job that failed `attempt` times with `error` gets another attempt. */
export function shouldRetry(
  policy: RetryPolicy | undefined,
  error: unknown,
  attempt: number,
): boolean {
  if (policy === undefined || attempt > policy.retries) return false;
  return policy.retryOn === undefined || policy.retryOn(error, attempt) !== false;
}
