/**
 * Sequences: a shorthand for chaining jobs, each requiring the one before.
 */

import type { PureScheduler } from "../engine/pure-scheduler.js";
import { describeValue } from "../util/describe.js";
import { rejectUnknownOptions, splitTrailingOptions } from "../util/options.js";
import { AbstractJob, isScheduler, type Requirement } from "./abstract-job.js";
import { SEQUENCE_BRAND } from "./brands.js";

/** Options of {@link Sequence}. */
export interface SequenceOptions {
  /** Requirements of the first job of the sequence. */
  required?: Requirement;
  /** A scheduler to add every job of the sequence to. */
  scheduler?: PureScheduler | null;
}

const SEQUENCE_OPTION_NAMES: ReadonlySet<string> = new Set(["required", "scheduler"]);

/**
 * Jobs chained in order: each requires the one before it. A sequence goes
 * wherever a job goes: in a scheduler (its jobs are added), as a requirement
 * (it stands for its last job), with requirements (given to its first job).
 *
 * @example
 * ```ts
 * new Scheduler(new Sequence(fetch, parse, store));
 * ```
 */
export class Sequence {
  /** @internal */ readonly [SEQUENCE_BRAND] = true;
  /** The jobs, in order. */
  readonly jobs: AbstractJob[] = [];
  /** Requirements given before any job was appended, applied to the first job. */
  #pendingRequirements: Requirement[] = [];
  readonly #scheduler: PureScheduler | undefined;

  constructor(
    ...jobsThenOptions:
      | [...(AbstractJob | Sequence | null | undefined)[], SequenceOptions]
      | (AbstractJob | Sequence | null | undefined)[]
  ) {
    const { items, options } = splitTrailingOptions<SequenceOptions>(jobsThenOptions);
    rejectUnknownOptions("Sequence()", options, SEQUENCE_OPTION_NAMES);
    const scheduler = options.scheduler ?? undefined;
    if (scheduler !== undefined && !isScheduler(scheduler)) {
      throw new TypeError(
        `Sequence(): option "scheduler" must be a PureScheduler or a Scheduler, got ${describeValue(scheduler)}`,
      );
    }
    const jobs = collectJobs("Sequence()", items);
    // Requirements are checked before anything is added or chained, so that
    // a bad one changes nothing; wrapped in an array, a plain object among
    // them is refused instead of being read as requires()'s options.
    const required = options.required;
    if (required !== undefined && required !== null) new RequirementProbe().requires([required]);
    this.#scheduler = scheduler;
    this.#chain(jobs);
    if (required !== undefined && required !== null) this.requires([required]);
  }

  /**
   * Appends jobs or sequences at the end, each chained after the one before:
   * `append(a, b)` is `append(a)` then `append(b)`.
   */
  append(...jobsOrSequences: (AbstractJob | Sequence)[]): this {
    this.#chain(collectJobs("Sequence.append()", jobsOrSequences));
    return this;
  }

  /** Adds requirements to the first job of the sequence. */
  requires(...requirements: Requirement[]): this {
    const first = this.jobs[0];
    if (first) {
      first.requires(...requirements);
    } else {
      // Validate now, apply when a first job arrives.
      new RequirementProbe().requires(...requirements);
      this.#pendingRequirements.push(...requirements);
    }
    return this;
  }

  #chain(jobs: AbstractJob[]): void {
    if (this.#scheduler) {
      this.#scheduler.update(jobs);
    }
    for (const job of jobs) {
      const previous = this.jobs[this.jobs.length - 1];
      if (previous) {
        // requires() adds it once; reading job.required would turn the
        // job's compact storage into a Set for nothing.
        job.requires(previous);
      } else if (this.#pendingRequirements.length > 0) {
        job.requires(...this.#pendingRequirements);
        this.#pendingRequirements = [];
      }
      this.jobs.push(job);
    }
  }
}

/** Flattens jobs and sequences, in order, validating each (nothing applied on error). */
function collectJobs(where: string, items: readonly unknown[]): AbstractJob[] {
  const jobs: AbstractJob[] = [];
  items.forEach((item, index) => {
    if (item === null || item === undefined) return;
    if (item instanceof AbstractJob) {
      jobs.push(item);
    } else if (item instanceof Sequence) {
      jobs.push(...item.jobs);
    } else {
      throw new TypeError(
        `${where}: argument ${index + 1} must be a job or a Sequence, got ${describeValue(item)}`,
      );
    }
  });
  return jobs;
}

/** A throwaway job used only to validate requirements given to an empty sequence. */
class RequirementProbe extends AbstractJob<void> {
  override async run(): Promise<void> {}
}
