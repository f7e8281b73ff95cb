/**
 * The textual pieces a job is shown with in listings: badge, main part,
 * result and requirements. Pure functions of the job's public state.
 */
import type { AbstractJob } from "../jobs/abstract-job.js";
import { DONE, IDLE, RUNNING, SCHEDULED } from "../jobs/state.js";
import { type BadgeSymbols, currentSymbols } from "./symbols.js";

/** The text label: `label`, else `textLabel()`, else `NOLABEL`. */
export function resolvedTextLabel(job: AbstractJob): string {
  return job.label ?? job.textLabel() ?? "NOLABEL";
}

/** The graph label: `graphLabel()`, else `<id>: <text label>`. */
export function resolvedGraphLabel(job: AbstractJob): string {
  return job.graphLabel() ?? `${job.reprId()}: ${resolvedTextLabel(job)}`;
}

/** The four-symbol badge: critical, outcome, lifecycle, forever. */
export function reprShort(job: AbstractJob, symbols: BadgeSymbols = currentSymbols()): string {
  const critical = job.critical ? symbols.critical : symbols.blank.repeat(symbols.critical.length);
  const outcomeWidth = symbols.raised.length;
  let outcome = symbols.blank.repeat(outcomeWidth);
  if (job._state === DONE && job._raised) outcome = symbols.raised;
  else if (job._state >= RUNNING) outcome = symbols.fine;
  let lifecycle = symbols.idle;
  if (job._state === DONE) lifecycle = symbols.done;
  else if (job._state === RUNNING) lifecycle = symbols.running;
  else if (job._state === SCHEDULED) lifecycle = symbols.scheduled;
  else if (job._state === IDLE) lifecycle = symbols.idle;
  const forever = job.forever ? symbols.forever : symbols.blank.repeat(symbols.forever.length);
  return `${critical} ${outcome} ${lifecycle} ${forever}`;
}

/** `<ClassName \`label\`>` */
export function reprMain(job: AbstractJob): string {
  return `<${job.constructor.name} \`${resolvedTextLabel(job)}\`>`;
}

/** A short text for a result value in `[[ -> value]]`. */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || typeof value !== "object") return String(value);
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // Cycles and the like: fall back to the default text.
  }
  return String(value);
}

/** `Name:message` for an Error-like object, `typeof:value` for a thrown primitive. */
export function formatException(error: unknown): string {
  if (error !== null && typeof error === "object") {
    const name = (error as { constructor?: { name?: string } }).constructor?.name ?? "Object";
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

/** `requires={01, 02}` (ids sorted), or an empty string. */
export function reprRequires(job: AbstractJob): string {
  if (job.required.size === 0) return "";
  const ids = [...job.required].map((required) => required.reprId()).sort();
  return `requires={${ids.join(", ")}}`;
}
