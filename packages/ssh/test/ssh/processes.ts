/**
 * Process-tree helpers for the SSH tests: finding the descendants of a
 * process through /proc, killing them, and polling for a condition.
 */
import { readdir, readFile } from "node:fs/promises";

/** Every process as pid → parent pid, read from /proc. */
async function parents(): Promise<Map<number, number>> {
  const map = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may hold spaces: read after its end.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      map.set(Number(entry), Number(fields[1]));
    } catch {
      // The process ended while we were reading.
    }
  }
  return map;
}

/** The pids of every descendant of `pid` (not `pid` itself). */
export async function descendants(pid: number): Promise<number[]> {
  const map = await parents();
  const children = new Map<number, number[]>();
  for (const [child, parent] of map) {
    const list = children.get(parent) ?? [];
    list.push(child);
    children.set(parent, list);
  }
  const found: number[] = [];
  const stack = [...(children.get(pid) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    found.push(next);
    stack.push(...(children.get(next) ?? []));
  }
  return found;
}

/** Sends `signal` to each pid, ignoring those already gone. */
export function signalAll(pids: Iterable<number>, signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Whether a process with this pid exists (zombies count as gone). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/**
 * Calls `check` until it returns a value other than undefined/false, every
 * `interval` ms, and throws `what` once `deadline` ms have passed.
 */
export async function pollUntil<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  deadline = 15_000,
  interval = 25,
): Promise<T> {
  const end = Date.now() + deadline;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what} after ${deadline} ms`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
