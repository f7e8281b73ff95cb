/**
 * mermaidFormat(): the scheduler as a Mermaid flowchart, which GitHub and
 * many other Markdown renderers draw from a ```` ```mermaid ```` block. It
 * tells the same as `dotFormat()`: rounded boxes for jobs, a subgraph per
 * nested scheduler, thick red borders for critical jobs, dashed ones for
 * forever jobs, and with `{ status: true }` each job painted by its status.
 */

import type { PureScheduler } from "../engine/pure-scheduler.js";
import { type AbstractJob, isScheduler } from "../jobs/abstract-job.js";
import { type DotFormatOptions, statusOption } from "./dot.js";
import { numberJobs, orderedJobs } from "./numbering.js";
import { resolvedGraphLabel } from "./repr.js";
import { type JobStatus, STATUS_COLOURS, statusLine, statusOf } from "./status.js";

/**
 * Quotes `text` as a Mermaid label. Mermaid has no backslash escapes, only
 * entity codes (`#quot;`), so every character that could end the label or
 * be read as markup is written as one; line breaks become `<br>`.
 */
export function mermaidString(text: string): string {
  const escaped = text
    .replace(/#/g, "#35;")
    .replace(/"/g, "#quot;")
    .replace(/&/g, "#amp;")
    .replace(/</g, "#lt;")
    .replace(/>/g, "#gt;")
    .replace(/`/g, "#96;")
    .replace(/\r\n|\r|\n/g, "<br>")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point.
    .replace(/[\u0000-\u001f\u007f]/g, " ");
  return `"${escaped}"`;
}

/** Node ids are `j` + the job's id; subgraphs `s` + the scheduler's id. */
function nodeId(job: AbstractJob): string {
  return `${isScheduler(job) ? "s" : "j"}${job.reprId()}`;
}

const CLASS_DEFINITIONS = [
  "classDef critical stroke:#d00,stroke-width:2px;",
  "classDef forever stroke-dasharray:5 5;",
];

function labelOf(job: AbstractJob, status: boolean): string {
  const label = resolvedGraphLabel(job);
  return mermaidString(status ? `${label}\n${statusLine(job)}` : label);
}

interface Collected {
  lines: string[];
  classes: Map<string, string[]>;
  subgraphStyles: string[];
}

function addClass(collected: Collected, name: string, id: string): void {
  const ids = collected.classes.get(name);
  if (ids === undefined) collected.classes.set(name, [id]);
  else ids.push(id);
}

function subgraphStyle(job: AbstractJob, status: boolean): string | undefined {
  const parts: string[] = [];
  if (job.critical) parts.push("stroke:#d00", "stroke-width:2px");
  if (job.forever) parts.push("stroke-dasharray:5 5");
  if (status) parts.push(`fill:${STATUS_COLOURS[statusOf(job)]}`);
  return parts.length === 0 ? undefined : `style ${nodeId(job)} ${parts.join(",")};`;
}

function body(scheduler: PureScheduler, indent: string, status: boolean, out: Collected): void {
  for (const job of orderedJobs(scheduler, "mermaidFormat()")) {
    const id = nodeId(job);
    if (isScheduler(job)) {
      out.lines.push(`${indent}subgraph ${id}[${labelOf(job, status)}]`);
      if (job.size === 0) out.lines.push(`${indent}  ${id}_empty["(empty)"]`);
      body(job, `${indent}  `, status, out);
      out.lines.push(`${indent}end`);
      const style = subgraphStyle(job, status);
      if (style !== undefined) out.subgraphStyles.push(style);
    } else {
      out.lines.push(`${indent}${id}(${labelOf(job, status)})`);
      if (job.critical) addClass(out, "critical", id);
      if (job.forever) addClass(out, "forever", id);
      if (status) addClass(out, statusOf(job), id);
    }
    const required = [...job.required]
      .filter((requirement) => requirement._owner === scheduler)
      .sort((a, b) => a.reprId().localeCompare(b.reprId()));
    for (const requirement of required) {
      out.lines.push(`${indent}${nodeId(requirement)} --> ${id}`);
    }
  }
}

/** The Mermaid flowchart of `scheduler`; throws, naming the cycle, on a graph with one. */
export function mermaidFormat(scheduler: PureScheduler, options?: DotFormatOptions): string {
  const status = statusOption("mermaidFormat()", options);
  numberJobs(scheduler, "mermaidFormat()");
  const out: Collected = { lines: [], classes: new Map(), subgraphStyles: [] };
  body(scheduler, "  ", status, out);
  const lines = ["flowchart TD", ...out.lines];
  if (out.lines.length > 0) {
    lines.push(...CLASS_DEFINITIONS.map((line) => `  ${line}`));
    if (status) {
      for (const [name, colour] of Object.entries(STATUS_COLOURS) as [JobStatus, string][]) {
        lines.push(`  classDef ${name} fill:${colour};`);
      }
    }
    for (const [name, ids] of out.classes) lines.push(`  class ${ids.join(",")} ${name};`);
    lines.push(...out.subgraphStyles.map((line) => `  ${line}`));
  }
  return `${lines.join("\n")}\n`;
}
