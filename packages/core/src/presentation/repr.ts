/**
 * The textual pieces a job is shown with in listings: badge, main part,
 * result and requirements. Pure functions of the job's state, so that jobs,
 * listings, verbose lines and graphs all say the same thing.
 */
import type { AbstractJob } from "../jobs/abstract-job.js";
import { DONE, RUNNING, SCHEDULED, SKIPPED } from "../jobs/state.js";
import { ensureIds } from "./numbering.js";
import { type BadgeSymbols, currentSymbols } from "./symbols.js";

/** The text label: `label`, else `textLabel()`, else `NOLABEL`. */
export function resolvedTextLabel(job: AbstractJob): string {
  return job.label ?? job.textLabel() ?? "NOLABEL";
}

/** The graph label: `graphLabel()`, else `<id>: <text label>`. */
export function resolvedGraphLabel(job: AbstractJob): string {
  return job.graphLabel() ?? `${job.reprId()}: ${resolvedTextLabel(job)}`;
}

/** Spaces as wide as `symbol`, for a badge position that has nothing to show. */
function blank(symbol: string): string {
  return " ".repeat(symbol.length);
}

/**
 * The four-symbol badge: critical, outcome, lifecycle (idle, scheduled,
 * running, done, and beyond the original skipped and cancelled), forever,
 * separated by spaces (7 characters in Unicode, 8 in ASCII where the outcome takes 2).
 */
export function reprShort(job: AbstractJob, symbols: BadgeSymbols = currentSymbols()): string {
  const critical = job.critical ? symbols.critical : blank(symbols.critical);
  // An exception only counts once the job is done: that is when it is known.
  let outcome = blank(symbols.raised);
  if (job._state === DONE && job._raised) outcome = symbols.raised;
  else if (job._state >= RUNNING) outcome = symbols.fine;
  let lifecycle = symbols.idle;
  if (job._state === DONE) lifecycle = symbols.done;
  // A cancelled job stays running, never done: the badge tells it apart.
  else if (job._state === RUNNING)
    lifecycle = job.isCancelled() ? symbols.cancelled : symbols.running;
  else if (job._state === SCHEDULED) lifecycle = symbols.scheduled;
  else if (job._state === SKIPPED) lifecycle = symbols.skipped;
  const forever = job.forever ? symbols.forever : blank(symbols.forever);
  return `${critical} ${outcome} ${lifecycle} ${forever}`;
}

/** `<ClassName \`label\`>` */
export function reprMain(job: AbstractJob): string {
  return `<${job.constructor.name} \`${resolvedTextLabel(job)}\`>`;
}

/**
 * A value as `[[ -> value]]` shows it: strings as they are, objects as JSON
 * when they have a JSON form (else their `String()`), the rest as `String()`.
 */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || typeof value !== "object") return String(value);
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // Cycles and BigInts have no JSON form: fall back to String() below.
  }
  return String(value);
}

/** `Name:message` for an object (by its constructor's name), `typeof:value` for a thrown primitive. */
export function formatException(error: unknown): string {
  if (error !== null && typeof error === "object") {
    const name = (error as { constructor?: { name?: string } }).constructor?.name || "Object";
    const message = (error as { message?: unknown }).message;
    return `${name}:${message === undefined ? formatValue(error) : String(message)}`;
  }
  return `${typeof error}:${String(error)}`;
}

/** `[not done]`, `[[ -> value]]`, `!! CRIT. EXC. => Name:message!!` or `!! exception => …!!`. */
export function reprResult(job: AbstractJob): string {
  if (job._state !== DONE) return "[not done]";
  if (job._raised) {
    const kind = job.critical ? "CRIT. EXC." : "exception";
    return `!! ${kind} => ${formatException(job._outcome)}!!`;
  }
  return `[[ -> ${formatValue(job._outcome)}]]`;
}

/** `{01, 02}`: ids sorted (they are zero-padded, so this is numeric order); `{}` for none. */
export function idSet(jobs: Iterable<AbstractJob>): string {
  return `{${[...jobs]
    .map((job) => job.reprId())
    .sort()
    .join(", ")}}`;
}

/** `requires={01, 02}`, or an empty string when the job requires nothing. */
export function reprRequires(job: AbstractJob): string {
  if (job.required.size === 0) return "";
  for (const required of job.required) ensureIds(required);
  return `requires=${idSet(job.required)}`;
}

/** Joins the non-empty parts with single spaces, so that a missing part leaves no double space. */
export function joinParts(...parts: string[]): string {
  return parts.filter((part) => part !== "").join(" ");
}

/** A job as `toString()` shows it: `reprShort reprMain reprResult reprRequires`. */
export function reprJob(job: AbstractJob): string {
  return joinParts(job.reprShort(), job.reprMain(), job.reprResult(), job.reprRequires());
}
