/**
 * Small helpers shared by the tutorial examples.
 */
import { type JobContext, sleep, Watch } from "asyncjobs";

/** One watch for the whole example, so that every line shows the same clock. */
export const watch = new Watch();

/** Prints a line prefixed with the time elapsed on the example's watch. */
export function say(message: string): void {
  console.log(`${watch.elapsed()} ${message}`);
}

/**
 * The tutorial's coroutine: prints when it enters and leaves, sleeps `ms`
 * in between (abortably), and returns `ms`.
 */
export function inOut(ms: number, name = `in_out(${ms})`) {
  return async ({ signal }: JobContext): Promise<number> => {
    say(`-> ${name}`);
    await sleep(ms, signal);
    say(`<- ${name}`);
    return ms;
  };
}
