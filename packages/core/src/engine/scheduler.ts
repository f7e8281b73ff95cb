/**
 * Scheduler: a PureScheduler that is also a job, so that schedulers nest.
 *
 * JavaScript has single inheritance: Scheduler extends AbstractJob, and the
 * PureScheduler methods are copied onto its prototype below (the interface
 * declaration tells TypeScript). `instanceof PureScheduler` still holds, via
 * PureScheduler's Symbol.hasInstance.
 */
import { AbstractJob, JOB_OPTION_NAMES, type JobOptions } from "../jobs/abstract-job.js";
import type { JobContext, RunContext } from "../jobs/context.js";
import { describeValue } from "../util/describe.js";
import { rejectUnknownOptions, splitTrailingOptions } from "../util/options.js";
import {
  failureOf,
  initSchedulerState,
  PureScheduler,
  type RunOptions,
  runScheduler,
  SCHEDULER_OPTION_NAMES,
  type Schedulable,
  type SchedulerOptions,
} from "./pure-scheduler.js";

/** Options of {@link Scheduler}: those of schedulers and those of jobs. */
export interface NestedSchedulerOptions extends SchedulerOptions, JobOptions {}

const NESTED_OPTION_NAMES: ReadonlySet<string> = new Set([
  ...SCHEDULER_OPTION_NAMES,
  ...JOB_OPTION_NAMES,
]);

/**
 * The scheduler half of {@link Scheduler}: every {@link PureScheduler}
 * member, which the class gets at run time (see the class).
 */
export interface Scheduler extends PureScheduler {
  /** Runs this scheduler; rejects on failure when critical. */
  run(options?: RunOptions | JobContext): Promise<boolean>;
  /** See {@link PureScheduler.shutdown}. */
  shutdown(): Promise<boolean>;
  /** `Scheduler with 2 done + 3 ongoing + 4 idle = 9 job(s)`, named after the object's class. */
  toString(): string;
}

/**
 * A scheduler that is also a job: it goes wherever a job goes, in
 * particular inside another scheduler, where it counts as one job of the
 * parent's window while its own window limits its own jobs.
 *
 * A critical Scheduler (the default) rejects when its run fails: with a
 * {@link TimeoutError} after a timeout, with the critical job's own
 * exception, or with the abort reason. With `critical: false` it resolves
 * false instead, like a PureScheduler.
 *
 * @example
 * ```ts
 * const inner = new Scheduler(new Sequence(a, b), { jobsWindow: 1, label: "inner" });
 * await new Scheduler(new Sequence(start, inner, end)).run();
 * ```
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above.
export class Scheduler extends AbstractJob<boolean> {
  constructor(...jobsThenOptions: [...Schedulable[], NestedSchedulerOptions] | Schedulable[]) {
    const { items, options } = splitTrailingOptions<NestedSchedulerOptions>(jobsThenOptions);
    rejectUnknownOptions("Scheduler()", options, NESTED_OPTION_NAMES);
    const { jobsWindow, timeout, shutdownTimeout, watch, verbose, pools, trace, ...jobOptions } =
      options;
    // The scheduler half must exist before AbstractJob's constructor may add
    // this scheduler to a parent (option "scheduler").
    const { scheduler: parent, ...ownJobOptions } = jobOptions;
    // Checked before the jobs are added: a bad option must leave them free.
    if (parent !== undefined && parent !== null && !(parent instanceof PureScheduler)) {
      throw new TypeError(
        `Scheduler(): option "scheduler" must be a PureScheduler or a Scheduler, got ${describeValue(parent)}`,
      );
    }
    super(ownJobOptions);
    initSchedulerState(
      this,
      { jobsWindow, timeout, shutdownTimeout, watch, verbose, pools, trace },
      "Scheduler()",
    );
    this.update(items as Schedulable[]);
    if (parent !== undefined && parent !== null) {
      try {
        parent.add(this);
      } catch (error) {
        // The parent refused (it runs, say): give the jobs back, so that
        // they can still join another scheduler.
        for (const job of this._members) job._owner = undefined;
        this._members.clear();
        throw error;
      }
    }
  }

  /**
   * Runs this scheduler. As a job inside a parent, the parent's context
   * signal cancels it. Rejects on failure when critical; see the class doc.
   */
  override async run(options: RunOptions | JobContext = {}): Promise<boolean> {
    const ok = await runScheduler(this, options as RunOptions);
    if (!ok && this.critical) throw failureOf(this);
    return ok;
  }

  /** @internal */
  override _invoke(context: RunContext): unknown {
    // A nested run starts within its parent's start, synchronously, so each
    // level of nesting adds frames to one stack: past NESTED_STARTS_PER_STACK
    // levels, the next one starts a microtask later, on a fresh stack, and
    // ten thousand levels run as well as ten.
    if (nestedStarts >= NESTED_STARTS_PER_STACK) {
      return Promise.resolve(context).then(startLater.bind(this));
    }
    nestedStarts++;
    try {
      return this.run(context);
    } finally {
      nestedStarts--;
    }
  }

  /** @internal */
  override _hasShutdown(): boolean {
    return true;
  }

  /** See {@link PureScheduler.shutdown}. */
  override shutdown(): Promise<boolean> {
    return PureScheduler.prototype.shutdown.call(this);
  }

  /** `Scheduler with 2 done + 3 ongoing + 4 idle = 9 job(s)`, named after the object's class. */
  override toString(): string {
    return PureScheduler.prototype.toString.call(this);
  }

  /** `Scheduler`, unless a label is given. */
  override textLabel(): string {
    return "Scheduler";
  }

  /** Schedulers are drawn with square corners. */
  override dotStyle(): Record<string, string | number> {
    const style = super.dotStyle();
    style.style = this.forever ? "dashed" : "solid";
    return style;
  }

  /** The name of the DOT subgraph drawing this scheduler; DOT wants it to start with `cluster_`. */
  dotClusterName(): string {
    return `cluster_${this.reprId()}`;
  }
}

/** How many nested runs are being started on the current stack. */
let nestedStarts = 0;
const NESTED_STARTS_PER_STACK = 64;

/** A nested run put off to a fresh stack; not started if its parent cancelled it meanwhile. */
function startLater(this: Scheduler, context: RunContext): Promise<boolean> {
  if (context._aborted) return Promise.reject(context._reason);
  return this._invoke(context) as Promise<boolean>;
}

// Mix the PureScheduler half into Scheduler: every PureScheduler member that
// Scheduler does not define itself (accessors included).
for (const [name, descriptor] of Object.entries(
  Object.getOwnPropertyDescriptors(PureScheduler.prototype),
)) {
  if (name === "constructor" || Object.hasOwn(Scheduler.prototype, name)) continue;
  Object.defineProperty(Scheduler.prototype, name, descriptor);
}
for (const symbol of Object.getOwnPropertySymbols(PureScheduler.prototype)) {
  if (Object.hasOwn(Scheduler.prototype, symbol)) continue;
  const descriptor = Object.getOwnPropertyDescriptor(PureScheduler.prototype, symbol);
  if (descriptor) Object.defineProperty(Scheduler.prototype, symbol, descriptor);
}
