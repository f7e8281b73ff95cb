/**
 * dotFormat(): the scheduler as a Graphviz DOT graph, in the original's
 * structure: `digraph asynciojobs{ compound=true; graph [...]; ... }`, a box
 * per job (rounded for jobs, square for schedulers, thick and red when
 * critical, dashed when forever), a `cluster_` subgraph per nested
 * scheduler, and edges to or from a nested scheduler drawn through the
 * middle one of its entry (or exit) jobs, clipped at the cluster's border
 * with `lhead` / `ltail`.
 */

import type { PureScheduler } from "../engine/pure-scheduler.js";
import { type AbstractJob, isScheduler } from "../jobs/abstract-job.js";
import { describeValue, isPlainObject } from "../util/describe.js";
import { checkBoolean, rejectUnknownOptions } from "../util/options.js";
import { numberJobs, orderedJobs } from "./numbering.js";
import { resolvedGraphLabel } from "./repr.js";
import { STATUS_COLOURS, statusLine, statusOf } from "./status.js";

/** Options of `dotFormat()` and `mermaidFormat()`. */
export interface DotFormatOptions {
  /**
   * Paint each job by its lifecycle and outcome (idle, scheduled, running,
   * cancelled, done, raised) and add that to its label, so that a run, and
   * a failed one in particular, can be looked at as a picture.
   */
  status?: boolean;
}

/**
 * The font graphs are laid out for. Graphviz knows its metrics, and the PNG
 * export renders with this very font, so labels fit their boxes; in SVG
 * viewers the text falls back to a font of similar width (see render.ts).
 */
export const GRAPH_FONT = "DejaVu Sans";

const FORMAT_OPTION_NAMES: ReadonlySet<string> = new Set(["status"]);

/** Reads the options of a graph format, naming `where` in errors. */
export function statusOption(where: string, options: DotFormatOptions | undefined): boolean {
  if (options === undefined || options === null) return false;
  if (!isPlainObject(options)) {
    throw new TypeError(`${where}: options must be a plain object, got ${describeValue(options)}`);
  }
  rejectUnknownOptions(where, options, FORMAT_OPTION_NAMES);
  return checkBoolean(where, "status", options.status, false);
}

/**
 * Quotes `text` as a DOT string. Backslashes and quotes are escaped, line
 * breaks become DOT's `\n` (a centred line break in labels) and other
 * control characters spaces, so any text yields valid DOT.
 */
export function dotString(text: string): string {
  const escaped = text
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, "\\n")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point.
    .replace(/[\u0000-\u001f\u007f]/g, " ");
  return `"${escaped}"`;
}

/** A DOT id: bare when it is a plain identifier, quoted otherwise. */
function dotId(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : dotString(name);
}

/** `key="value", key=2`: numbers bare, everything else quoted. */
function attributes(style: Readonly<Record<string, unknown>>): string {
  return Object.entries(style)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => {
      const text = typeof value === "number" ? String(value) : dotString(String(value));
      return `${dotId(key)}=${text}`;
    })
    .join(", ");
}

/** The node name of a job: its id, quoted (ids are numbers, which DOT would otherwise read as such). */
function nodeName(job: AbstractJob): string {
  return dotString(job.reprId());
}

/** The name of the subgraph drawing a nested scheduler; DOT wants clusters to start with `cluster_`. */
function clusterName(scheduler: PureScheduler): string {
  const named = (scheduler as { dotClusterName?: () => string }).dotClusterName;
  if (typeof named === "function") return named.call(scheduler);
  return `cluster_${(scheduler as unknown as AbstractJob).reprId()}`;
}

/** The node shown in an empty nested scheduler, so that its cluster is drawn and edges have an end. */
function placeholderName(scheduler: PureScheduler): string {
  return dotString(`${(scheduler as unknown as AbstractJob).reprId()}.empty`);
}

function middle<T>(items: readonly T[]): T | undefined {
  return items[Math.floor((items.length - 1) / 2)];
}

function byId(jobs: Iterable<AbstractJob>): AbstractJob[] {
  return [...jobs].sort((a, b) => a.reprId().localeCompare(b.reprId()));
}

/**
 * The node an edge into a nested scheduler points at: the middle of its
 * entry jobs (which looks best when the edge is clipped at the cluster),
 * looking further in when that entry is itself a scheduler.
 */
function entryAnchor(scheduler: PureScheduler): string {
  const entry = middle(byId(scheduler.entryJobs()));
  if (entry === undefined) return placeholderName(scheduler);
  return isScheduler(entry) ? entryAnchor(entry) : nodeName(entry);
}

/** Likewise for edges out of a nested scheduler: the middle of its exit jobs. */
function exitAnchor(scheduler: PureScheduler): string {
  let exits = byId(scheduler.exitJobs());
  // A scheduler made only of forever jobs still has to let edges out.
  if (exits.length === 0) exits = byId(scheduler.exitJobs({ discardForever: false }));
  const exit = middle(exits);
  if (exit === undefined) return placeholderName(scheduler);
  return isScheduler(exit) ? exitAnchor(exit) : nodeName(exit);
}

/** The attributes of a job's box, or of a nested scheduler's cluster. */
function styleOf(job: AbstractJob, status: boolean): Record<string, unknown> {
  const style: Record<string, unknown> = { label: resolvedGraphLabel(job), ...job.dotStyle() };
  if (status) {
    style.label = `${String(style.label)}\n${statusLine(job)}`;
    const current = typeof style.style === "string" ? style.style : "";
    style.style = current === "" ? "filled" : `${current},filled`;
    style.fillcolor = STATUS_COLOURS[statusOf(job)];
    // A skipped job never ran: drawn dotted, whatever else its box says.
    if (job.isSkipped()) style.style = `${String(style.style)},dotted`;
  }
  return style;
}

function edgeLine(from: AbstractJob, to: AbstractJob): string {
  const tail = isScheduler(from) ? exitAnchor(from) : nodeName(from);
  const head = isScheduler(to) ? entryAnchor(to) : nodeName(to);
  const clip: Record<string, unknown> = {};
  if (isScheduler(to)) clip.lhead = clusterName(to);
  if (isScheduler(from)) clip.ltail = clusterName(from);
  const attrs = attributes(clip);
  return `${tail} -> ${head}${attrs === "" ? "" : ` [${attrs}]`};`;
}

function body(scheduler: PureScheduler, indent: string, status: boolean, lines: string[]): void {
  const jobs = orderedJobs(scheduler, "dotFormat()");
  for (const job of jobs) {
    if (isScheduler(job)) {
      lines.push(`${indent}subgraph ${dotId(clusterName(job))}{`);
      lines.push(`${indent}  compound=true;`);
      lines.push(`${indent}  graph [${attributes(styleOf(job, status))}];`);
      if (job.size === 0) {
        lines.push(`${indent}  ${placeholderName(job)} [label="(empty)", shape="plaintext"];`);
      }
      body(job, `${indent}  `, status, lines);
      lines.push(`${indent}}`);
    } else {
      lines.push(`${indent}${nodeName(job)} [${attributes(styleOf(job, status))}];`);
    }
    // Requirements outside this scheduler are not drawn: run() rejects them anyway.
    for (const required of byId(job.required)) {
      if (required._owner === scheduler) lines.push(`${indent}${edgeLine(required, job)}`);
    }
  }
}

/** The DOT text of `scheduler`; throws, naming the cycle, on a graph with one. */
export function dotFormat(scheduler: PureScheduler, options?: DotFormatOptions): string {
  const status = statusOption("dotFormat()", options);
  numberJobs(scheduler, "dotFormat()");
  const graph = attributes({
    fontname: GRAPH_FONT,
    ...(status ? { label: scheduler.why(), labelloc: "t" } : {}),
  });
  const lines = [
    "digraph asynciojobs{",
    "compound=true;",
    `graph [${graph}];`,
    `node [${attributes({ fontname: GRAPH_FONT })}];`,
  ];
  body(scheduler, "", status, lines);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
