/**
 * verbose: true: one line per event, with the time from the scheduler's
 * watch (or the wall clock), built on the engine's events.
 */
import type { JobEvent, SchedulerEvent } from "../engine/events.js";
import type { PureScheduler } from "../engine/pure-scheduler.js";
import { writeOut } from "../util/output.js";
import { Watch } from "../util/watch.js";
import { numberJobs } from "./numbering.js";

const VERBS: Record<string, string> = {
  "job:started": "STARTING",
  "job:done": "DONE",
  "job:failed": "RAISED",
  "job:cancelled": "CANCELLED",
};

/** The nearest scheduler, from `scheduler` outwards, that is verbose. */
function verboseOwner(scheduler: PureScheduler): PureScheduler | undefined {
  for (
    let current: PureScheduler | undefined = scheduler;
    current;
    current = (current as { _owner?: PureScheduler })._owner
  ) {
    if (current.verbose) return current;
  }
  return undefined;
}

/** Starts printing `scheduler`'s events; returns the function that stops it. */
export function attachVerbose(scheduler: PureScheduler): () => void {
  const stamp = (): string => scheduler.watch?.elapsed() ?? Watch.wallClock();
  try {
    numberJobs(scheduler);
  } catch {
    // A cycle: run() will reject with the explanation.
  }
  const onJob = (event: JobEvent): void => {
    if (verboseOwner(event.scheduler) !== scheduler) return;
    const verb = VERBS[event.type];
    if (verb) writeOut(`${stamp()} ${verb} ${event.job.reprId()} ${event.job.reprMain()}\n`);
  };
  const onScheduler = (event: SchedulerEvent): void => {
    if (event.scheduler !== scheduler) return;
    if (event.type === "scheduler:ended") {
      writeOut(`${stamp()} ENDED ${scheduler.why()}\n`);
    } else if (event.type === "scheduler:shutdown") {
      writeOut(`${stamp()} SHUTDOWN ${event.ok ? "ok" : "FAILED or timed out"}\n`);
    }
  };
  const events = scheduler.events;
  for (const type of ["job:started", "job:done", "job:failed", "job:cancelled"] as const) {
    events.addEventListener(type, onJob);
  }
  for (const type of ["scheduler:ended", "scheduler:shutdown"] as const) {
    events.addEventListener(type, onScheduler);
  }
  return () => {
    for (const type of ["job:started", "job:done", "job:failed", "job:cancelled"] as const) {
      events.removeEventListener(type, onJob);
    }
    for (const type of ["scheduler:ended", "scheduler:shutdown"] as const) {
      events.removeEventListener(type, onScheduler);
    }
  };
}
