/**
 * The job made from a function: the everyday way to put work in a scheduler.
 */
import { describeValue, isPlainObject, isThenable } from "../util/describe.js";
import { rejectUnknownOptions } from "../util/options.js";
import { AbstractJob, JOB_OPTION_NAMES, type JobOptions, NO_OPTIONS } from "./abstract-job.js";
import type { JobContext, RunContext } from "./context.js";

/** What a {@link Job} runs: a function of the job's context, returning a value or a promise. */
export type JobFunction<T> = (context: JobContext) => T | PromiseLike<T>;

/** Options of {@link Job}: those of every job, plus a shutdown hook. */
export interface JobFunctionOptions extends JobOptions {
  /** Called once when the scheduler's run ends (its `shutdown` phase). */
  shutdown?: () => unknown;
}

/** Options may be left out (undefined or null); given, they are a plain object. */
function isOptionsObject(options: unknown): boolean {
  return options === undefined || options === null || isPlainObject(options);
}

const JOB_FUNCTION_OPTION_NAMES: ReadonlySet<string> = new Set([...JOB_OPTION_NAMES, "shutdown"]);

/**
 * A job that runs a function. The function is called afresh each time the
 * job runs, with a context holding the job's abort signal.
 *
 * @example
 * ```ts
 * const fetchIt = new Job(async ({ signal }) => (await fetch(url, { signal })).text(),
 *                         { label: "fetch" });
 * ```
 */
export class Job<T = unknown> extends AbstractJob<T> {
  // Plain fields rather than #private ones: AbstractJob's constructor may
  // need this job's label (for an error message) before they are set.
  /** @internal */ declare readonly _function: JobFunction<T>;
  /** @internal */ declare readonly _onShutdown: (() => unknown) | undefined;

  constructor(run: JobFunction<T>, options: JobFunctionOptions = NO_OPTIONS) {
    if (isThenable(run)) {
      throw new TypeError(
        "Job(): got a promise, which is already running when it exists; " +
          "pass a function instead: new Job(() => promise) or new Job(async ({ signal }) => ...)",
      );
    }
    if (typeof run !== "function") {
      throw new TypeError(`Job(): expected a function to run, got ${describeValue(run)}`);
    }
    if (options !== NO_OPTIONS && !isOptionsObject(options)) {
      throw new TypeError(`Job(): options must be a plain object, got ${describeValue(options)}`);
    }
    // Jobs are made by the million: without options, nothing is checked or copied.
    const given = options ?? NO_OPTIONS;
    const shutdown = given === NO_OPTIONS ? undefined : given.shutdown;
    if (given !== NO_OPTIONS) {
      rejectUnknownOptions("Job()", given, JOB_FUNCTION_OPTION_NAMES);
      if (shutdown !== undefined && typeof shutdown !== "function") {
        throw new TypeError(
          `Job(): option "shutdown" must be a function, got ${describeValue(shutdown)}`,
        );
      }
    }
    // AbstractJob reads its own options only, so a plain object goes as it is.
    super(given === NO_OPTIONS || isPlainObject(given) ? given : { ...given });
    this._function = run;
    this._onShutdown = shutdown;
  }

  /** Calls the job's function; resolves with what it returns. */
  override async run(context: JobContext): Promise<T> {
    return await this._function(context);
  }

  /** Calls the `shutdown` option, if one was given. */
  override async shutdown(): Promise<unknown> {
    return await this._onShutdown?.();
  }

  /** @internal */
  override _invoke(context: RunContext): unknown {
    return this._function(context);
  }

  /** @internal */
  override _hasShutdown(): boolean {
    return this._onShutdown !== undefined || this.shutdown !== Job.prototype.shutdown;
  }

  /** `Job[functionName (...)]`, as the original names its jobs. */
  override textLabel(): string {
    return `Job[${this._function?.name || "anonymous"} (...)]`;
  }
}
