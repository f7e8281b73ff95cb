/**
 * The engine's event interface. Verbose output, listings, live views and
 * traces hang off these events instead of hooking the engine.
 *
 * Events are dispatched on the `events` target of the scheduler that owns
 * the job and then on each enclosing scheduler's, so one listener on the
 * outermost scheduler sees everything. Nothing is allocated when nobody
 * listens.
 */
import type { AbstractJob } from "../jobs/abstract-job.js";
import { describeValue } from "../util/describe.js";
import type { PureScheduler } from "./pure-scheduler.js";

/** Types of the events about one job. */
export type JobEventType =
  | "job:scheduled"
  | "job:started"
  | "job:done"
  | "job:failed"
  | "job:cancelled"
  | "job:retried"
  | "job:skipped"
  | "job:ready";

/** Types of the events about a scheduler's run. */
export type SchedulerEventType = "scheduler:started" | "scheduler:ended" | "scheduler:shutdown";

/** An event about one job of a run. */
export class JobEvent extends Event {
  /** The job the event is about. */
  readonly job: AbstractJob;
  /** The scheduler that owns the job (the innermost one). */
  readonly scheduler: PureScheduler;
  /** When the event happened, in `performance.now()` milliseconds. */
  readonly time: number;
  /**
   * For `job:failed`, the job's exception; for `job:retried`, that of the
   * attempt that failed (the job's own result does not keep it). Undefined
   * for the other types.
   */
  readonly error: unknown;

  constructor(type: JobEventType, job: AbstractJob, scheduler: PureScheduler, error?: unknown) {
    super(type);
    this.job = job;
    this.scheduler = scheduler;
    this.time = performance.now();
    this.error = error;
  }
}

/** An event about a scheduler's run as a whole. */
export class SchedulerEvent extends Event {
  /** The scheduler whose run the event is about. */
  readonly scheduler: PureScheduler;
  /**
   * For `scheduler:ended`, whether the run succeeded; for
   * `scheduler:shutdown`, whether every shutdown completed in time.
   */
  readonly ok: boolean | undefined;
  /** When the event happened, in `performance.now()` milliseconds. */
  readonly time: number;

  constructor(type: SchedulerEventType, scheduler: PureScheduler, ok?: boolean) {
    super(type);
    this.scheduler = scheduler;
    this.ok = ok;
    this.time = performance.now();
  }
}

/** Maps each event type to its event class, for typed listeners. */
export interface SchedulerEventMap {
  /** The job's requirements are done: it starts as soon as the window allows. */
  "job:scheduled": JobEvent;
  /** The job started running. */
  "job:started": JobEvent;
  /** The job finished without raising. */
  "job:done": JobEvent;
  /** The job raised (it is done; see its `raisedException()`). */
  "job:failed": JobEvent;
  /** The scheduler cancelled the job: its signal is aborted. */
  "job:cancelled": JobEvent;
  /** A failed attempt is followed by another (after the retry delay). */
  "job:retried": JobEvent;
  /** The job's trigger rule was not met by its requirements: it will not run. */
  "job:skipped": JobEvent;
  /** A running job (typically a forever service) said its dependents may start. */
  "job:ready": JobEvent;
  /** A run started. */
  "scheduler:started": SchedulerEvent;
  /** A run ended; `ok` says whether it succeeded. */
  "scheduler:ended": SchedulerEvent;
  /** The shutdown phase ended; `ok` says whether every shutdown completed in time. */
  "scheduler:shutdown": SchedulerEvent;
}

/** A listener for events of type `K`. */
export type SchedulerEventListener<K extends keyof SchedulerEventMap> =
  | ((event: SchedulerEventMap[K]) => void)
  | {
      /** Called with each event of type `K`. */
      handleEvent(event: SchedulerEventMap[K]): void;
    };

/**
 * Counts the listeners ever added, on any scheduler: a run checks once
 * whether anybody listens to it (on its scheduler or an enclosing one), and
 * again only when this has changed.
 *
 * @internal
 */
export const listenerAdditions = { count: 0 };

/**
 * While the engine dispatches (see {@link emitJobEvent}), the first error a
 * listener threw, boxed; handed to a run's `_onListenerError` once the
 * dispatch is over. An EventTarget would otherwise report it as an uncaught
 * exception, which kills the process.
 */
let thrown: { error: unknown } | undefined;
/** The scheduler whose listener threw `thrown`. */
let thrownBy: PureScheduler | undefined;

/** How many event targets have a listener: when none has, events are not even looked for. */
let listeningTargets = 0;
/** How many engine dispatches are under way (they nest: a listener may cause another event). */
let dispatching = 0;

/** Calls `listener` with `event`; an error it throws during an engine dispatch is kept for the run. */
function callListener(
  target: EventTarget,
  listener: EventListenerOrEventListenerObject,
  event: Event,
): void {
  try {
    if (typeof listener === "function") listener.call(target, event);
    else listener.handleEvent(event);
  } catch (error) {
    // Outside an engine dispatch (the user's own dispatchEvent), as any EventTarget does.
    if (dispatching === 0) throw error;
    if (thrown === undefined) thrown = { error };
  }
}

/** Notes which scheduler's listener threw, after dispatching on `target`. */
function dispatchedOn(target: PureScheduler): void {
  if (thrown !== undefined && thrownBy === undefined) thrownBy = target;
}

/**
 * After a dispatch: tells a run about an error a listener threw, if one
 * did: the run of the scheduler the listener listens to (an enclosing one,
 * maybe), else that of the scheduler whose run dispatched the event.
 */
function afterDispatch(scheduler: PureScheduler): void {
  dispatching--;
  if (thrown === undefined || dispatching > 0) return;
  const { error } = thrown;
  const by = thrownBy;
  thrown = undefined;
  thrownBy = undefined;
  const hook = by?._onListenerError ?? scheduler._onListenerError;
  hook?.(error);
}

/**
 * Whether anybody listens to the events of `scheduler`'s run: on it, or on
 * a scheduler enclosing it.
 *
 * @internal
 */
export function anyoneListens(scheduler: PureScheduler): boolean {
  // Without a listener anywhere, no walk up a (maybe deep) nesting.
  if (listeningTargets === 0) return false;
  for (let target: PureScheduler | undefined = scheduler; target; target = target._owner) {
    if (target._events?.active) return true;
  }
  return false;
}

/**
 * A typed `EventTarget` that knows whether anybody listens, so that the
 * engine skips building events nobody would receive.
 */
export class SchedulerEvents extends EventTarget {
  /**
   * The listeners of each type, each with what was registered on the
   * target for it: itself, or a wrapper that forgets it once it has fired
   * (`once`). A listener is also forgotten when its `signal` aborts, so
   * that `active` stays true only while somebody listens.
   */
  #listeners = new Map<string, Map<unknown, EventListener>>();

  /** Whether at least one listener is registered (for any type). */
  get active(): boolean {
    return this.#listeners.size > 0;
  }

  /** Listens to events of type `K`; the listener gets the event class that type dispatches. */
  override addEventListener<K extends keyof SchedulerEventMap>(
    type: K,
    listener: SchedulerEventListener<K> | null,
    options?: AddEventListenerOptions | boolean,
  ): void;
  /** Listens to events of any other type, as on any `EventTarget`. */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: AddEventListenerOptions | boolean,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: AddEventListenerOptions | boolean,
  ): void {
    if (listener === null || listener === undefined) return;
    if (
      typeof listener !== "function" &&
      (typeof listener !== "object" || typeof listener.handleEvent !== "function")
    ) {
      throw new TypeError(
        `events.addEventListener(): listener must be a function or an object with a handleEvent method, got ${describeValue(listener)}`,
      );
    }
    const given = typeof options === "object" && options !== null ? options : undefined;
    const signal = given?.signal;
    // As on any EventTarget: an aborted signal adds nothing, a second add of
    // the same listener changes nothing.
    if (signal?.aborted) return;
    let registered = this.#listeners.get(type);
    if (registered?.has(listener)) return;
    listenerAdditions.count++;
    if (this.#listeners.size === 0) listeningTargets++;
    if (registered === undefined) {
      registered = new Map();
      this.#listeners.set(type, registered);
    }
    // What the listener throws is caught (see callListener).
    const call: EventListener = (event) => callListener(this, listener, event);
    const target: EventListener =
      given?.once === true
        ? (event) => {
            // Removed before it runs, as the target drops a `once` listener.
            this.removeEventListener(type, listener);
            call.call(this, event);
          }
        : call;
    registered.set(listener, target);
    if (signal !== undefined) {
      signal.addEventListener("abort", () => this.removeEventListener(type, listener), {
        once: true,
      });
    }
    // Registered without options: `once` and `signal` are handled here, and
    // capture means nothing outside a DOM tree (a listener is one entry per
    // type, whatever its capture flag).
    super.addEventListener(type, target);
  }

  /** Stops a listener added with {@link SchedulerEvents.addEventListener}. */
  override removeEventListener<K extends keyof SchedulerEventMap>(
    type: K,
    listener: SchedulerEventListener<K> | null,
    options?: EventListenerOptions | boolean,
  ): void;
  /** Stops a listener of any other type, as on any `EventTarget`. */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: EventListenerOptions | boolean,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    _options?: EventListenerOptions | boolean,
  ): void {
    if (listener === null) return;
    const target = this.#forget(type, listener);
    if (target !== undefined) super.removeEventListener(type, target);
  }

  /** Drops `listener` from the bookkeeping; returns what was registered for it on the target. */
  #forget(type: string, listener: unknown): EventListener | undefined {
    const registered = this.#listeners.get(type);
    const target = registered?.get(listener);
    if (target === undefined) return undefined;
    registered!.delete(listener);
    if (registered!.size === 0) {
      this.#listeners.delete(type);
      if (this.#listeners.size === 0) listeningTargets--;
    }
    return target;
  }
}

/** Dispatches a job event on `scheduler` and every enclosing scheduler that listens. */
export function emitJobEvent(
  scheduler: PureScheduler,
  type: JobEventType,
  job: AbstractJob,
  error?: unknown,
): void {
  if (listeningTargets === 0) return;
  dispatching++;
  try {
    for (let target: PureScheduler | undefined = scheduler; target; target = target._owner) {
      const events = target._events;
      if (events?.active) {
        events.dispatchEvent(new JobEvent(type, job, scheduler, error));
        dispatchedOn(target);
      }
    }
  } finally {
    afterDispatch(scheduler);
  }
}

/** Dispatches a scheduler event on `scheduler` and every enclosing scheduler that listens. */
export function emitSchedulerEvent(
  scheduler: PureScheduler,
  type: SchedulerEventType,
  ok?: boolean,
): void {
  if (listeningTargets === 0) return;
  dispatching++;
  try {
    for (let target: PureScheduler | undefined = scheduler; target; target = target._owner) {
      const events = target._events;
      if (events?.active) {
        events.dispatchEvent(new SchedulerEvent(type, scheduler, ok));
        dispatchedOn(target);
      }
    }
  } finally {
    afterDispatch(scheduler);
  }
}
