/**
 * dotFormat(): the scheduler as a Graphviz DOT graph.
 */

import type { PureScheduler } from "../engine/pure-scheduler.js";
import { type AbstractJob, isScheduler } from "../jobs/abstract-job.js";
import { numberJobs } from "./numbering.js";

/** Options of `dotFormat()`. */
export interface DotFormatOptions {
  /** Colour each job by its lifecycle and outcome (after a run). */
  status?: boolean;
}

/** Quotes a string for DOT: backslashes, quotes and newlines escaped. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n")}"`;
}

function attributes(style: Record<string, string | number>): string {
  return Object.entries(style)
    .map(([key, value]) => `${key}=${typeof value === "number" ? value : dotString(value)}`)
    .join(", ");
}

function nodeName(job: AbstractJob): string {
  return dotString(job.reprId());
}

/** The DOT text of `scheduler`. */
export function dotFormat(scheduler: PureScheduler, _options: DotFormatOptions = {}): string {
  numberJobs(scheduler);
  const lines: string[] = ["digraph asynciojobs{", "compound=true;", "graph [];"];
  const emit = (current: PureScheduler, indent: string): void => {
    for (const job of current.topologicalOrder()) {
      if (isScheduler(job)) {
        lines.push(`${indent}subgraph cluster_${job.reprId()} {`);
        lines.push(`${indent}  label=${dotString(job.resolvedGraphLabel())};`);
        emit(job, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(
          `${indent}${nodeName(job)} [label=${dotString(job.resolvedGraphLabel())}, ${attributes(job.dotStyle())}];`,
        );
      }
      for (const required of job.required) {
        lines.push(`${indent}${nodeName(required)} -> ${nodeName(job)};`);
      }
    }
  };
  emit(scheduler, "");
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
