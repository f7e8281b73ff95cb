/**
 * Small helpers shared by the tutorial examples: `watch`, one clock for the
 * whole example; `say`, which prints a line prefixed with the time elapsed on
 * it; and `inOut`, the tutorial's coroutine (abortable sleep in between).
 * README.md shows this file from the import on.
 */
import { type JobContext, sleep, Watch } from "asyncjobs";

export const watch = new Watch();

export function say(message: string): void {
  console.log(`${watch.elapsed()} ${message}`);
}

/** Prints when it enters and leaves, sleeps `ms` in between, returns `ms`. */
export function inOut(ms: number, name = `in_out(${ms})`) {
  return async ({ signal }: JobContext): Promise<number> => {
    say(`-> ${name}`);
    await sleep(ms, signal);
    say(`<- ${name}`);
    return ms;
  };
}
