/**
 * How a job keeps its requirements. In a big graph most jobs require one or
 * a few others, and a Set per job would be the largest thing a job holds, so
 * the storage grows with need:
 *
 * - nothing (`undefined`),
 * - the one required job itself,
 * - an exact-size array: of up to REQUIREMENTS_IN_ARRAY jobs (scanning a few
 *   entries for duplicates is as fast as hashing them), or of any number
 *   given all at once (a fan-in: `required: [...thousands of jobs]`),
 * - a Set: beyond REQUIREMENTS_IN_ARRAY jobs added one at a time, or once
 *   a long array is searched or changed (each search of an array is a walk).
 *
 * Reading `job.required` turns the storage into a Set for good, so that the
 * set it returns stays live. Everything here reads or writes `job._required`.
 */
import type { AbstractJob } from "./abstract-job.js";
import { LISTED } from "./job-bits.js";

/** What `job._required` holds; see the module's comment. */
export type RequirementStorage = AbstractJob | AbstractJob[] | Set<AbstractJob> | undefined;

const REQUIREMENTS_IN_ARRAY = 8;

const NONE: readonly AbstractJob[] = [];

/** A long array of requirements, which a search or a change turns into a Set first. */
function isLongArray(required: RequirementStorage): required is AbstractJob[] {
  return Array.isArray(required) && required.length > REQUIREMENTS_IN_ARRAY;
}

/** Tells `job`'s scheduler that its graph changed (a layout kept for its next run is stale). */
function changed(job: AbstractJob): void {
  if (job._owner !== undefined) job._owner._graphVersion++;
}

/** Adds `requirement` to `job`'s requirements, once; a job never requires itself. */
export function addRequirement(job: AbstractJob, requirement: AbstractJob): void {
  if (requirement === job) return;
  changed(job);
  if (isLongArray(job._required)) job._required = new Set(job._required);
  const required = job._required;
  if (required === undefined) {
    job._required = requirement;
  } else if (required instanceof Set) {
    required.add(requirement);
  } else if (!Array.isArray(required)) {
    if (required !== requirement) job._required = [required, requirement];
  } else if (!required.includes(requirement)) {
    // A fresh array of the exact size: push() would grow it to 17 slots.
    job._required =
      required.length < REQUIREMENTS_IN_ARRAY
        ? [...required, requirement]
        : new Set(required).add(requirement);
  }
}

/**
 * Whether `requirements` are distinct and do not include `job`. A few are
 * scanned. Many (a fan-in of a million) are marked in passing, a bit of
 * each job's `_bits` cleared again before returning: a touch of each job
 * twice, where a Set would hash each one into a table of a million entries
 * (`new Set()` of a million jobs measured 130–360 ms).
 */
function distinctOthers(job: AbstractJob, requirements: readonly AbstractJob[]): boolean {
  if (requirements.length <= REQUIREMENTS_IN_ARRAY) {
    for (let k = 0; k < requirements.length; k++) {
      const requirement = requirements[k];
      if (requirement === job) return false;
      for (let before = 0; before < k; before++) {
        if (requirements[before] === requirement) return false;
      }
    }
    return true;
  }
  let marked = 0;
  try {
    for (; marked < requirements.length; marked++) {
      const requirement = requirements[marked]!;
      if (requirement === job || (requirement._bits & LISTED) !== 0) return false;
      requirement._bits |= LISTED;
    }
    return true;
  } finally {
    for (let k = 0; k < marked; k++) requirements[k]!._bits &= ~LISTED;
  }
}

/**
 * Adds several requirements to `job`. The usual case, a job given its
 * distinct requirements at once, takes one exact-size array, however many
 * (see the module's comment); anything else goes one by one.
 */
export function addRequirements(job: AbstractJob, requirements: readonly AbstractJob[]): void {
  if (job._required === undefined && distinctOthers(job, requirements)) {
    changed(job);
    if (requirements.length > 0) {
      job._required = requirements.length === 1 ? requirements[0] : requirements.slice();
    }
    return;
  }
  if (job._required === undefined && requirements.length > REQUIREMENTS_IN_ARRAY) {
    // Many at once with repeats (or the job itself): one Set made from the
    // list, rather than an add() per requirement through arrays of growing size.
    const set = new Set(requirements);
    set.delete(job);
    changed(job);
    if (set.size > 0) job._required = set;
    return;
  }
  // By index: no iterator result per requirement in code still cold.
  for (let k = 0; k < requirements.length; k++) addRequirement(job, requirements[k]!);
}

/** Whether `job` requires `requirement`. */
export function hasRequirement(job: AbstractJob, requirement: AbstractJob): boolean {
  // A fan-in job asking for each of its requirements' results would walk
  // its array once per question.
  if (isLongArray(job._required)) job._required = new Set(job._required);
  const required = job._required;
  if (required === undefined) return false;
  if (required instanceof Set) return required.has(requirement);
  if (Array.isArray(required)) return required.includes(requirement);
  return required === requirement;
}

/** Drops `requirement` from `job`'s requirements, if it is there. */
export function dropRequirement(job: AbstractJob, requirement: AbstractJob): void {
  if (job._required === undefined) return;
  changed(job);
  // Dropping many, one at a time, would copy a long array each time.
  if (isLongArray(job._required)) job._required = new Set(job._required);
  const required = job._required;
  if (required instanceof Set) {
    required.delete(requirement);
  } else if (Array.isArray(required)) {
    const kept = required.filter((other) => other !== requirement);
    job._required = kept.length === 0 ? undefined : kept.length === 1 ? kept[0] : kept;
  } else if (required === requirement) {
    job._required = undefined;
  }
}

/** How many jobs `job` requires. */
export function requirementCount(job: AbstractJob): number {
  const required = job._required;
  if (required === undefined) return 0;
  if (required instanceof Set) return required.size;
  return Array.isArray(required) ? required.length : 1;
}

/**
 * The requirements of `job` as an array to read (not to keep: it may be the
 * storage itself). Allocates only for a single requirement or a Set.
 */
export function requirementsOf(job: AbstractJob): readonly AbstractJob[] {
  const required = job._required;
  if (required === undefined) return NONE;
  if (required instanceof Set) return [...required];
  return Array.isArray(required) ? required : [required];
}

/** The requirements of `job` as a live Set, which becomes their storage from now on. */
export function requirementSet(job: AbstractJob): Set<AbstractJob> {
  const required = job._required;
  if (required instanceof Set) return required;
  const set = new Set(requirementsOf(job));
  job._required = set;
  return set;
}

/**
 * Calls `visit` with each requirement of `job`, allocating nothing (neither
 * an array for a single requirement nor iterator results, which matter in
 * the loops that run once per run, before the optimiser steps in).
 */
export function forEachRequirement(
  job: AbstractJob,
  visit: (requirement: AbstractJob) => void,
): void {
  const required = job._required;
  if (required === undefined) return;
  if (required instanceof Set) {
    required.forEach(visit);
  } else if (Array.isArray(required)) {
    for (let k = 0; k < required.length; k++) visit(required[k]!);
  } else {
    visit(required);
  }
}
