/**
 * Run journals: what a run records as it goes (so that a later run can pick
 * up where it stopped), and the resume that reads it back.
 *
 * Everything here happens only when `run()` is given a `journal`: a run
 * without one pays one property read. The journal hooks into a run from the
 * outside, the way verbose output and traces do: listeners on the
 * scheduler's events, and, for the jobs of the run, an own `_invoke` on the
 * job object for the run's duration (taken off when it ends). That wrapper
 * records a job's success before the job settles, so before the scheduler
 * can start any of its dependents, and awaits the record if the journal
 * answers with a promise: an asynchronous store is as safe as a synchronous
 * one, at the price of its own latency.
 */
import { type AbstractJob, isScheduler, nameOf } from "../jobs/abstract-job.js";
import type { RunContext } from "../jobs/context.js";
import { clearMark, journalKey, markResumed } from "../jobs/journal-marks.js";
import { forEachRequirement } from "../jobs/requirements.js";
import { describeValue } from "../util/describe.js";

/** The version of the records' format; see docs/journal.md. */
export const JOURNAL_FORMAT_VERSION = 1;

/** How a job ended in a run, as a journal records it. */
export type JournalOutcome = "done" | "resumed" | "failed" | "cancelled" | "skipped";

/** A job as the start of a run describes it, in topological order. */
export interface JournalJobInfo {
  /** The job's key (its `key` option, else its label). */
  readonly key: string;
  /** Its text label, for listings. */
  readonly label: string;
  /** The key of the nested scheduler it belongs to, if not the top one. */
  readonly group?: string;
  /** Present (true) when the job is a nested scheduler: its jobs follow, with it as their group. */
  readonly scheduler?: true;
  /** Whether its failure stops the run. */
  readonly critical: boolean;
  /** Whether it runs until the others are done (a service). */
  readonly forever: boolean;
  /** The keys of the jobs it requires. */
  readonly requires: readonly string[];
  /** The fingerprint of its definition (see `jobFingerprints()`). */
  readonly fingerprint: string;
  /** Whether this run keeps its result from the journal instead of running it. */
  readonly resumed: boolean;
}

/** The first record of a run. */
export interface RunStartRecord {
  /** What the record is. */
  readonly type: "run-start";
  /** Always {@link JOURNAL_FORMAT_VERSION} for the records this version writes. */
  readonly v: number;
  /** Wall-clock time, in milliseconds since the epoch. */
  readonly time: number;
  /** The label of the scheduler run. */
  readonly label: string;
  /** Whether the run was asked to resume (whether or not a previous run was found). */
  readonly resume: boolean;
  /** Every job of the run (nested ones included), in topological order. */
  readonly jobs: readonly JournalJobInfo[];
}

/** A job started (not written for a resumed job). */
export interface JobStartRecord {
  /** What the record is. */
  readonly type: "job-start";
  /** Wall-clock time, in milliseconds since the epoch. */
  readonly time: number;
  /** The job's key. */
  readonly key: string;
  /** The attempt, from 1 (more after retries). */
  readonly attempt: number;
}

/** A job ended, or was resumed, cancelled or skipped. */
export interface JobEndRecord {
  /** What the record is. */
  readonly type: "job-end";
  /** Wall-clock time, in milliseconds since the epoch. */
  readonly time: number;
  /** The job's key. */
  readonly key: string;
  /** How the job ended. */
  readonly outcome: JournalOutcome;
  /** The fingerprint of the job's definition in this run. */
  readonly fingerprint: string;
  /**
   * For `done` and `resumed`: the job's result, when it has a JSON form.
   * Absent when the result is `undefined`.
   */
  readonly result?: unknown;
  /** True when the result had no JSON form: a later resume runs the job again. */
  readonly unrecorded?: true;
  /** For `failed`: `Name: message` of what the job threw. */
  readonly error?: string;
  /** For `failed`: the last lines of the job's output, when the caller knows them. */
  readonly tail?: readonly string[];
}

/** The last record of a run that ended (a run killed outright has none). */
export interface RunEndRecord {
  /** What the record is. */
  readonly type: "run-end";
  /** Wall-clock time, in milliseconds since the epoch. */
  readonly time: number;
  /** Whether the run succeeded (what `run()` resolved with). */
  readonly ok: boolean;
  /** `fine`, `timeout`, `critical` or `aborted`. */
  readonly status: string;
  /** The scheduler's `why()`. */
  readonly why: string;
}

/** One line of a journal. */
export type JournalRecord = RunStartRecord | JobStartRecord | JobEndRecord | RunEndRecord;

/** What a journal remembers of a job from the last run. */
export interface RecordedJob {
  /** The fingerprint of the job's definition then. */
  readonly fingerprint: string;
  /** How it ended; only `done` and `resumed` can be resumed. */
  readonly outcome: JournalOutcome;
  /** Its result, if recorded. */
  readonly result?: unknown;
  /** True when its result could not be recorded. */
  readonly unrecorded?: true;
}

/**
 * Where a run records its events, and where a resumed run reads the last
 * run's outcomes. `@asyncjobs/node` has `FileJournal`, one JSON-lines file
 * per run; anything else (a database, a remote store) implements these two
 * or three methods.
 *
 * Both `load` and `record` may answer with a promise, which the run awaits:
 * `record` of a job's success before the job's dependents may start, other
 * records before the run resolves. A synchronous `record` costs the run no
 * extra wait.
 */
export interface RunJournal {
  /**
   * The outcomes of the jobs in the last run, by key; `undefined` when there
   * was no run before. Called once, before a run with `resume: true`.
   */
  load():
    | ReadonlyMap<string, RecordedJob>
    | undefined
    | Promise<ReadonlyMap<string, RecordedJob> | undefined>;
  /** Appends one record; must be durable when it returns (or its promise resolves). */
  record(record: JournalRecord): void | Promise<void>;
  /** Called once the run has ended and its last record is written. */
  close?(): void | Promise<void>;
}

// ---- fingerprints -----------------------------------------------------

/**
 * JSON with sorted keys, functions as their source text, RegExps as their
 * text, undefined left out: the same definition always gives the same text.
 */
function stableText(value: unknown, seen: Set<object> = new Set()): string {
  if (value === undefined) return "null";
  if (typeof value === "function") return JSON.stringify(`fn:${String(value)}`);
  if (typeof value === "bigint") return JSON.stringify(`big:${value}`);
  if (typeof value === "symbol") return JSON.stringify(String(value));
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (value instanceof RegExp) return JSON.stringify(`re:${String(value)}`);
  if (seen.has(value)) return '"cycle"';
  seen.add(value);
  let text: string;
  if (Array.isArray(value)) {
    text = `[${value.map((item) => stableText(item, seen)).join(",")}]`;
  } else {
    const record = value as Record<string, unknown>;
    const fields = Object.keys(record)
      .filter((name) => record[name] !== undefined)
      .sort()
      .map((name) => `${JSON.stringify(name)}:${stableText(record[name], seen)}`);
    text = `{${fields.join(",")}}`;
  }
  seen.delete(value);
  return text;
}

/**
 * A 64-bit hash of a text, as 16 hex digits (two 32-bit FNV-1a variants):
 * not cryptographic, which it need not be to tell a changed definition, and
 * with no dependency, so that the core runs anywhere.
 */
export function hashText(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let k = 0; k < text.length; k++) {
    const code = text.charCodeAt(k);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

/** What defines a job for its fingerprint: its class, its own definition, retry and timeout. */
function ownDefinition(job: AbstractJob): string {
  const extras = job._extras;
  return stableText({
    class: job.constructor.name,
    key: journalKey(job),
    definition: job.definition(),
    retry: extras?.retry,
    timeout: extras?.timeout ?? undefined,
  });
}

/**
 * The fingerprint of every job of `scheduler` (nested ones included): a
 * hash of what defines the job ({@link AbstractJob.definition}, its class,
 * key, retry and timeout), of its requirements' fingerprints, and of those
 * of the requirements of the nested schedulers it is in; so that a changed
 * job changes the fingerprint of everything downstream of it.
 */
export function jobFingerprints(scheduler: {
  iterateJobs(options: { scanSchedulers: boolean }): Iterable<AbstractJob>;
}): Map<AbstractJob, string> {
  const done = new Map<AbstractJob, string>();
  const busy = new Set<AbstractJob>();
  const of = (job: AbstractJob): string => {
    const known = done.get(job);
    if (known !== undefined) return known;
    // A cycle: the run will refuse the graph; any text will do meanwhile.
    if (busy.has(job)) return "cycle";
    busy.add(job);
    const upstream: string[] = [];
    forEachRequirement(job, (requirement) => {
      upstream.push(of(requirement));
    });
    upstream.sort();
    const owner = job._owner;
    // A nested scheduler's requirements are every one of its jobs' too.
    const context = owner !== undefined && owner !== scheduler && isJob(owner) ? of(owner) : "";
    const print = hashText(`${ownDefinition(job)}|${upstream.join(",")}|${context}`);
    busy.delete(job);
    done.set(job, print);
    return print;
  };
  for (const job of scheduler.iterateJobs({ scanSchedulers: true })) of(job);
  return done;
}

function isJob(value: unknown): value is AbstractJob {
  return isScheduler(value) && "_bits" in (value as object);
}

// ---- results ----------------------------------------------------------

/** The result to record, or `unrecorded` when it has no faithful JSON form. */
function recordable(value: unknown): { result?: unknown; unrecorded?: true } {
  if (value === undefined) return {};
  const kind = typeof value;
  if (kind === "function" || kind === "symbol" || kind === "bigint") return { unrecorded: true };
  if (kind === "number" && !Number.isFinite(value as number)) return { unrecorded: true };
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return { unrecorded: true };
    return { result: JSON.parse(text) as unknown };
  } catch {
    return { unrecorded: true };
  }
}

/** `Name: message` of anything a job threw. */
function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (error !== null && typeof error === "object" && "message" in error) {
    return `${String((error as { name?: unknown }).name ?? "Error")}: ${String((error as { message: unknown }).message)}`;
  }
  return `${typeof error}: ${String(error)}`;
}

// ---- the journaled run ------------------------------------------------

/** The scheduler half a journaled run needs (PureScheduler, kept abstract to avoid a cycle). */
export interface JournaledScheduler {
  iterateJobs(options: { scanSchedulers: boolean }): Iterable<AbstractJob>;
  topologicalOrder(): Iterable<AbstractJob>;
  readonly events: EventTarget;
  label?: string | undefined;
  why(): string;
  _status: string;
  _owner: unknown;
}

/** Checks a `journal` option: an object with `load` and `record` methods. */
export function checkJournal(where: string, value: unknown): RunJournal | undefined {
  if (value === undefined || value === null) return undefined;
  const journal = value as Partial<RunJournal>;
  if (
    typeof value !== "object" ||
    typeof journal.record !== "function" ||
    typeof journal.load !== "function" ||
    (journal.close !== undefined && typeof journal.close !== "function")
  ) {
    throw new TypeError(
      `${where}: option "journal" must be an object with load() and record() methods (a RunJournal, such as FileJournal of @asyncjobs/node), got ${describeValue(value)}`,
    );
  }
  return value as RunJournal;
}

/** Every job of the run in topological order, nested ones after their scheduler. */
function orderedJobs(scheduler: JournaledScheduler): AbstractJob[] {
  const out: AbstractJob[] = [];
  const walk = (current: JournaledScheduler): void => {
    for (const job of current.topologicalOrder()) {
      out.push(job);
      if (isScheduler(job)) walk(job as unknown as JournaledScheduler);
    }
  };
  walk(scheduler);
  return out;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

type Invoke = (context: RunContext) => unknown;

/**
 * Runs `scheduler` through `orchestrate` with `journal` recording it, and
 * with `resume`, the jobs that succeeded last time unchanged keep their
 * results instead of running. Throws before anything runs (and before
 * anything is recorded) on a job without a key, two jobs with one key, or a
 * graph the run would refuse.
 */
export async function runJournaled(
  scheduler: JournaledScheduler,
  journal: RunJournal,
  resume: boolean,
  where: string,
  orchestrate: () => Promise<boolean>,
): Promise<boolean> {
  // The order validates the graph (a cycle throws, naming it) before keys do.
  const jobs = orderedJobs(scheduler);
  const byKey = new Map<string, AbstractJob>();
  const keyOf = new Map<AbstractJob, string>();
  for (const job of jobs) {
    const key = journalKey(job);
    if (key === undefined) {
      if (isScheduler(job)) continue;
      throw new Error(
        `${where}: job ${nameOf(job)} has neither a key nor a label, so a journal cannot tell it from the others; give it one (option "key")`,
      );
    }
    const other = byKey.get(key);
    if (other !== undefined) {
      throw new Error(
        `${where}: jobs ${nameOf(other)} and ${nameOf(job)} have the same key "${key}"; a journal needs a key per job (option "key")`,
      );
    }
    byKey.set(key, job);
    keyOf.set(job, key);
  }
  const prints = jobFingerprints(scheduler);
  const recorded = resume ? await journal.load() : undefined;
  const kept = new Map<AbstractJob, RecordedJob>();
  if (recorded !== undefined) {
    for (const job of jobs) {
      if (isScheduler(job) || job.forever) continue;
      const before = recorded.get(keyOf.get(job)!);
      if (
        before !== undefined &&
        (before.outcome === "done" || before.outcome === "resumed") &&
        before.unrecorded !== true &&
        before.fingerprint === prints.get(job)
      ) {
        kept.set(job, before);
      }
    }
  }
  // Marks of an earlier run go; this run's are set before anything starts,
  // so that views see them from the first event.
  for (const job of jobs) clearMark(job);
  for (const job of kept.keys()) markResumed(job);

  // Promises of records not awaited on the spot, awaited before the run resolves.
  const waiting: Promise<unknown>[] = [];
  let failure: unknown;
  let closed = false;
  const note = (record: JournalRecord): void => {
    if (closed) return;
    let answer: unknown;
    try {
      answer = journal.record(record);
    } catch (error) {
      failure ??= error;
      return;
    }
    if (isThenable(answer)) {
      waiting.push(
        Promise.resolve(answer).catch((error: unknown) => {
          failure ??= error;
        }),
      );
    }
  };

  await journal.record({
    type: "run-start",
    v: JOURNAL_FORMAT_VERSION,
    time: Date.now(),
    label: scheduler.label ?? "scheduler",
    resume,
    jobs: jobs
      .filter((job) => keyOf.has(job))
      .map((job) => {
        const owner = job._owner as AbstractJob | undefined;
        const group =
          owner !== undefined && (owner as unknown) !== scheduler ? keyOf.get(owner) : undefined;
        const requires: string[] = [];
        forEachRequirement(job, (requirement) => {
          const key = keyOf.get(requirement);
          if (key !== undefined) requires.push(key);
        });
        return {
          key: keyOf.get(job)!,
          label: job.label ?? job.textLabel() ?? "NOLABEL",
          ...(group === undefined ? {} : { group }),
          ...(isScheduler(job) ? { scheduler: true as const } : {}),
          critical: job.critical,
          forever: job.forever,
          requires,
          fingerprint: prints.get(job)!,
          resumed: kept.has(job),
        };
      }),
  });
  // The kept results go in the journal at once, so that a run stopped early
  // still hands them on to the next resume.
  for (const [job, before] of kept) {
    await journal.record({
      type: "job-end",
      time: Date.now(),
      key: keyOf.get(job)!,
      outcome: "resumed",
      fingerprint: prints.get(job)!,
      ...(before.result === undefined ? {} : { result: before.result }),
    });
  }

  const wrapped: AbstractJob[] = [];
  for (const job of jobs) {
    if (isScheduler(job)) continue;
    const key = keyOf.get(job)!;
    const fingerprint = prints.get(job)!;
    const own = job as unknown as { _invoke: Invoke };
    const before = kept.get(job);
    if (before !== undefined) {
      own._invoke = () => before.result;
    } else {
      const original = own._invoke;
      own._invoke = (context: RunContext): unknown => {
        note({ type: "job-start", time: Date.now(), key, attempt: context._attempt });
        // A failure (thrown or rejected) is recorded from the scheduler's event.
        const outcome = original.call(job, context);
        const succeeded = (value: unknown): unknown => {
          // A cancelled or timed-out job's late value is not its outcome.
          if (closed || context._aborted) return value;
          const answer = journal.record({
            type: "job-end",
            time: Date.now(),
            key,
            outcome: "done",
            fingerprint,
            ...recordable(value),
          });
          // Awaited before the job settles: its dependents start only once
          // its success is in the journal.
          return isThenable(answer) ? Promise.resolve(answer).then(() => value) : value;
        };
        return isThenable(outcome) ? Promise.resolve(outcome).then(succeeded) : succeeded(outcome);
      };
    }
    wrapped.push(job);
  }

  const ended = (outcome: JournalOutcome) => (event: Event) => {
    const job = (event as Event & { job: AbstractJob }).job;
    const key = keyOf.get(job);
    if (key === undefined || isScheduler(job)) return;
    const error = outcome === "failed" ? (event as Event & { error: unknown }).error : undefined;
    note({
      type: "job-end",
      time: Date.now(),
      key,
      outcome,
      fingerprint: prints.get(job)!,
      ...(outcome === "failed" ? { error: errorText(error) } : {}),
    });
  };
  const listeners: [string, (event: Event) => void][] = [
    ["job:failed", ended("failed")],
    ["job:cancelled", ended("cancelled")],
    ["job:skipped", ended("skipped")],
  ];
  for (const [type, listener] of listeners) scheduler.events.addEventListener(type, listener);

  let ok = false;
  let thrown: { error: unknown } | undefined;
  try {
    ok = await orchestrate();
  } catch (error) {
    thrown = { error };
  } finally {
    for (const [type, listener] of listeners) scheduler.events.removeEventListener(type, listener);
    for (const job of wrapped) delete (job as unknown as { _invoke?: Invoke })._invoke;
  }
  await Promise.all(waiting);
  note({
    type: "run-end",
    time: Date.now(),
    ok: thrown === undefined && ok,
    status: scheduler._status,
    why: scheduler.why(),
  });
  closed = true;
  await Promise.all(waiting);
  await journal.close?.();
  if (thrown !== undefined) throw thrown.error;
  if (failure !== undefined) throw failure;
  return ok;
}
