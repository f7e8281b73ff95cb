/**
 * asyncjobs: run async jobs whose requirements form a directed acyclic graph,
 * with a concurrency window, a global timeout, critical and forever jobs,
 * nested schedulers, sequences, listings and graph drawings.
 *
 * This package is the runtime-neutral core, with no dependency: it runs in
 * Node, Deno, Bun and browsers. Graph pictures and files come with
 * `@asyncjobs/render`, commands with `@asyncjobs/node`, remote jobs with
 * `@asyncjobs/ssh`, and the command line with `@asyncjobs/cli`.
 *
 * @packageDocumentation
 * @module asyncjobs
 */

export {
  JobEvent,
  type JobEventType,
  SchedulerEvent,
  type SchedulerEventListener,
  type SchedulerEventMap,
  SchedulerEvents,
  type SchedulerEventType,
} from "./engine/events.js";
export {
  JOURNAL_FORMAT_VERSION,
  type JobEndRecord,
  type JobStartRecord,
  type JournalJobInfo,
  type JournalOutcome,
  type JournalRecord,
  type RecordedJob,
  type RunEndRecord,
  type RunJournal,
  type RunStartRecord,
} from "./engine/journal.js";
export {
  PureScheduler,
  type RunOptions,
  type RunStatus,
  type Schedulable,
  type SchedulerOptions,
} from "./engine/pure-scheduler.js";
export { type NestedSchedulerOptions, Scheduler } from "./engine/scheduler.js";
export {
  AbstractJob,
  type JobOptions,
  type Requirement,
  type RequiresOptions,
} from "./jobs/abstract-job.js";
export type { JobContext } from "./jobs/context.js";
export type { ExtraJobOptions } from "./jobs/extras.js";
export { Job, type JobFunction, type JobFunctionOptions } from "./jobs/job.js";
export { journalKey } from "./jobs/journal-marks.js";
export { PrintJob, type PrintJobOptions } from "./jobs/print-job.js";
export type { RetryOptions, RetryPolicy } from "./jobs/retry.js";
export { Sequence, type SequenceOptions } from "./jobs/sequence.js";
export type { LifecycleName } from "./jobs/state.js";
export type { TriggerRule } from "./jobs/trigger.js";
export type { DotFormatOptions } from "./presentation/dot.js";
export { type MimeBundle, SchedulerGraph } from "./presentation/graph.js";
export { type GraphRenderer, registerGraphRenderer } from "./presentation/graphics.js";
export { estimateTimeLeft } from "./presentation/time-left.js";
export {
  type ChromeTraceEvent,
  type OpenTelemetryExportOptions,
  RunTrace,
  type TraceOutcome,
  type TraceSpan,
} from "./presentation/trace.js";
export { CancelledError, TimeoutError } from "./util/errors.js";
export { sleep } from "./util/sleep.js";
export { Watch, type WatchOptions } from "./util/watch.js";
