/**
 * (C) A forever job monitors a queue that three jobs post messages on. The
 * run ends when the three are done; the monitor is then cancelled.
 */
import { Job, Scheduler, sleep } from "asyncjobs";
import { say } from "./helpers.js";

/** A minimal async queue: `get()` waits for the next message. */
class AsyncQueue<T> {
  #items: T[] = [];
  #waiting: ((item: T) => void)[] = [];

  put(item: T): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
  }

  get(signal: AbortSignal): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const waiter = (value: T): void => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      };
      const onAbort = (): void => {
        this.#waiting = this.#waiting.filter((other) => other !== waiter);
        reject(signal.reason);
      };
      this.#waiting.push(waiter);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

const queue = new AsyncQueue<string>();

function poster(name: string, ms: number) {
  return new Job(
    async ({ signal }) => {
      await sleep(ms, signal);
      queue.put(`${name} is done after ${ms} ms`);
      return name;
    },
    { label: name },
  );
}

const monitor = new Job(
  async ({ signal }) => {
    for (;;) say(`monitor: ${await queue.get(signal)}`);
  },
  { label: "monitor", forever: true },
);

const scheduler = new Scheduler(monitor, poster("c1", 100), poster("c2", 200), poster("c3", 300));
say(`run() -> ${await scheduler.run()}`);
say(`monitor cancelled: ${monitor.isCancelled()}`);
scheduler.list();
