/**
 * `verbose: true`: one line per event of a run, as the original's feedback
 * prints them, stamped with the time from the scheduler's `watch` (seconds
 * since it started) or else the wall clock:
 *
 * ```text
 * 000.000 SCHEDULER: entering run() with 3 job(s)
 * 000.001 STARTING 1 ⚠ ☉ ↺   <Job `b1`> [not done]
 * 000.102 DONE 1 ⚠ ☉ ☓   <Job `b1`> [[ -> 1]]
 * 000.102 RETRYING 2 ⚠ ☉ ↺   <Job `flaky`> [not done] (attempt 2 of 4)
 * 000.103 SKIPPED 3 ⚠   ⊘   <Job `deploy`> [not done] (trigger allSuccess) requires={2}
 * 000.310 SCHEDULER: run ended: FINE
 * 000.311 SCHEDULER: shutdown ok
 * ```
 *
 * Built on the engine's events: nothing here touches the run itself.
 */
import type { JobEvent, SchedulerEvent } from "../engine/events.js";
import type { PureScheduler } from "../engine/pure-scheduler.js";
import { writeOut } from "../util/output.js";
import { Watch } from "../util/watch.js";
import { numberJobs, outermost } from "./numbering.js";
import { formatException, joinParts } from "./repr.js";

const JOB_VERBS = {
  "job:started": "STARTING",
  "job:done": "DONE",
  "job:failed": "RAISED EXC.",
  "job:cancelled": "CANCELLED",
  "job:retried": "RETRYING",
  "job:skipped": "SKIPPED",
  "job:ready": "READY",
} as const;

const SCHEDULER_TYPES = ["scheduler:started", "scheduler:ended", "scheduler:shutdown"] as const;

/** The nearest scheduler, from `scheduler` outwards, that is verbose: the one that prints its events. */
function verboseOwner(scheduler: PureScheduler): PureScheduler | undefined {
  for (let current: PureScheduler | undefined = scheduler; current; current = current._owner) {
    if (current.verbose) return current;
  }
  return undefined;
}

/** `(label) ` for a labelled scheduler, so that nested ones can be told apart. */
function nameOf(scheduler: PureScheduler): string {
  const label = (scheduler as { label?: string }).label;
  return label === undefined ? "" : `(${label})`;
}

/**
 * What a line adds for some events: the attempt that comes next after a
 * failed one and what that one raised (`attempt 2 of 4, after Error:boom`),
 * how many attempts a job that retried took (as listings say it), the
 * trigger rule that was not met.
 */
function noteOf(event: JobEvent): string {
  const job = event.job;
  if (event.type === "job:retried") {
    const retries = job.retry?.retries;
    const next = job.attempts() + 1;
    const after = `after ${formatException(event.error)}`;
    return retries === undefined
      ? `(attempt ${next}, ${after})`
      : `(attempt ${next} of ${retries + 1}, ${after})`;
  }
  if ((event.type === "job:done" || event.type === "job:failed") && job.attempts() > 1) {
    return `(${job.attempts()} attempts)`;
  }
  if (event.type === "job:skipped") return `(trigger ${job.trigger})`;
  if (event.type === "job:ready") return "(dependents may start)";
  return "";
}

function endText(scheduler: PureScheduler): string {
  return `run ended: ${scheduler.why()}`;
}

function shutdownText(scheduler: PureScheduler, ok: boolean | undefined): string {
  if (ok) return "shutdown ok";
  const limit = scheduler.shutdownTimeout;
  return `shutdown FAILED: a shutdown() raised${limit === null ? "" : ` or took more than ${limit} ms`}`;
}

/**
 * Starts printing the events of `scheduler`'s run (and of nested schedulers
 * that are not verbose themselves); returns the function that stops it.
 */
export function attachVerbose(scheduler: PureScheduler): () => void {
  const stamp = (): string => scheduler.watch?.elapsed() ?? Watch.wallClock();
  try {
    // Number from the outermost scheduler, so that a nested scheduler's
    // lines use the same ids as its parent's listing.
    numberJobs(outermost(scheduler), "verbose output");
  } catch {
    // A cycle: run() rejects with the explanation before anything runs.
  }
  const onJob = (event: JobEvent): void => {
    if (verboseOwner(event.scheduler) !== scheduler) return;
    const verb = JOB_VERBS[event.type as keyof typeof JOB_VERBS];
    const job = event.job;
    writeOut(
      `${joinParts(
        stamp(),
        nameOf(event.scheduler),
        verb,
        job.reprId(),
        job.reprShort(),
        job.reprMain(),
        job.reprResult(),
        noteOf(event),
        job.reprRequires(),
      )}\n`,
    );
  };
  const onScheduler = (event: SchedulerEvent): void => {
    const source = event.scheduler;
    if (verboseOwner(source) !== scheduler) return;
    let text: string;
    if (event.type === "scheduler:started") text = `entering run() with ${source.size} job(s)`;
    else if (event.type === "scheduler:ended") text = endText(source);
    else text = shutdownText(source, event.ok);
    writeOut(`${stamp()} SCHEDULER${nameOf(source)}: ${text}\n`);
  };
  const events = scheduler.events;
  const jobTypes = Object.keys(JOB_VERBS) as (keyof typeof JOB_VERBS)[];
  for (const type of jobTypes) events.addEventListener(type, onJob);
  for (const type of SCHEDULER_TYPES) events.addEventListener(type, onScheduler);
  return () => {
    for (const type of jobTypes) events.removeEventListener(type, onJob);
    for (const type of SCHEDULER_TYPES) events.removeEventListener(type, onScheduler);
  };
}
