/**
 * The base class of everything a scheduler runs: requirements, lifecycle,
 * result and the textual representations used by listings.
 */

// Type-only imports: no runtime cycle between jobs and schedulers.
import type { PureScheduler } from "../engine/pure-scheduler.js";
import { idOf } from "../presentation/numbering.js";
import {
  reprMain,
  reprRequires,
  reprResult,
  reprShort,
  resolvedGraphLabel,
  resolvedTextLabel,
} from "../presentation/repr.js";
import { withBit } from "../util/bits.js";
import { describeValue, isPlainObject } from "../util/describe.js";
import { checkBoolean, checkString, rejectUnknownOptions } from "../util/options.js";
import { SCHEDULER_BRAND, SEQUENCE_BRAND } from "./brands.js";
import { type JobContext, RunContext } from "./context.js";
import {
  checkExtras,
  EXTRA_OPTION_NAMES,
  type ExtraJobOptions,
  type JobExtras,
  usesExtras,
} from "./extras.js";
import { CRITICAL, FOREVER, RAISED } from "./job-bits.js";
import { explicitKey, isResumed, setJobKey } from "./journal-marks.js";
import {
  addRequirement,
  addRequirements,
  dropRequirement,
  hasRequirement,
  type RequirementStorage,
  requirementSet,
} from "./requirements.js";
import type { RetryPolicy } from "./retry.js";
import type { Sequence } from "./sequence.js";
import { DONE, IDLE, type LifecycleState, RUNNING, SCHEDULED, SKIPPED } from "./state.js";
import type { TriggerRule } from "./trigger.js";

/**
 * Anything that can stand for requirements: a job, a sequence (standing for
 * its last job), `null`/`undefined` (ignored), or any nesting of iterables of
 * those (arrays, sets, ...). Strings are iterable too, but never requirements:
 * the iterables are objects.
 */
export type Requirement =
  | AbstractJob
  | Sequence
  | null
  | undefined
  | (Iterable<Requirement> & object);

/** Options every job accepts. */
export interface JobOptions extends ExtraJobOptions {
  /** Shown in listings and graphs instead of the class's default label. */
  label?: string;
  /**
   * What identifies the job in a run journal (see `run({ journal })`);
   * defaults to its label. Two jobs of one run may not share a key.
   */
  key?: string;
  /** When true (the default), the job raising an exception stops the whole run. */
  critical?: boolean;
  /** When true, the run does not wait for the job and cancels it once the other jobs are done. */
  forever?: boolean;
  /** Jobs (or sequences) that must be done before this one starts. */
  required?: Requirement;
  /** A scheduler to add the job to at once. */
  scheduler?: PureScheduler | null;
}

/** The option names {@link AbstractJob} reads, for subclasses that validate their options. */
export const JOB_OPTION_NAMES: ReadonlySet<string> = new Set([
  "label",
  "key",
  "critical",
  "forever",
  "required",
  "scheduler",
  ...EXTRA_OPTION_NAMES,
]);

/** Options of {@link AbstractJob.requires}. */
export interface RequiresOptions {
  /** Drop the given requirements instead of adding them; throws if one is absent. */
  remove: boolean;
}

const EMPTY_REQUIREMENTS: ReadonlySet<AbstractJob> = new Set();

/**
 * The options object of a job given none: shared, so that the million-job
 * case allocates nothing for it.
 */
export const NO_OPTIONS: Readonly<JobOptions> = Object.freeze({});

/** How a job is named in error messages: by its label, else its text label. */
export function nameOf(job: AbstractJob): string {
  return `"${resolvedTextLabel(job)}"`;
}

/**
 * Flattens the requirements given to `job.requires()` into `out`, validating
 * every leaf. Throws a TypeError naming the job and the culprit, before
 * anything is applied by the caller.
 */
export function flattenRequirements(
  job: AbstractJob,
  items: Iterable<unknown>,
  out: AbstractJob[],
): void {
  for (const item of items) {
    if (item === null || item === undefined) continue;
    if (item instanceof AbstractJob) {
      out.push(item);
    } else if (isSequence(item)) {
      const last = item.jobs[item.jobs.length - 1];
      if (last) out.push(last);
    } else if (typeof item === "object" && Symbol.iterator in item && !isPlainObject(item)) {
      flattenRequirements(job, item as Iterable<unknown>, out);
    } else {
      // The message is built here only: requires() runs once per edge of a graph.
      throw new TypeError(
        `job ${nameOf(job)}: requires(): expected a job, a Sequence, null or an iterable of those, got ${describeValue(item)}`,
      );
    }
  }
}

/** How errors name a job's constructor: `Job()`, `CommandJob()`... */
function whereOf(kind: abstract new (...args: never[]) => unknown): string {
  return `${kind.name}()`;
}

function isSequence(value: unknown): value is Sequence {
  return typeof value === "object" && value !== null && SEQUENCE_BRAND in value;
}

/**
 * Whether every item is a job. A loop rather than `every()` with a
 * callback: requires([a, b, c]) runs once per job of a graph, mostly before
 * the optimiser inlines the callback.
 */
function allJobs(items: readonly unknown[]): items is AbstractJob[] {
  for (let k = 0; k < items.length; k++) {
    if (!(items[k] instanceof AbstractJob)) return false;
  }
  return true;
}

/**
 * `forever` values set while the job's scheduler runs, by job: the run
 * counts the jobs that are not forever when it starts, so such a change
 * waits for the run to be over (see {@link applyDeferredSettings}). Empty
 * unless somebody changes a running graph, so the getter pays nothing.
 */
const deferredForever = new Map<AbstractJob, boolean>();

/**
 * Applies the `forever` values set on `scheduler`'s jobs during its run,
 * once the run is over.
 *
 * @internal
 */
export function applyDeferredSettings(scheduler: PureScheduler): void {
  if (deferredForever.size === 0) return;
  for (const [job, value] of [...deferredForever]) {
    if (job._owner !== scheduler) continue;
    deferredForever.delete(job);
    job._setForever(value);
  }
}

/** How many standalone runs are under way (a scheduler's run checks for them only when some are). */
export const standaloneRuns = { count: 0 };

/** Whether `job` is in a standalone run at the moment. */
export function inStandaloneRun(job: AbstractJob): boolean {
  return standaloneRuns.count > 0 && job._context !== undefined && job._context._standalone;
}

/** @internal For the engine's hot paths, which read the bits rather than call the accessors. */
export const FOREVER_BIT = FOREVER;
/** @internal See {@link FOREVER_BIT}. */
export const RAISED_BIT = RAISED;

/**
 * The base class of all jobs. Subclasses implement {@link AbstractJob.run};
 * everything else (requirements, lifecycle, results, labels) is here.
 *
 * @typeParam T - what `run` resolves with, returned by {@link AbstractJob.result}.
 */
export abstract class AbstractJob<T = unknown> {
  /** @internal The label (see the `label` accessors). */
  declare _label: string | undefined;

  // Engine state. Kept as plain fields on the job (no side tables) so that a
  // run touches few objects per job, and as few fields as can be: graphs are
  // built by the million, and every word per job shows (bench/NOTES.md).
  // Declared here and set in the constructor, not by initialisers: V8 runs
  // those as a function of their own, a call more per job made.
  /** @internal `critical`, `forever` and whether the outcome was raised, one bit each. */
  declare _bits: number;
  /** @internal The requirements, stored as requirements.ts says. */
  declare _required: RequirementStorage;
  /** @internal */ declare _owner: PureScheduler | undefined;
  /** @internal */ declare _state: LifecycleState;
  /** @internal */ declare _outcome: unknown;
  /** @internal */ declare _context: RunContext | undefined;
  /** @internal Position among its scheduler's members (see engine/members.ts). */
  declare _index: number;
  /** @internal The options beyond the original, if any is used (see extras.ts). */
  declare _extras: JobExtras | undefined;

  constructor(options: JobOptions = NO_OPTIONS) {
    // Every field, in the same order for every job (one shape for all).
    this._label = undefined;
    this._bits = CRITICAL;
    this._required = undefined;
    this._owner = undefined;
    this._state = IDLE;
    this._outcome = undefined;
    this._context = undefined;
    this._index = 0;
    this._extras = undefined;
    // Jobs without options, the most made: nothing to check, no message to prepare.
    if (options === NO_OPTIONS) return;
    // With options (a label, requirements: how most graphs are built), the
    // usual values are taken as they are, and the name of the constructor
    // for a message is only made when a value is wrong.
    const kind = new.target;
    if (!isPlainObject(options)) {
      throw new TypeError(
        `${whereOf(kind)}: options must be a plain object, got ${describeValue(options)}`,
      );
    }
    // Set on this job at once (its errors below name it by its label): a
    // constructor that throws hands nothing back, so only what it does to
    // other objects must wait until every option is checked.
    const label = options.label;
    if (typeof label === "string") this._label = label;
    else if (label !== undefined) this._label = checkString(whereOf(kind), "label", label);
    // Read only when given: jobs with options are built by the million too.
    const key =
      options.key === undefined ? undefined : checkString(whereOf(kind), "key", options.key);
    if (key === "")
      throw new TypeError(`${whereOf(kind)}: option "key" must be a non-empty string`);
    if (options.critical !== undefined || options.forever !== undefined) {
      const critical = checkBoolean(whereOf(kind), "critical", options.critical, true);
      const forever = checkBoolean(whereOf(kind), "forever", options.forever, false);
      this._bits = withBit(withBit(CRITICAL, CRITICAL, critical), FOREVER, forever);
    }
    const scheduler = options.scheduler;
    if (scheduler !== undefined && scheduler !== null && !isScheduler(scheduler)) {
      throw new TypeError(
        `${whereOf(kind)}: option "scheduler" must be a PureScheduler or a Scheduler, got ${describeValue(scheduler)}`,
      );
    }
    const required = options.required;
    if (required !== undefined && required !== null) {
      if (required instanceof AbstractJob) addRequirement(this, required);
      else if (Array.isArray(required) && allJobs(required)) addRequirements(this, required);
      // In an array, so that a plain object is refused rather than read as
      // requires()'s own options and ignored.
      else this.requires([required] as Requirement);
    }
    const extras = usesExtras(options) ? checkExtras(whereOf(kind), options) : undefined;
    // Joining the scheduler comes last, once every option has been checked.
    if (scheduler !== undefined && scheduler !== null) checkCanJoin(scheduler, this);
    this._extras = extras;
    // Kept aside (most jobs have none), so that every job keeps one shape.
    if (key !== undefined) setJobKey(this, key);
    scheduler?.add(this);
  }

  /** Shown in listings and graphs; falls back to `textLabel()`. */
  get label(): string | undefined {
    return this._label;
  }
  /**
   * Sets it: a string, or undefined (or null) for the class's default
   * label; throws a TypeError otherwise, and changes nothing.
   */
  set label(value: string | undefined) {
    this._label = checkString(`job ${nameOf(this)}`, "label", value);
  }

  /** When true, an exception of this job stops the whole run (true by default). */
  get critical(): boolean {
    return (this._bits & CRITICAL) !== 0;
  }
  /** Makes the job critical (or not); takes effect at the next failure. Throws a TypeError unless a boolean. */
  set critical(value: boolean) {
    this._bits = withBit(this._bits, CRITICAL, checkFlag(this, "critical", value));
  }
  /** When true, the run does not wait for this job and cancels it at the end. */
  get forever(): boolean {
    if (deferredForever.size !== 0) {
      const deferred = deferredForever.get(this);
      if (deferred !== undefined) return deferred;
    }
    return (this._bits & FOREVER) !== 0;
  }
  /**
   * Makes the job a forever one (or not); takes effect at the next run:
   * set while its scheduler runs, the getter answers the new value at once,
   * but the run under way goes on with the old one. Throws a TypeError
   * unless a boolean.
   */
  set forever(value: boolean) {
    const flag = checkFlag(this, "forever", value);
    if (this._owner?._busy) {
      deferredForever.set(this, flag);
      return;
    }
    deferredForever.delete(this);
    this._setForever(flag);
  }
  /** @internal Sets the forever bit now (the setter defers it during a run). */
  _setForever(value: boolean): void {
    this._bits = withBit(this._bits, FOREVER, value);
    // A run's layout counts the jobs that are not forever.
    if (this._owner !== undefined) this._owner._graphVersion++;
  }
  /** @internal Whether the job's outcome is an exception. */
  get _raised(): boolean {
    return (this._bits & RAISED) !== 0;
  }
  /** @internal */
  set _raised(value: boolean) {
    this._bits = withBit(this._bits, RAISED, value);
  }

  /** What identifies the job in a run journal (the `key` option), if given; journals fall back on the label. */
  get key(): string | undefined {
    return explicitKey(this);
  }

  /** The retry policy (the `retry` option), if any. */
  get retry(): RetryPolicy | undefined {
    return this._extras?.retry;
  }
  /** The trigger rule (the `trigger` option; `allDone` by default). */
  get trigger(): TriggerRule {
    return this._extras?.trigger ?? "allDone";
  }
  /** How many slots of the window this job takes (the `weight` option; 1 by default). */
  get weight(): number {
    return this._extras?.weight ?? 1;
  }
  /** The named pool this job counts against (the `pool` option), if any. */
  get pool(): string | undefined {
    return this._extras?.pool;
  }

  /**
   * What the job does. The scheduler calls it with a context holding the
   * job's abort signal; the value it resolves with is the job's result.
   */
  abstract run(context: JobContext): Promise<T>;

  /**
   * Called once by the scheduler when its run ends, for light housekeeping.
   * The default does nothing. Schedulers answer whether every shutdown
   * completed in time.
   */
  async shutdown(): Promise<unknown> {
    return undefined;
  }

  /**
   * How the engine starts the job: `run(context)` unless a subclass can do
   * it cheaper (Job calls its function directly). May return a plain value
   * or throw synchronously; the engine handles both.
   *
   * @internal
   */
  _invoke(context: RunContext): unknown {
    return this.run(context);
  }

  /**
   * Whether `shutdown()` does something worth calling; the engine skips the
   * default no-op, which matters with a million jobs.
   *
   * @internal
   */
  _hasShutdown(): boolean {
    return this.shutdown !== AbstractJob.prototype.shutdown;
  }

  /** The jobs this one requires. */
  get required(): ReadonlySet<AbstractJob> {
    return this._required === undefined ? EMPTY_REQUIREMENTS : requirementSet(this);
  }

  /**
   * Drops one requirement, if present (for `sanitize()`).
   *
   * @internal
   */
  _dropRequirement(requirement: AbstractJob): void {
    dropRequirement(this, requirement);
  }

  /**
   * Adds requirements: jobs, sequences (their last job), nested arrays or
   * sets of those; `null`/`undefined` are ignored and a job never requires
   * itself. Ends with `{ remove: true }` to drop them instead (throws if one
   * was not there). Either all are applied or, on error, none.
   */
  requires(...requirements: (Requirement | RequiresOptions)[]): this {
    // The common calls, b.requires(a) and b.requires([a, ...]), go straight in.
    const only = requirements.length === 1 ? requirements[0] : undefined;
    if (only instanceof AbstractJob) {
      addRequirement(this, only);
      return this;
    }
    if (Array.isArray(only) && allJobs(only)) {
      addRequirements(this, only);
      return this;
    }
    let remove = false;
    let items: unknown[] = requirements;
    const last = requirements[requirements.length - 1];
    if (isPlainObject(last)) {
      rejectUnknownOptions(`${nameOf(this)}.requires()`, last, new Set(["remove"]));
      remove = checkBoolean(`${nameOf(this)}.requires()`, "remove", last.remove, false);
      items = requirements.slice(0, -1);
    }
    const jobs: AbstractJob[] = [];
    flattenRequirements(this, items, jobs);
    if (remove) {
      for (const job of jobs) {
        if (job !== this && !hasRequirement(this, job)) {
          throw new Error(
            `job ${nameOf(this)}: cannot remove requirement ${nameOf(job)}, which it does not require`,
          );
        }
      }
      for (const job of jobs) this._dropRequirement(job);
    } else {
      addRequirements(this, jobs);
    }
    return this;
  }

  /** Not yet scheduled: some requirement is not done, or the run has not started. */
  isIdle(): boolean {
    return this._state === IDLE;
  }
  /** Requirements met; waiting for a slot in the window, or further along. */
  isScheduled(): boolean {
    return this._state >= SCHEDULED;
  }
  /** Started (and maybe done). */
  isRunning(): boolean {
    return this._state >= RUNNING;
  }
  /** Finished, by returning or by raising; false for a cancelled job. */
  isDone(): boolean {
    return this._state === DONE;
  }
  /** Whether an exception of this job stops the run. */
  isCritical(): boolean {
    return this.critical;
  }
  /** True once the scheduler has cancelled this job (its signal is aborted). */
  isCancelled(): boolean {
    return this._context?._cancelled === true && this._state !== DONE;
  }

  /** True when the job's trigger rule was not met by its requirements: it did not run. */
  isSkipped(): boolean {
    return this._state === SKIPPED;
  }

  /**
   * True when the last run of its scheduler, resuming from a journal, kept
   * this job's recorded result instead of running it again.
   */
  isResumed(): boolean {
    return isResumed(this);
  }

  /** How many attempts the job made in its last run (more than 1 after retries). */
  attempts(): number {
    // A run lets go of a done job's context after a single attempt.
    return this._context?._attempt ?? (this._state === DONE ? 1 : 0);
  }

  /** What the job threw, if it is done and raised; `undefined` otherwise. */
  raisedException(): unknown {
    return this._state === DONE && this._raised ? this._outcome : undefined;
  }

  /**
   * The value the job resolved with. Throws if the job is not done, and
   * rethrows the job's own exception if it raised.
   */
  result(): T {
    if (this._state !== DONE) {
      throw new Error(`job ${nameOf(this)} is not done: it has no result yet`);
    }
    if (this._raised) throw this._outcome;
    return this._outcome as T;
  }

  /** A one-line description for listings; subclasses override it. */
  textLabel(): string | undefined {
    return undefined;
  }

  /** A description for graphs (may hold newlines); defaults to the text label. */
  graphLabel(): string | undefined {
    return undefined;
  }

  /**
   * What defines what this job does, as JSON-like data, for the fingerprint
   * a run journal compares to tell whether a job changed since the last
   * run. The default (undefined) leaves only the class, key, retry and
   * timeout; `Job` gives its function's source text, `CommandJob` its
   * command, shell, cwd and env. Subclasses override it.
   */
  definition(): unknown {
    return undefined;
  }

  /** Extra lines shown by `list({ details: true })`; none by default. */
  details(): string | undefined {
    return undefined;
  }

  /** DOT attributes of this job's box: rounded, red and thick if critical, dashed if forever. */
  dotStyle(): Record<string, string | number> {
    const style: Record<string, string | number> = {
      shape: "box",
      style: this.forever ? "rounded,dashed" : "rounded",
    };
    if (this.critical) {
      style.color = "red";
      style.penwidth = 2;
    } else {
      // A thin border, as in the original, so that critical ones stand out.
      style.penwidth = 0.5;
    }
    return style;
  }

  /** The id the listing gives this job inside its scheduler, `??` before one is set. */
  reprId(): string {
    return idOf(this) ?? "??";
  }
  /** The 7-character status badge (critical, outcome, lifecycle, forever). */
  reprShort(): string {
    return reprShort(this);
  }
  /** `<ClassName \`label\`>` */
  reprMain(): string {
    return reprMain(this);
  }
  /** `[not done]`, `[[ -> value]]`, or the exception the job raised. */
  reprResult(): string {
    return reprResult(this);
  }
  /** `requires={01, 02}`, or an empty string. */
  reprRequires(): string {
    return reprRequires(this);
  }
  /** The label used in graphs: `graphLabel()`, else `<id>: <text label>`. */
  resolvedGraphLabel(): string {
    return resolvedGraphLabel(this);
  }

  /** `reprShort reprMain reprResult reprRequires`, as a listing line shows it. */
  toString(): string {
    const requires = this.reprRequires();
    return `${this.reprShort()} ${this.reprMain()} ${this.reprResult()}${requires ? ` ${requires}` : ""}`;
  }

  /** For `console.log` in Node: the same text as `toString()`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /**
   * Runs this one job on its own, outside any scheduler run, updating its
   * lifecycle and result as a run would. Resolves with its result or rejects
   * with its exception.
   */
  async standaloneRun(): Promise<T> {
    // Two runs of one job at once would share its state and result: the
    // job would run twice, and only one of the runs could be cancelled.
    if (this._owner?._busy) {
      throw new Error(
        `job ${nameOf(this)}: standaloneRun(): its scheduler ${describeOwner(this._owner)} is running; wait for its run to settle`,
      );
    }
    if (inStandaloneRun(this)) {
      throw new Error(
        `job ${nameOf(this)}: standaloneRun(): the job is already in a standalone run; wait for it to settle`,
      );
    }
    const context = new RunContext(this);
    context._standalone = true;
    // Its scheduler's next run must put it back to idle first.
    if (this._owner !== undefined) this._owner._jobsFresh = false;
    this._context = context;
    this._state = RUNNING;
    this._raised = false;
    this._outcome = undefined;
    standaloneRuns.count++;
    try {
      const value = (await this._invoke(context)) as T;
      this._outcome = value;
      return value;
    } catch (error) {
      this._raised = true;
      this._outcome = error;
      throw error;
    } finally {
      this._state = DONE;
      context._standalone = false;
      standaloneRuns.count--;
    }
  }
}

/** Checks a boolean given to a job's setter, naming the job and the option. */
function checkFlag(job: AbstractJob, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(
      `job ${nameOf(job)}: option "${name}" must be a boolean, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** A scheduler's name, as describeScheduler() gives it (not imported: no runtime cycle). */
function describeOwner(scheduler: PureScheduler): string {
  const label = (scheduler as { label?: string }).label;
  return label === undefined ? `with ${scheduler._members.size} job(s)` : `"${label}"`;
}

/**
 * What `scheduler.add(job)` would refuse, checked before the job's
 * constructor sets anything (the engine's own check runs again in add()).
 */
function checkCanJoin(scheduler: PureScheduler, job: AbstractJob): void {
  if (scheduler._busy) {
    throw new Error(
      `scheduler ${describeOwner(scheduler)}: cannot add job ${nameOf(job)} while the scheduler runs`,
    );
  }
}

/** Whether `value` is a PureScheduler or a Scheduler (both carry the brand). */
export function isScheduler(value: unknown): value is PureScheduler {
  return typeof value === "object" && value !== null && SCHEDULER_BRAND in value;
}

export { DONE, IDLE, RUNNING, SCHEDULED };
