/**
 * A scheduler's graph as a Mermaid flowchart (`.mmd`), which GitHub and many
 * documentation tools draw natively. Built on the public API only.
 */
import type { PureScheduler } from "../engine/pure-scheduler.js";
import { type AbstractJob, isScheduler } from "../jobs/abstract-job.js";
import { labelOf } from "./run-model.js";

function quote(text: string): string {
  return `"${text.replace(/"/g, "#quot;").replace(/\r?\n/g, "<br>")}"`;
}

function orderOf(scheduler: PureScheduler): AbstractJob[] {
  try {
    return [...scheduler.topologicalOrder()];
  } catch {
    return [...scheduler.jobs];
  }
}

/**
 * The Mermaid text of `scheduler`: jobs as rounded boxes, nested schedulers
 * as subgraphs, critical jobs with a thick red border, forever jobs dashed.
 */
export function mermaidFormat(scheduler: PureScheduler): string {
  const ids = new Map<AbstractJob, string>();
  let next = 1;
  const idOf = (job: AbstractJob): string => {
    let id = ids.get(job);
    if (id === undefined) {
      id = `j${next++}`;
      ids.set(job, id);
    }
    return id;
  };
  const lines = ["flowchart TD"];
  const edges: string[] = [];
  const critical: string[] = [];
  const forever: string[] = [];
  const emit = (current: PureScheduler, indent: string): void => {
    for (const job of orderOf(current)) {
      const id = idOf(job);
      if (isScheduler(job)) {
        lines.push(`${indent}subgraph ${id} [${quote(labelOf(job))}]`);
        emit(job, `${indent}  `);
        lines.push(`${indent}end`);
      } else {
        lines.push(`${indent}${id}(${quote(labelOf(job))})`);
        if (job.critical) critical.push(id);
      }
      if (job.forever) forever.push(id);
      for (const required of job.required) edges.push(`  ${idOf(required)} --> ${id}`);
    }
  };
  emit(scheduler, "  ");
  lines.push(...edges);
  if (critical.length > 0) {
    lines.push("  classDef critical stroke:#d00,stroke-width:3px");
    lines.push(`  class ${critical.join(",")} critical`);
  }
  if (forever.length > 0) {
    lines.push("  classDef forever stroke-dasharray:5 5");
    lines.push(`  class ${forever.join(",")} forever`);
  }
  return `${lines.join("\n")}\n`;
}
