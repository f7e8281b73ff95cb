/**
 * The processes a started program may have left running, found through
 * Linux's /proc, so that a timeout or a cancellation reaches them too.
 *
 * A program is spawned as the leader of its own session and process group
 * (`detached: true`), so one signal to its group reaches every descendant
 * that stays in it. Descendants may leave the group (`setsid`, a shell's job
 * control, a daemon's double fork); on Linux, three more ways find them:
 *
 * - the parent links (ppid), from the program down, while the parents live;
 * - the session and the process group of the program;
 * - an environment variable with a token unique to the run, which every
 *   descendant inherits, whatever its session and whoever its parent now is
 *   (a daemon re-parented to init still carries it), unless it was started
 *   with a cleared or rewritten environment.
 *
 * Each process found is remembered with its start time, so that a signal
 * never goes to another process that got the same pid meanwhile.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";

/** The environment variable that marks every process a command job started. */
export const PROCESS_TAG_VARIABLE = "ASYNCJOBS_PROCESS_TAG";

/** The fields of /proc/PID/stat the search needs. */
interface Stat {
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Clock ticks after boot when the process started: tells a reused pid apart. */
  start: string;
}

/** Reads /proc/PID/stat; undefined when the process is gone (or /proc is not there). */
function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
  // cmajflt utime stime cutime cstime priority nice threads itrealvalue
  // starttime ...": comm may hold anything, so read after its last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    state: fields[0] ?? "",
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    start: fields[19] ?? "",
  };
}

const TAG_PREFIX = Buffer.from(`${PROCESS_TAG_VARIABLE}=`);

/**
 * Whether /proc/PID/environ has `tag` among the comma-separated tokens of
 * the tag variable (a program started by a command job that runs asyncjobs
 * itself carries its own token after the outer ones).
 */
function environHas(pid: number, tag: string): boolean {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false; // Gone, or another user's process: not ours to signal anyway.
  }
  for (let at = environ.indexOf(TAG_PREFIX); at >= 0; at = environ.indexOf(TAG_PREFIX, at + 1)) {
    if (at > 0 && environ[at - 1] !== 0) continue; // Inside another variable.
    const end = environ.indexOf(0, at);
    const value = environ.toString("latin1", at + TAG_PREFIX.length, end < 0 ? undefined : end);
    return value.split(",").includes(tag);
  }
  return false;
}

/**
 * The value of the tag variable for a program with token `tag`: the tokens
 * this process carries (if a command job started it), then its own.
 */
export function tagValue(tag: string, inherited: string | undefined): string {
  return inherited === undefined || inherited === "" ? tag : `${inherited},${tag}`;
}

/** Whether this system has a /proc to search. */
export const canSearchProcesses: boolean = (() => {
  if (process.platform !== "linux") return false;
  try {
    return readStat(process.pid) !== undefined;
  } catch {
    return false;
  }
})();

/** Processes found, by pid, with their start time. */
export type ProcessSet = Map<number, string>;

/**
 * Every live process (zombies left out) that descends from `leader`: in its
 * process group or session, reached from it by parent links, or carrying
 * `tag` in its environment (only processes started at `since` or later, in
 * clock ticks after boot, can be: older ones are not read). `known` adds the
 * processes found by an earlier search (their own descendants are found
 * through them). Empty where /proc cannot be read.
 */
export function findDescendants(
  leader: number,
  tag: string,
  since: number,
  known?: ProcessSet,
): ProcessSet {
  const found: ProcessSet = new Map();
  if (!canSearchProcesses) return found;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return found;
  }
  const children = new Map<number, number[]>();
  const stats = new Map<number, Stat>();
  for (const name of entries) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const stat = readStat(pid);
    if (stat === undefined || stat.state === "Z") continue;
    stats.set(pid, stat);
    const siblings = children.get(stat.ppid);
    if (siblings === undefined) children.set(stat.ppid, [pid]);
    else siblings.push(pid);
    if (pid === leader || stat.pgrp === leader || stat.session === leader) {
      found.set(pid, stat.start);
    } else if (
      known?.get(pid) === stat.start ||
      (Number(stat.start) >= since && environHas(pid, tag))
    ) {
      found.set(pid, stat.start);
    }
  }
  // The descendants of what was found, by parent links, whatever their
  // session or environment.
  const queue = [...found.keys()];
  if (!found.has(leader) && stats.has(leader)) queue.push(leader);
  while (queue.length > 0) {
    const pid = queue.pop()!;
    for (const child of children.get(pid) ?? []) {
      if (found.has(child)) continue;
      found.set(child, stats.get(child)!.start);
      queue.push(child);
    }
  }
  return found;
}

/** When process `pid` started, in clock ticks after boot; 0 when it cannot be told. */
export function startTime(pid: number): number {
  return Number(readStat(pid)?.start ?? 0) || 0;
}

/** Sends `signal` to each process of `set` that is still the one found (same start time). */
export function signalProcesses(set: ProcessSet, signal: NodeJS.Signals): void {
  for (const [pid, start] of set) {
    const stat = readStat(pid);
    if (stat === undefined || stat.start !== start || stat.state === "Z") continue;
    try {
      process.kill(pid, signal);
    } catch {
      // Gone meanwhile, or not ours.
    }
  }
}

/** Whether a process of `set` is still alive (not a zombie, same start time). */
export function anyAlive(set: ProcessSet): boolean {
  for (const [pid, start] of set) {
    const stat = readStat(pid);
    if (stat !== undefined && stat.start === start && stat.state !== "Z") return true;
  }
  return false;
}
