/**
 * The lifecycle a job goes through in a run: idle → scheduled → running →
 * done. Stored as small integers so that "is at least running" is a
 * comparison, which is how the cumulative predicates of the original read.
 */
export const IDLE = 0;
export const SCHEDULED = 1;
export const RUNNING = 2;
export const DONE = 3;

export type LifecycleState = typeof IDLE | typeof SCHEDULED | typeof RUNNING | typeof DONE;

/** The four lifecycle states by name, for events and traces. */
export type LifecycleName = "idle" | "scheduled" | "running" | "done";

export const LIFECYCLE_NAMES: readonly LifecycleName[] = ["idle", "scheduled", "running", "done"];
