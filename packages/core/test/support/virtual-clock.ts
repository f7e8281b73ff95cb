/**
 * A virtual clock for property tests: timers fire in (time, creation) order,
 * one at a time, and every promise chain a timer sets off settles before the
 * next one fires. Thousands of runs with "delays" take no real time, and a
 * run with the same inputs always sees the same order of events.
 *
 * `install()` replaces the global `setTimeout` / `clearTimeout` so that the
 * engine's own timers (a run's timeout, the shutdown bound) run on this
 * clock too; they are counted apart from the tests' own timers, so that a
 * test can check that none of the engine's is left behind.
 */

const realSetImmediate = globalThis.setImmediate;
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** One pending timer. */
export interface VirtualTimer {
  readonly time: number;
  readonly seq: number;
  readonly fromEngine: boolean;
  live: boolean;
  readonly fire: () => void;
  /** Node's timer methods, as no-ops, for code that calls them. */
  ref(): VirtualTimer;
  unref(): VirtualTimer;
  hasRef(): boolean;
}

/** Lets every pending promise reaction run (a macrotask turn drains them all). */
export function drain(): Promise<void> {
  return new Promise<void>((resolve) => realSetImmediate(resolve));
}

export class VirtualClock {
  /** Virtual milliseconds since the clock was made. */
  now = 0;
  #seq = 0;
  readonly #heap: VirtualTimer[] = [];
  #liveFromEngine = 0;

  /** Schedules `fire` after `ms` virtual milliseconds. */
  schedule(ms: number, fire: () => void, fromEngine = false): VirtualTimer {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: VirtualTimer = {
      time: this.now + delay,
      seq: this.#seq++,
      fromEngine,
      live: true,
      fire,
      ref: () => timer,
      unref: () => timer,
      hasRef: () => true,
    };
    this.#push(timer);
    if (fromEngine) this.#liveFromEngine++;
    return timer;
  }

  /** Cancels a timer made by {@link VirtualClock.schedule} (anything else is ignored). */
  cancel(timer: unknown): void {
    const candidate = timer as VirtualTimer | undefined;
    if (candidate === undefined || candidate === null || candidate.live !== true) return;
    candidate.live = false;
    if (candidate.fromEngine) this.#liveFromEngine--;
  }

  /** A sleep on this clock; aborting `signal` rejects it and clears its timer. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.cancel(timer);
        reject(signal?.reason);
      };
      const timer = this.schedule(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** How many timers set through the global functions are still pending. */
  get liveEngineTimers(): number {
    return this.#liveFromEngine;
  }

  /** Whether any timer is still pending. */
  get pending(): boolean {
    this.#dropDead();
    return this.#heap.length > 0;
  }

  /** Fires the earliest pending timer, advancing the clock; false if there is none. */
  fireNext(): boolean {
    this.#dropDead();
    const timer = this.#pop();
    if (timer === undefined) return false;
    this.now = timer.time;
    timer.live = false;
    if (timer.fromEngine) this.#liveFromEngine--;
    timer.fire();
    return true;
  }

  /**
   * Fires timers, one instant at a time, until `promise` settles; resolves
   * with its outcome, or with `pending: true` if no timer is left and it has
   * not settled.
   */
  async settle<T>(
    promise: Promise<T>,
  ): Promise<{ pending: false; ok: boolean; value: unknown } | { pending: true }> {
    const seen: { outcome?: { pending: false; ok: boolean; value: unknown } } = {};
    promise.then(
      (value) => {
        seen.outcome = { pending: false, ok: true, value };
      },
      (error: unknown) => {
        seen.outcome = { pending: false, ok: false, value: error };
      },
    );
    for (;;) {
      await drain();
      if (seen.outcome !== undefined) return seen.outcome;
      if (!this.fireNext()) return { pending: true };
    }
  }

  /** Routes the global setTimeout / clearTimeout to this clock until the returned function is called. */
  install(): () => void {
    const globals = globalThis as unknown as Record<string, unknown>;
    globals.setTimeout = (handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      this.schedule(ms ?? 0, () => handler(...args), true);
    globals.clearTimeout = (timer: unknown) => this.cancel(timer);
    return () => {
      globals.setTimeout = realSetTimeout;
      globals.clearTimeout = realClearTimeout;
    };
  }

  #dropDead(): void {
    while (this.#heap.length > 0 && !this.#heap[0]!.live) this.#pop();
  }

  #before(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  #push(timer: VirtualTimer): void {
    const heap = this.#heap;
    heap.push(timer);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.#before(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  #pop(): VirtualTimer | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && this.#before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && this.#before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === index) break;
        [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
        index = smallest;
      }
    }
    return top;
  }
}
