/**
 * Graph walks over one scheduler's jobs. Every walk is O(jobs + requirements):
 * Kahn's algorithm for order and cycles, breadth-first closures, and a
 * successors map built once per call. Requirements pointing outside the
 * scheduler are ignored here (run() rejects them; sanitize() drops them).
 */
import { type AbstractJob, isScheduler, nameOf } from "../jobs/abstract-job.js";
import { requirementsOf } from "../jobs/requirements.js";
import type { PureScheduler } from "./pure-scheduler.js";

/** The requirements of `job` that belong to `scheduler`. */
export function* internalRequirements(
  job: AbstractJob,
  scheduler: PureScheduler,
): Generator<AbstractJob> {
  for (const required of requirementsOf(job)) {
    if (required._owner === scheduler) yield required;
  }
}

/** Maps each job of `scheduler` to the jobs of `scheduler` that require it. */
export function successorsMap(scheduler: PureScheduler): Map<AbstractJob, AbstractJob[]> {
  const map = new Map<AbstractJob, AbstractJob[]>();
  for (const job of scheduler._members) map.set(job, []);
  for (const job of scheduler._members) {
    for (const required of internalRequirements(job, scheduler)) map.get(required)?.push(job);
  }
  return map;
}

/** Kahn's algorithm: the jobs in an order that respects requirements, and those left on cycles. */
export function kahn(scheduler: PureScheduler): { order: AbstractJob[]; blocked: AbstractJob[] } {
  const successors = successorsMap(scheduler);
  const pending = new Map<AbstractJob, number>();
  const order: AbstractJob[] = [];
  for (const job of scheduler._members) {
    let count = 0;
    for (const _ of internalRequirements(job, scheduler)) count++;
    pending.set(job, count);
    if (count === 0) order.push(job);
  }
  for (let index = 0; index < order.length; index++) {
    for (const next of successors.get(order[index]!) ?? []) {
      const left = pending.get(next)! - 1;
      pending.set(next, left);
      if (left === 0) order.push(next);
    }
  }
  const blocked = [...scheduler._members].filter((job) => pending.get(job)! > 0);
  return { order, blocked };
}

/**
 * One cycle among `blocked` jobs (each of which has a blocked requirement),
 * found by walking requirements until a job repeats.
 */
export function findCycle(
  blocked: readonly AbstractJob[],
  isBlocked: (job: AbstractJob) => boolean,
): AbstractJob[] {
  const start = blocked[0];
  if (start === undefined) return [];
  const seenAt = new Map<AbstractJob, number>();
  const path: AbstractJob[] = [];
  let current: AbstractJob | undefined = start;
  while (current !== undefined && !seenAt.has(current)) {
    seenAt.set(current, path.length);
    path.push(current);
    let next: AbstractJob | undefined;
    for (const required of requirementsOf(current)) {
      if (isBlocked(required)) {
        next = required;
        break;
      }
    }
    current = next;
  }
  if (current === undefined) return path;
  return path.slice(seenAt.get(current));
}

/** `"a" requires "b" requires "a"`: a cycle spelled out with job names. */
export function describeCycle(cycle: readonly AbstractJob[]): string {
  if (cycle.length === 0) return "";
  return [...cycle, cycle[0]!].map(nameOf).join(" requires ");
}

/** The error thrown for a cycle, naming its jobs. */
export function cycleError(where: string, cycle: readonly AbstractJob[]): Error {
  return new Error(`${where}: the requirements form a cycle: ${describeCycle(cycle)}`);
}

/** Jobs in topological order; throws an error naming a cycle if there is one. */
export function topologicalOrder(scheduler: PureScheduler): AbstractJob[] {
  const { order, blocked } = kahn(scheduler);
  if (blocked.length > 0) {
    const set = new Set(blocked);
    throw cycleError(
      `scheduler ${describeScheduler(scheduler)}`,
      findCycle(blocked, (job) => set.has(job)),
    );
  }
  return order;
}

/** Whether the graph, and those of nested schedulers, are acyclic and can start. */
export function checkCycles(top: PureScheduler): boolean {
  // With a stack of its own rather than recursion: nesting may be deep.
  const stack = [top];
  while (stack.length > 0) {
    const scheduler = stack.pop()!;
    const { order, blocked } = kahn(scheduler);
    if (blocked.length > 0) return false;
    if (scheduler._members.size > 0 && order.length === 0) return false;
    for (const job of scheduler._members) if (isScheduler(job)) stack.push(job);
  }
  return true;
}

/** The jobs reachable from `jobs` by following `next`, excluding `jobs` themselves unless on a cycle. */
export function closure(
  jobs: Iterable<AbstractJob>,
  next: (job: AbstractJob) => Iterable<AbstractJob>,
): Set<AbstractJob> {
  const found = new Set<AbstractJob>();
  const queue: AbstractJob[] = [...jobs];
  for (let index = 0; index < queue.length; index++) {
    for (const other of next(queue[index]!)) {
      if (!found.has(other)) {
        found.add(other);
        queue.push(other);
      }
    }
  }
  return found;
}

/** A scheduler's name for error messages. */
export function describeScheduler(scheduler: PureScheduler): string {
  const label = (scheduler as { label?: string }).label;
  return label === undefined ? `with ${scheduler._members.size} job(s)` : `"${label}"`;
}
