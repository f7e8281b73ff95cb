/**
 * For packages and applications that add job classes of their own
 * (`class MyJob extends AbstractJob`): the checks the core's own jobs use,
 * so that a new job reports bad options the same way, naming the option.
 * `@asyncjobs/node` and `@asyncjobs/ssh` are built on them.
 *
 * @example
 * ```ts
 * import { AbstractJob, type JobOptions } from "asyncjobs";
 * import { JOB_OPTION_NAMES, checkDuration, rejectUnknownOptions } from "asyncjobs/extend";
 * ```
 *
 * @packageDocumentation
 * @module asyncjobs/extend
 */

export type { PureScheduler } from "./engine/pure-scheduler.js";
export { isScheduler, JOB_OPTION_NAMES } from "./jobs/abstract-job.js";
export { describeValue, isPlainObject } from "./util/describe.js";
export {
  checkBoolean,
  checkDuration,
  checkString,
  rejectUnknownOptions,
} from "./util/options.js";
