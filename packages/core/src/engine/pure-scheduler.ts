/**
 * PureScheduler: a set of jobs whose requirements form a DAG, and the
 * methods to run, inspect and reshape it. The run loop itself lives in
 * orchestration.ts, graph walks in graph.ts, text and pictures in
 * presentation/.
 */
import {
  type AbstractJob,
  AbstractJob as AbstractJobClass,
  isScheduler,
  nameOf,
} from "../jobs/abstract-job.js";
import { SCHEDULER_BRAND, SEQUENCE_BRAND } from "../jobs/brands.js";
import { RunContext } from "../jobs/context.js";
import { clearResumedMarks } from "../jobs/journal-marks.js";
import { requirementsOf } from "../jobs/requirements.js";
import type { Sequence } from "../jobs/sequence.js";
import { DONE, IDLE, RUNNING } from "../jobs/state.js";
import { type DotFormatOptions, dotFormat } from "../presentation/dot.js";
import { SchedulerGraph } from "../presentation/graph.js";
import { graphRenderer, writeGraphFile } from "../presentation/graphics.js";
import { debrief, list, listSafe } from "../presentation/listing.js";
import { mermaidFormat } from "../presentation/mermaid.js";
import { type RunTrace, recordTrace } from "../presentation/trace.js";
import { attachVerbose } from "../presentation/verbose.js";
import { describeValue, isPlainObject } from "../util/describe.js";
import { TimeoutError } from "../util/errors.js";
import {
  checkBoolean,
  checkDuration,
  checkOptions,
  checkWindow,
  rejectUnknownOptions,
  splitTrailingOptions,
} from "../util/options.js";
import { writeOut } from "../util/output.js";
import { Watch } from "../util/watch.js";
import { SchedulerEvents } from "./events.js";
import {
  checkCycles,
  closure,
  describeScheduler,
  internalRequirements,
  successorsMap,
  topologicalOrder,
} from "./graph.js";
import { checkJournal, type RunJournal, runJournaled } from "./journal.js";
import { Members } from "./members.js";
import { orchestrate, type PreparedGraph } from "./orchestration.js";
import { checkPools, type PoolState } from "./pools.js";
import { shutdownJobs } from "./shutdown.js";

/** Options of schedulers. Durations are in milliseconds. */
export interface SchedulerOptions {
  /**
   * How many jobs may run at once; 0, null or undefined: no limit. Without
   * a limit, ready jobs still start in bursts of about a thousand, one
   * microtask apart (all before any timer or I/O callback), so that jobs
   * ending at once do not all stay alive together.
   */
  jobsWindow?: number | null;
  /** Milliseconds for the whole run; null or undefined: none. */
  timeout?: number | null;
  /** Milliseconds for the shutdown phase; default 1000, null: none. */
  shutdownTimeout?: number | null;
  /** Verbose lines show times relative to this watch (else the wall clock). */
  watch?: Watch | null;
  /** Print a line for each event of the run. */
  verbose?: boolean;
  /**
   * Named pools and their limits: a job with `pool: "db"` runs only while
   * the jobs of pool `db` hold fewer than `pools.db` slots, across this
   * scheduler and every scheduler nested in it.
   */
  pools?: Readonly<Record<string, number>> | null;
  /** Record a trace of each run, read afterwards with `trace()`. */
  trace?: boolean;
}

/** Options of `run()`. */
export interface RunOptions {
  /** Aborting it cancels the running jobs and ends the run at once. */
  signal?: AbortSignal;
  /**
   * Record the run in this journal (see docs/journal.md): each job's start
   * and end, its result, the run's end. Every job needs a key (its `key`
   * option, else its label), one per job.
   */
  journal?: RunJournal;
  /**
   * With `journal`: jobs that succeeded in the journal's last run, with the
   * same fingerprint (definition and requirements unchanged), are not run
   * again and keep their recorded results. Forever jobs always run.
   */
  resume?: boolean;
}

/** How the last run ended (or that there was none yet). */
export type RunStatus = "never" | "running" | "fine" | "timeout" | "critical" | "aborted";

/** The option names schedulers read. */
export const SCHEDULER_OPTION_NAMES: ReadonlySet<string> = new Set([
  "jobsWindow",
  "timeout",
  "shutdownTimeout",
  "watch",
  "verbose",
  "pools",
  "trace",
]);

/** Anything a scheduler accepts as a member: a job, or a sequence (its jobs). */
export type Schedulable = AbstractJob | Sequence;

/**
 * Sets up the scheduler half of an object (a PureScheduler, or a Scheduler
 * that is also a job), validating its options.
 *
 * @internal
 */
export function initSchedulerState(
  target: PureScheduler,
  options: SchedulerOptions,
  where: string,
): void {
  const state = target as unknown as Record<string | symbol, unknown>;
  state[SCHEDULER_BRAND] = true;
  state._members = new Members();
  state._window = checkWindow(where, options.jobsWindow);
  state._timeout = checkDuration(where, "timeout", options.timeout);
  state._shutdownTimeout =
    options.shutdownTimeout === undefined
      ? 1000
      : checkDuration(where, "shutdownTimeout", options.shutdownTimeout);
  state._watch = checkWatch(where, options.watch);
  state._verbose = checkBoolean(where, "verbose", options.verbose, false);
  state._status = "never";
  state._culprit = undefined;
  state._abortReason = undefined;
  state._timeoutUsed = null;
  state._shutdownAnswer = undefined;
  state._busy = false;
  state._graphVersion = 0;
  state._prepared = undefined;
  state._jobsFresh = true;
  state._events = undefined;
  state._pools = checkPools(where, options.pools);
  state._activePools = undefined;
  state._tracing = checkBoolean(where, "trace", options.trace, false);
  state._lastTrace = undefined;
  state._onListenerError = undefined;
}

function checkWatch(where: string, value: unknown): Watch | undefined {
  if (value === undefined || value === null) return undefined;
  if (!(value instanceof Watch)) {
    throw new TypeError(`${where}: option "watch" must be a Watch, got ${describeValue(value)}`);
  }
  return value;
}

function isSequence(value: unknown): value is Sequence {
  return typeof value === "object" && value !== null && SEQUENCE_BRAND in value;
}

/**
 * A set of jobs whose `requires` relationships form a directed acyclic
 * graph, run so that each job starts once its requirements are done.
 *
 * `PureScheduler` is not a job; {@link Scheduler} is both a scheduler and a
 * job, and is what most code should use.
 *
 * @example
 * ```ts
 * const a = new Job(async () => 1, { label: "a" });
 * const b = new Job(async () => 2, { label: "b", required: a });
 * const ok = await new PureScheduler(a, b, { jobsWindow: 4 }).run();
 * ```
 */
export class PureScheduler implements Iterable<AbstractJob> {
  /** @internal */ declare [SCHEDULER_BRAND]: true;
  /** @internal */ declare _members: Members;
  /** @internal */ declare _window: number | null;
  /** @internal */ declare _timeout: number | null;
  /** @internal */ declare _shutdownTimeout: number | null;
  /** @internal */ declare _watch: Watch | undefined;
  /** @internal */ declare _verbose: boolean;
  /** @internal */ declare _status: RunStatus;
  /** @internal */ declare _culprit: AbstractJob | undefined;
  /** @internal */ declare _abortReason: unknown;
  /** @internal */ declare _timeoutUsed: number | null;
  /** @internal */ declare _shutdownAnswer: Promise<boolean> | undefined;
  /** @internal */ declare _busy: boolean;
  /**
   * @internal The scheduler this one is a job of: set on a nested Scheduler
   * (it is a job's field), never on a PureScheduler, where it reads undefined.
   */
  declare _owner: PureScheduler | undefined;
  /** @internal Bumped by every change of the graph (members, requirements), so that a kept layout can tell it is stale. */
  declare _graphVersion: number;
  /** @internal The layout an enclosing scheduler made when it validated this one, for this one's next run. */
  declare _prepared: PreparedGraph | undefined;
  /**
   * @internal Whether no job of this scheduler has run since it joined, nor
   * before: then a run need not put them back to idle first (at a million
   * jobs, a walk over them costs milliseconds).
   */
  declare _jobsFresh: boolean;
  /** @internal */ declare _events: SchedulerEvents | undefined;
  /** @internal The pools this scheduler declares (option `pools`). */
  declare _pools: Readonly<Record<string, number>> | undefined;
  /** @internal Those pools' state while this scheduler runs. */
  declare _activePools: Map<string, PoolState> | undefined;
  /** @internal */ declare _tracing: boolean;
  /** @internal */ declare _lastTrace: RunTrace | undefined;
  /** @internal Told of an error an event listener threw while this scheduler's run dispatched an event. */
  declare _onListenerError: ((error: unknown) => void) | undefined;

  /**
   * `instanceof PureScheduler` holds for every scheduler, including
   * `Scheduler`, whose prototype chain goes through AbstractJob instead.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class on the right of instanceof: subclasses keep the usual check.
    // biome-ignore lint/complexity/noThisInStatic: see above.
    if (this === PureScheduler) return isScheduler(value);
    // biome-ignore lint/complexity/noThisInStatic: see above.
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  constructor(...jobsThenOptions: [...Schedulable[], SchedulerOptions] | Schedulable[]) {
    const { items, options } = splitTrailingOptions<SchedulerOptions>(jobsThenOptions);
    rejectUnknownOptions("PureScheduler()", options, SCHEDULER_OPTION_NAMES);
    initSchedulerState(this, options, "PureScheduler()");
    this.update(items as Schedulable[]);
  }

  /** How many jobs may run at once; 0 or null for no limit. */
  get jobsWindow(): number | null {
    return this._window;
  }
  /** Sets it: an integer >= 0, or null (undefined and 0 mean no limit too); throws otherwise. */
  set jobsWindow(value: number | null | undefined) {
    this._window = checkWindow(whereOf(this), value);
  }
  /** Milliseconds for the whole run, or null for none. */
  get timeout(): number | null {
    return this._timeout;
  }
  /** Sets it: milliseconds >= 0, or null (or undefined) for none; throws otherwise. */
  set timeout(value: number | null | undefined) {
    this._timeout = checkDuration(whereOf(this), "timeout", value);
  }
  /** Milliseconds for the shutdown phase, or null for none. */
  get shutdownTimeout(): number | null {
    return this._shutdownTimeout;
  }
  /** Sets it: milliseconds >= 0, or null (or undefined) for none; throws otherwise. */
  set shutdownTimeout(value: number | null | undefined) {
    this._shutdownTimeout = checkDuration(whereOf(this), "shutdownTimeout", value);
  }
  /** Verbose lines show times relative to this watch. */
  get watch(): Watch | undefined {
    return this._watch;
  }
  /** Sets it: a {@link Watch}, or null (or undefined) for the wall clock; throws otherwise. */
  set watch(value: Watch | null | undefined) {
    this._watch = checkWatch(whereOf(this), value);
  }
  /** Whether runs print a line per event. */
  get verbose(): boolean {
    return this._verbose;
  }
  /** Sets it: a boolean; throws otherwise. */
  set verbose(value: boolean) {
    this._verbose = checkBoolean(whereOf(this), "verbose", value, false);
  }

  /** Whether runs record a trace (the `trace` option); settable between runs. */
  get tracing(): boolean {
    return this._tracing;
  }
  /** Sets it: a boolean; throws otherwise. */
  set tracing(value: boolean) {
    this._tracing = checkBoolean(whereOf(this), "tracing", value, false);
  }

  /** The pools this scheduler declares (the `pools` option), if any. */
  get pools(): Readonly<Record<string, number>> | undefined {
    return this._pools;
  }

  /**
   * The trace of the last run: every job's start, end, attempts and outcome,
   * exportable with `toChromeTrace()` and `exportOpenTelemetry()`. Needs the
   * `trace: true` option (or `tracing = true`) before the run.
   */
  trace(): RunTrace {
    if (this._lastTrace === undefined) {
      throw new Error(
        `${whereOf(this)}: trace(): no run was traced; create the scheduler with { trace: true } ` +
          "(or set scheduler.tracing = true) before run()",
      );
    }
    return this._lastTrace;
  }

  /** The jobs of this scheduler (not those of nested schedulers). */
  get jobs(): ReadonlySet<AbstractJob> {
    return this._members;
  }
  /** How many jobs this scheduler holds (nested ones count as one). */
  get size(): number {
    return this._members.size;
  }
  /** Iterates over {@link PureScheduler.jobs}: `for (const job of scheduler)`. */
  [Symbol.iterator](): Iterator<AbstractJob> {
    return this._members[Symbol.iterator]();
  }

  /**
   * The typed event target of this scheduler: listen to `job:started`,
   * `job:done`, `scheduler:ended` and the others. Events of nested
   * schedulers reach the enclosing schedulers' listeners too.
   */
  get events(): SchedulerEvents {
    if (this._events === undefined) this._events = new SchedulerEvents();
    return this._events;
  }

  /** Adds a job, or every job of a sequence. Returns the scheduler. */
  add(job: Schedulable): this {
    // One job at a time is how big graphs get built: no array, no message.
    if (job instanceof AbstractJobClass) {
      checkCanAdd(this, job);
      this._members.add(job);
      job._owner = this;
      noteArrival(this, job);
      this._graphVersion++;
      return this;
    }
    return this.update([job]);
  }

  /** Adds several jobs or sequences; either all are added or, on error, none. */
  update(jobs: Iterable<Schedulable>): this {
    if (jobs === null || typeof jobs !== "object" || !(Symbol.iterator in jobs)) {
      throw new TypeError(
        `${whereOf(this)}.update(): expected an iterable of jobs, got ${describeValue(jobs)}`,
      );
    }
    // An array of jobs, how big graphs are added at once: no copy, no iterator.
    if (Array.isArray(jobs) && addAllJobs(this, jobs)) return this;
    const toAdd: AbstractJob[] = [];
    let index = 0;
    for (const item of jobs as Iterable<unknown>) {
      index++;
      if (item instanceof AbstractJobClass) toAdd.push(item);
      else if (isSequence(item)) toAdd.push(...item.jobs);
      else {
        throw new TypeError(
          `${whereOf(this)}.add(): item ${index} must be a job or a Sequence, got ${describeValue(item)}`,
        );
      }
    }
    for (const job of toAdd) checkCanAdd(this, job);
    for (const job of toAdd) {
      this._members.add(job);
      job._owner = this;
      noteArrival(this, job);
    }
    this._graphVersion++;
    return this;
  }

  /** Removes a job; throws if it is not in this scheduler. */
  remove(job: AbstractJob): this {
    if (!(job instanceof AbstractJobClass)) {
      throw new TypeError(`${whereOf(this)}.remove(): expected a job, got ${describeValue(job)}`);
    }
    if (!this._members.has(job)) {
      throw new Error(`${whereOf(this)}.remove(): job ${nameOf(job)} is not in this scheduler`);
    }
    if (this._busy) {
      throw new Error(
        `${whereOf(this)}: cannot remove job ${nameOf(job)} while the scheduler runs`,
      );
    }
    this._members.delete(job);
    job._owner = undefined;
    this._graphVersion++;
    return this;
  }

  /**
   * Runs the jobs, each once its requirements are done, within the window
   * and the timeout, then shuts them down. Resolves true when every
   * non-forever job is done, no critical job raised and the timeout did not
   * expire; false otherwise. Rejects before starting anything on a cycle, a
   * requirement outside the scheduler, or when it is already running.
   */
  async run(options: RunOptions = {}): Promise<boolean> {
    return runScheduler(this, options);
  }

  /** An alias of {@link PureScheduler.run}. */
  orchestrate(options: RunOptions = {}): Promise<boolean> {
    return this.run(options);
  }

  /**
   * Calls each job's `shutdown()` once, all at once, for at most
   * `shutdownTimeout`. A run does this by itself when it ends; calling it
   * again does nothing more and answers the same. Resolves true when every
   * shutdown completed in time without throwing.
   */
  shutdown(): Promise<boolean> {
    // The run shuts its jobs down when it ends: doing it now as well would
    // call each job's shutdown() twice, and while the job may still run.
    if (this._status === "running") {
      return Promise.reject(
        new Error(
          `${whereOf(this)}: shutdown(): the scheduler is running, and shuts its jobs down itself when its run ends`,
        ),
      );
    }
    if (this._shutdownAnswer === undefined) {
      this._shutdownAnswer = shutdownJobs(this._members, this.shutdownTimeout);
    }
    return this._shutdownAnswer;
  }

  /** True if the last run failed because a critical job raised an exception. */
  failedCritical(): boolean {
    return this._status === "critical";
  }

  /** True if the last run failed because its timeout expired. */
  failedTimeOut(): boolean {
    return this._status === "timeout";
  }

  /** Why the last run failed, or `FINE`. */
  why(): string {
    switch (this._status) {
      case "timeout":
        return `TIMED OUT after ${this._timeoutUsed} ms`;
      case "critical":
        return "a CRITICAL job has raised an exception";
      case "aborted":
        return `ABORTED: ${abortText(this._abortReason)}`;
      default:
        return "FINE";
    }
  }

  /**
   * `2D + 3R + 4I = 9`: done, running (not done), and the rest; after a run
   * that cancelled jobs, `+ 1C` counts them apart from the running ones.
   */
  stats(): string {
    const { done, ongoing, idle, cancelled } = countStates(this);
    const more = cancelled > 0 ? ` + ${cancelled}C` : "";
    return `${done}D + ${ongoing}R + ${idle}I${more} = ${this._members.size}`;
  }

  /**
   * `PureScheduler with 2 done + 3 ongoing + 4 idle = 9 job(s)`, named after
   * the object's own class (`Scheduler`, or a subclass's name); after a run
   * that cancelled jobs, `+ 1 cancelled` counts them apart from the ongoing.
   */
  toString(): string {
    const { done, ongoing, idle, cancelled } = countStates(this);
    const more = cancelled > 0 ? ` + ${cancelled} cancelled` : "";
    return `${this.constructor.name} with ${done} done + ${ongoing} ongoing + ${idle} idle${more} = ${this._members.size} job(s)`;
  }

  /** For `console.log` in Node. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** True if the graph, and that of every nested scheduler, has no cycle and can start. */
  checkCycles(): boolean {
    return checkCycles(this);
  }

  /**
   * Drops every requirement that points outside this scheduler, here and in
   * nested schedulers. Returns true if nothing had to be dropped. With
   * `verbose`, prints each dropped requirement.
   */
  sanitize(options?: { verbose?: boolean }): boolean {
    const given = checkOptions<{ verbose?: boolean }>("sanitize()", options, VERBOSE_OPTION);
    const verbose = checkBoolean("sanitize()", "verbose", given.verbose, this.verbose);
    let fine = true;
    // This scheduler, then the nested ones, with a stack of its own rather
    // than recursion: nesting may be deep.
    const stack: PureScheduler[] = [this];
    while (stack.length > 0) {
      const scheduler = stack.pop()!;
      for (const job of scheduler._members) {
        if (job._required !== undefined) {
          for (const requirement of [...requirementsOf(job)]) {
            if (requirement._owner !== scheduler) {
              job._dropRequirement(requirement);
              fine = false;
              if (verbose) {
                writeOut(
                  `WARNING: job ${nameOf(job)} in scheduler ${describeScheduler(scheduler)} ` +
                    `dropped requirement ${nameOf(requirement)}, which is outside it\n`,
                );
              }
            }
          }
        }
        if (isScheduler(job)) stack.push(job);
      }
    }
    return fine;
  }

  /** The jobs in an order that respects requirements; throws naming a cycle if there is one. */
  topologicalOrder(): Iterable<AbstractJob> {
    return topologicalOrder(this);
  }

  /** The jobs that require nothing. */
  *entryJobs(): Iterable<AbstractJob> {
    for (const job of this._members) {
      if (job.required.size === 0) yield job;
    }
  }

  /**
   * The jobs no other job of this scheduler requires. Forever jobs are left
   * out unless `discardForever` is false. (`computeBacklinks` is accepted
   * for compatibility; links are always computed.)
   */
  *exitJobs(options?: {
    discardForever?: boolean;
    computeBacklinks?: boolean;
  }): Iterable<AbstractJob> {
    const given = checkOptions<{ discardForever?: boolean; computeBacklinks?: boolean }>(
      "exitJobs()",
      options,
      EXIT_JOBS_OPTIONS,
    );
    const discardForever = checkBoolean("exitJobs()", "discardForever", given.discardForever, true);
    checkBoolean("exitJobs()", "computeBacklinks", given.computeBacklinks, true);
    const successors = successorsMap(this);
    for (const job of this._members) {
      if (discardForever && job.forever) continue;
      if (successors.get(job)?.length === 0) yield job;
    }
  }

  /**
   * Every job, nested ones included (depth first). With `scanSchedulers`,
   * the schedulers are yielded too, each before its jobs: the nested ones,
   * and this one first when it is itself a job (a {@link Scheduler}; a
   * PureScheduler is not a job, so it does not appear).
   */
  *iterateJobs(options?: { scanSchedulers?: boolean }): Iterable<AbstractJob> {
    const given = checkOptions<{ scanSchedulers?: boolean }>(
      "iterateJobs()",
      options,
      ITERATE_JOBS_OPTIONS,
    );
    const scanSchedulers = checkBoolean(
      "iterateJobs()",
      "scanSchedulers",
      given.scanSchedulers,
      false,
    );
    if (scanSchedulers && this instanceof AbstractJobClass) yield this;
    // Depth first, with a stack of its own rather than nested generators:
    // nesting may be deep, and each level of yield* would cost every item.
    const stack: Iterator<AbstractJob>[] = [this._members[Symbol.iterator]()];
    while (stack.length > 0) {
      const step = stack[stack.length - 1]!.next();
      if (step.done) {
        stack.pop();
        continue;
      }
      const job = step.value;
      if (isScheduler(job)) {
        if (scanSchedulers) yield job;
        stack.push(job._members[Symbol.iterator]());
      } else {
        yield job;
      }
    }
  }

  /** The jobs of this scheduler that the given jobs directly require. */
  predecessors(...jobs: AbstractJob[]): Set<AbstractJob> {
    checkMembers(this, "predecessors()", jobs);
    const found = new Set<AbstractJob>();
    for (const job of jobs)
      for (const required of internalRequirements(job, this)) found.add(required);
    return found;
  }

  /** The jobs of this scheduler that directly require one of the given jobs. */
  successors(...jobs: AbstractJob[]): Set<AbstractJob> {
    checkMembers(this, "successors()", jobs);
    const map = successorsMap(this);
    const found = new Set<AbstractJob>();
    for (const job of jobs) for (const next of map.get(job) ?? []) found.add(next);
    return found;
  }

  /** Every job the given jobs require, directly or not. */
  predecessorsUpstream(...jobs: AbstractJob[]): Set<AbstractJob> {
    checkMembers(this, "predecessorsUpstream()", jobs);
    return closure(jobs, (job) => internalRequirements(job, this));
  }

  /** Every job that requires one of the given jobs, directly or not. */
  successorsDownstream(...jobs: AbstractJob[]): Set<AbstractJob> {
    checkMembers(this, "successorsDownstream()", jobs);
    const map = successorsMap(this);
    return closure(jobs, (job) => map.get(job) ?? []);
  }

  /**
   * Removes `job`, first making each job that required it require its
   * requirements instead, so that the order around it is kept.
   */
  bypassAndRemove(job: AbstractJob): void {
    checkMembers(this, "bypassAndRemove()", [job]);
    // Refused before any requirement is rewired, not half-way through.
    if (this._busy) {
      throw new Error(
        `${whereOf(this)}: cannot remove job ${nameOf(job)} while the scheduler runs`,
      );
    }
    const upstream = [...internalRequirements(job, this)];
    for (const next of this.successors(job)) {
      next.requires(job, { remove: true });
      next.requires(upstream);
    }
    this.remove(job);
  }

  /**
   * Keeps only the given jobs, then drops requirements on the removed ones.
   * Given jobs that are not in this scheduler are ignored, as in the
   * original.
   */
  keepOnly(jobs: Iterable<AbstractJob>): void {
    // Checked first: a wrong argument would otherwise empty the scheduler.
    const keep = new Set(iterableOfJobs("keepOnly()", "jobs", jobs));
    const leaving = this._busy ? [...this._members].find((job) => !keep.has(job)) : undefined;
    if (leaving !== undefined) {
      throw new Error(
        `${whereOf(this)}: cannot remove job ${nameOf(leaving)} while the scheduler runs`,
      );
    }
    // In one pass: removing jobs one by one would shift the rest each time.
    const removed = this._members.retain((job) => keep.has(job));
    for (const job of removed) job._owner = undefined;
    if (removed.length > 0) this._graphVersion++;
    this.sanitize({ verbose: false });
  }

  /**
   * Keeps only the jobs downstream of `starts` and upstream of `ends` (either
   * bound may be omitted), with the bounds themselves kept unless
   * `keepStarts` / `keepEnds` is false.
   */
  keepOnlyBetween(options: {
    starts?: Iterable<AbstractJob>;
    ends?: Iterable<AbstractJob>;
    keepStarts?: boolean;
    keepEnds?: boolean;
  }): void {
    if (!isPlainObject(options)) {
      throw new TypeError(
        `keepOnlyBetween(): expected an options object, got ${describeValue(options)}`,
      );
    }
    rejectUnknownOptions("keepOnlyBetween()", options, KEEP_ONLY_BETWEEN_OPTIONS);
    const keepStarts = checkBoolean("keepOnlyBetween()", "keepStarts", options.keepStarts, true);
    const keepEnds = checkBoolean("keepOnlyBetween()", "keepEnds", options.keepEnds, true);
    const starts =
      options.starts === undefined || options.starts === null
        ? undefined
        : iterableOfJobs("keepOnlyBetween()", "starts", options.starts);
    const ends =
      options.ends === undefined || options.ends === null
        ? undefined
        : iterableOfJobs("keepOnlyBetween()", "ends", options.ends);
    if (starts) checkMembers(this, "keepOnlyBetween()", starts);
    if (ends) checkMembers(this, "keepOnlyBetween()", ends);
    let keep = new Set(this._members);
    if (starts) {
      const downstream = this.successorsDownstream(...starts);
      for (const start of starts) downstream.add(start);
      keep = new Set([...keep].filter((job) => downstream.has(job)));
    }
    if (ends) {
      const upstream = this.predecessorsUpstream(...ends);
      for (const end of ends) upstream.add(end);
      keep = new Set([...keep].filter((job) => upstream.has(job)));
    }
    if (starts && !keepStarts) for (const start of starts) keep.delete(start);
    if (ends && !keepEnds) for (const end of ends) keep.delete(end);
    this.keepOnly(keep);
  }

  /** Prints the jobs in topological order with their status, and returns the text. */
  list(options?: { details?: boolean }): string {
    return list(this, checkOptions("list()", options, DETAILS_OPTION));
  }

  /** Prints the jobs in no particular order (works on a graph with cycles), and returns the text. */
  listSafe(): string {
    return listSafe(this);
  }

  /** Prints why the run failed, the listing, counts and every exception; returns the text. */
  debrief(options?: { details?: boolean }): string {
    return debrief(this, checkOptions("debrief()", options, DETAILS_OPTION));
  }

  /** The graph in DOT format: `digraph asynciojobs{...}`. */
  dotFormat(options: DotFormatOptions = {}): string {
    if (!isPlainObject(options)) {
      throw new TypeError(
        `dotFormat(): options must be a plain object, got ${describeValue(options)}`,
      );
    }
    return dotFormat(this, options);
  }

  /** The graph as a Mermaid flowchart (for a ```` ```mermaid ```` block in Markdown). */
  mermaidFormat(options: DotFormatOptions = {}): string {
    return mermaidFormat(this, options);
  }

  /** Writes `dotFormat()` to `filename`; resolves with `(Over)wrote <filename>`. Needs `@asyncjobs/render`. */
  async exportAsDotfile(filename: string): Promise<string> {
    checkFilename("exportAsDotfile()", filename);
    const dot = this.dotFormat();
    const renderer = await graphRenderer("exportAsDotfile()");
    await writeGraphFile(renderer, filename, dot);
    return `(Over)wrote ${filename}`;
  }

  /** Renders the graph to `<filename>.<suffix>` without a system Graphviz; resolves with the file name. Needs `@asyncjobs/render`. */
  async exportAsGraphic(filename: string, suffix: "svg" | "png"): Promise<string> {
    checkFilename("exportAsGraphic()", filename);
    if (suffix !== "svg" && suffix !== "png") {
      throw new TypeError(
        `exportAsGraphic(): suffix must be "svg" or "png", got ${describeValue(suffix)} for ${filename}`,
      );
    }
    const dot = this.dotFormat();
    const renderer = await graphRenderer("exportAsGraphic()");
    const path = filename.toLowerCase().endsWith(`.${suffix}`) ? filename : `${filename}.${suffix}`;
    const svg = await renderer.svg(dot);
    await writeGraphFile(renderer, path, suffix === "svg" ? svg : await renderer.png(svg));
    return path;
  }

  /** Renders the graph to `<filename>.svg`. Needs `@asyncjobs/render`. */
  exportAsSvgfile(filename: string): Promise<string> {
    return this.exportAsGraphic(filename, "svg");
  }

  /** Renders the graph to `<filename>.png`. Needs `@asyncjobs/render`. */
  exportAsPngfile(filename: string): Promise<string> {
    return this.exportAsGraphic(filename, "png");
  }

  /** The graph as an object holding its DOT text, renderable to SVG, shown as SVG in notebooks. */
  graph(options: DotFormatOptions = {}): SchedulerGraph {
    return new SchedulerGraph(this.dotFormat(options));
  }
}

// Helpers are module functions, not #private methods: the Scheduler class
// borrows PureScheduler's methods, and #private members would not follow.

function whereOf(scheduler: PureScheduler): string {
  return `scheduler ${describeScheduler(scheduler)}`;
}

const RUN_OPTIONS: ReadonlySet<string> = new Set(["signal", "journal", "resume"]);
const VERBOSE_OPTION: ReadonlySet<string> = new Set(["verbose"]);
const DETAILS_OPTION: ReadonlySet<string> = new Set(["details"]);
const EXIT_JOBS_OPTIONS: ReadonlySet<string> = new Set(["discardForever", "computeBacklinks"]);
const ITERATE_JOBS_OPTIONS: ReadonlySet<string> = new Set(["scanSchedulers"]);
const KEEP_ONLY_BETWEEN_OPTIONS: ReadonlySet<string> = new Set([
  "starts",
  "ends",
  "keepStarts",
  "keepEnds",
]);

/** The items of `value`, which must be an iterable object (not a string) of jobs. */
function iterableOfJobs(where: string, name: string, value: unknown): AbstractJob[] {
  if (value === null || typeof value !== "object" || !(Symbol.iterator in value)) {
    throw new TypeError(
      `${where}: ${name} must be an iterable of jobs, got ${describeValue(value)}`,
    );
  }
  const jobs = [...(value as Iterable<unknown>)];
  for (const job of jobs) {
    if (!(job instanceof AbstractJobClass)) {
      throw new TypeError(`${where}: ${name} must hold jobs only, got ${describeValue(job)}`);
    }
  }
  return jobs as AbstractJob[];
}

function checkFilename(where: string, filename: unknown): void {
  if (typeof filename !== "string" || filename === "") {
    throw new TypeError(
      `${where}: filename must be a non-empty string, got ${describeValue(filename)}`,
    );
  }
}

function countStates(scheduler: PureScheduler): {
  done: number;
  ongoing: number;
  idle: number;
  cancelled: number;
} {
  let done = 0;
  let ongoing = 0;
  let cancelled = 0;
  for (const job of scheduler._members) {
    if (job._state === DONE) done++;
    else if (job._state === RUNNING) {
      if (job.isCancelled()) cancelled++;
      else ongoing++;
    }
  }
  return {
    done,
    ongoing,
    idle: scheduler._members.size - done - ongoing - cancelled,
    cancelled,
  };
}

/** A job that has run (here before, or elsewhere) means the scheduler's jobs are no longer all fresh. */
function noteArrival(scheduler: PureScheduler, job: AbstractJob): void {
  if (
    job._state !== IDLE ||
    job._outcome !== undefined ||
    job._context !== undefined ||
    job._raised
  ) {
    scheduler._jobsFresh = false;
  }
}

/**
 * Adds `jobs` if every item is a job (checking them all first, so that
 * either all are added or none); false, having done nothing, otherwise.
 */
function addAllJobs(scheduler: PureScheduler, jobs: readonly unknown[]): boolean {
  // One walk checks everything before anything changes, a second adds: each
  // walk over a big graph's jobs costs a cache miss per job.
  if (!mayAllJoin(scheduler, jobs)) return false;
  scheduler._members.addAll(jobs as readonly AbstractJob[], (job) => {
    job._owner = scheduler;
    noteArrival(scheduler, job);
  });
  scheduler._graphVersion++;
  return true;
}

/**
 * Whether every item of `jobs` is a job; throws if one of them may not join
 * `scheduler`. The walk ends the function: compiled while it runs, it would
 * otherwise be thrown away at the first line after it, which never ran
 * before (see countJobs() in orchestration.ts).
 */
function mayAllJoin(scheduler: PureScheduler, jobs: readonly unknown[]): boolean {
  for (let k = 0; k < jobs.length; k++) {
    const job = jobs[k];
    if (!(job instanceof AbstractJobClass)) return false;
    checkCanAdd(scheduler, job);
  }
  return true;
}

function checkCanAdd(scheduler: PureScheduler, job: AbstractJob): void {
  if (job._owner !== undefined && job._owner !== scheduler) {
    throw new Error(
      `${whereOf(scheduler)}: job ${nameOf(job)} already belongs to another scheduler; a job belongs to one scheduler at most`,
    );
  }
  if (scheduler._busy && !scheduler._members.has(job)) {
    throw new Error(
      `${whereOf(scheduler)}: cannot add job ${nameOf(job)} while the scheduler runs`,
    );
  }
  // A scheduler may not end up inside itself, however deep.
  for (
    let enclosing: PureScheduler | undefined = scheduler;
    enclosing;
    enclosing = enclosing._owner
  ) {
    if ((enclosing as unknown) === job) {
      throw new Error(`${whereOf(scheduler)}: cannot add scheduler ${nameOf(job)} inside itself`);
    }
  }
}

function checkMembers(scheduler: PureScheduler, where: string, jobs: readonly unknown[]): void {
  for (const job of jobs) {
    if (!(job instanceof AbstractJobClass)) {
      throw new TypeError(`${where}: expected jobs, got ${describeValue(job)}`);
    }
    if (!scheduler._members.has(job)) {
      throw new Error(`${where}: job ${nameOf(job)} is not in this scheduler`);
    }
  }
}

function abortText(reason: unknown): string {
  if (reason instanceof Error) return reason.message || reason.name;
  return String(reason);
}

/**
 * The run shared by PureScheduler and Scheduler: checks the options, refuses
 * a second concurrent run, wires verbose output, and orchestrates.
 *
 * @internal
 */
export async function runScheduler(
  scheduler: PureScheduler,
  options: RunOptions = {},
): Promise<boolean> {
  // This scheduler's own context as a job (a nested scheduler run by its
  // parent): followed directly, without reading its signal (which would
  // make one). Any other context is followed through its signal, which
  // several runs may share.
  const context =
    options instanceof RunContext && options._job === (scheduler as unknown) ? options : undefined;
  const where = (): string => `scheduler ${describeScheduler(scheduler)}: run()`;
  if (
    context === undefined &&
    !isPlainObject(options) &&
    !(options instanceof Object && "signal" in options)
  ) {
    throw new TypeError(`${where()}: options must be an object, got ${describeValue(options)}`);
  }
  if (isPlainObject(options)) rejectUnknownOptions(where(), options, RUN_OPTIONS);
  const signal = context === undefined ? options.signal : undefined;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `${where()}: option "signal" must be an AbortSignal, got ${describeValue(signal)}`,
    );
  }
  // Read only from plain options: a job's context (a nested run) has neither.
  const journal = context === undefined ? checkJournal(where(), options.journal) : undefined;
  const resume = checkBoolean(where(), "resume", context ? undefined : options.resume, false);
  if (resume && journal === undefined) {
    throw new TypeError(`${where()}: option "resume" needs a "journal" to resume from`);
  }
  if (scheduler._busy) {
    throw new Error(`${where()}: the scheduler is already running; wait for its run to settle`);
  }
  if (journal !== undefined) {
    return runJournaled(scheduler, journal, resume, where(), () =>
      runChecked(scheduler, context ?? signal),
    );
  }
  // A run of its own (not a nested one, which its parent's journal may have
  // resumed jobs of) forgets the marks of an earlier resume.
  if (context === undefined) clearResumedMarks(scheduler);
  return runChecked(scheduler, context ?? signal);
}

/** The run itself, once the options are checked. */
async function runChecked(
  scheduler: PureScheduler,
  signal: AbortSignal | RunContext | undefined,
): Promise<boolean> {
  if (scheduler._busy) {
    throw new Error(
      `scheduler ${describeScheduler(scheduler)}: run(): the scheduler is already running; wait for its run to settle`,
    );
  }
  scheduler._busy = true;
  const detach = scheduler.verbose ? attachVerbose(scheduler) : undefined;
  const recording = scheduler._tracing ? recordTrace(scheduler) : undefined;
  if (recording) scheduler._lastTrace = recording.trace;
  try {
    return await orchestrate(scheduler, signal);
  } catch (error) {
    scheduler._busy = false;
    throw error;
  } finally {
    detach?.();
    recording?.stop();
  }
}

/**
 * What a critical Scheduler rejects with after a failed run: a TimeoutError,
 * the critical job's own exception, or the abort reason.
 *
 * @internal
 */
export function failureOf(scheduler: PureScheduler): unknown {
  switch (scheduler._status) {
    case "timeout":
      return new TimeoutError(
        `scheduler ${describeScheduler(scheduler)} timed out after ${scheduler._timeoutUsed} ms`,
      );
    case "critical":
      return scheduler._culprit?._outcome;
    case "aborted":
      return scheduler._abortReason;
    default:
      return new Error(`scheduler ${describeScheduler(scheduler)} failed`);
  }
}
