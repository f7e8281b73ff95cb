/**
 * The lifecycle a job goes through in a run: idle → scheduled → running →
 * done. Stored as small integers so that "is at least running" is a
 * comparison, which is how the cumulative predicates of the original read.
 */
export const IDLE = 0;
export const SCHEDULED = 1;
export const RUNNING = 2;
export const DONE = 3;
/**
 * Skipped: the job's trigger rule was not met, so it never ran. Below IDLE,
 * so that none of the cumulative predicates holds for a skipped job.
 */
export const SKIPPED = -1;

export type LifecycleState =
  | typeof SKIPPED
  | typeof IDLE
  | typeof SCHEDULED
  | typeof RUNNING
  | typeof DONE;

/** The lifecycle states by name, for events and traces. */
export type LifecycleName = "skipped" | "idle" | "scheduled" | "running" | "done";
