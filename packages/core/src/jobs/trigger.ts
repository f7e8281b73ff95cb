/**
 * Trigger rules, after Airflow's: what a job's requirements must have
 * achieved for it to run once they have all finished. A job whose rule is
 * not met is skipped, and a skip counts as finished for the run.
 */
import { describeValue } from "../util/describe.js";

/**
 * - `allDone` (the default, as the original): run once every requirement
 *   has finished, however it finished;
 * - `allSuccess`: run only if every requirement succeeded (none raised,
 *   none skipped), so skips propagate down a chain;
 * - `oneFailed`: run only if at least one requirement raised (cleanup,
 *   alerting);
 * - `noneFailed`: run unless a requirement raised (skipped ones are fine).
 */
export type TriggerRule = "allDone" | "allSuccess" | "oneFailed" | "noneFailed";

const RULES: ReadonlySet<string> = new Set(["allDone", "allSuccess", "oneFailed", "noneFailed"]);

/** Validates the `trigger` option of a job. */
export function checkTrigger(where: string, value: unknown): TriggerRule {
  if (value === undefined || value === null) return "allDone";
  if (typeof value !== "string" || !RULES.has(value)) {
    throw new TypeError(
      `${where}: option "trigger" must be one of ${[...RULES].join(", ")}, got ${describeValue(value)}`,
    );
  }
  return value as TriggerRule;
}

/** Whether a job with `rule` runs, given how many of its requirements raised or were skipped. */
export function triggerAllows(rule: TriggerRule, failed: number, skipped: number): boolean {
  switch (rule) {
    case "allDone":
      return true;
    case "allSuccess":
      return failed === 0 && skipped === 0;
    case "oneFailed":
      return failed > 0;
    case "noneFailed":
      return failed === 0;
  }
}
