/**
 * Whether the processes a test started are still there: for the tests of
 * everything that kills programs (CommandJob, the command line, the browser
 * view's cancel button).
 */
import { readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";

/** Whether process `pid` runs: a zombie (dead, waiting for its parent or init to reap it) does not. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
  } catch {
    // Gone between the two looks, or no /proc: kill(0) said it was there.
    return true;
  }
}

/** Waits, with a generous deadline, for a killed process to be gone (signals take a moment). */
export async function vanished(pid: number, deadlineMs = 10_000): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await delay(20);
  }
  return true;
}
