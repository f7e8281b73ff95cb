/**
 * The graph the page draws, laid out by the project's own renderer
 * (@asyncjobs/render, Graphviz in WebAssembly). Up to COLLAPSE_ABOVE jobs,
 * it is the scheduler's `dotFormat()`, nested schedulers as clusters; above,
 * one group at a time, each nested scheduler folded into one node that the
 * page opens on a click. Either way the page colours the nodes itself by
 * state, so a layout is made once per group and reused for the whole run.
 */

import { renderSvg } from "@asyncjobs/render";
import type { AbstractJob, PureScheduler } from "asyncjobs";
import { isScheduler } from "asyncjobs/extend";
import { COLLAPSE_ABOVE } from "./state.js";
import type { RunWatch } from "./watch.js";

/** A group with more jobs than this is not drawn: Graphviz would take minutes; the table lists them. */
export const MAX_DRAWN = 1500;

function quote(text: string): string {
  const escaped = text
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, "\\n")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point.
    .replace(/[\u0000-\u001f\u007f]/g, " ");
  return `"${escaped}"`;
}

function attributes(style: Readonly<Record<string, unknown>>): string {
  return Object.entries(style)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${typeof value === "number" ? value : quote(String(value))}`)
    .join(", ");
}

function countInside(scheduler: PureScheduler): number {
  let count = 0;
  for (const job of scheduler.jobs) count += isScheduler(job) ? countInside(job) : 1;
  return count;
}

/** The DOT of one group with its nested groups folded into single nodes. */
export function foldedDot(scheduler: PureScheduler, labelOf: (job: AbstractJob) => string): string {
  const lines = [
    "digraph asyncjobs{",
    'graph [fontname="DejaVu Sans", rankdir="TB"];',
    'node [fontname="DejaVu Sans"];',
  ];
  for (const job of scheduler.jobs) {
    const style: Record<string, unknown> = { label: labelOf(job), ...job.dotStyle() };
    if (isScheduler(job)) {
      style.shape = "box3d";
      style.label = `${labelOf(job)}\n(${countInside(job)} jobs: click to open)`;
    }
    lines.push(`${quote(job.reprId())} [${attributes(style)}];`);
    for (const required of job.required) {
      if (scheduler.jobs.has(required)) {
        lines.push(`${quote(required.reprId())} -> ${quote(job.reprId())};`);
      }
    }
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** Lays out and caches the pictures of a watched run. */
export class GraphPictures {
  readonly #watch: RunWatch;
  readonly #cache = new Map<number, Promise<string | null>>();

  constructor(watch: RunWatch) {
    this.#watch = watch;
  }

  /** Whether groups are folded (the run has more than COLLAPSE_ABOVE jobs). */
  get folded(): boolean {
    return this.#watch.records.length > COLLAPSE_ABOVE;
  }

  /**
   * The SVG of group `scope` (-1: the top), or null when it has too many
   * jobs to draw. Without folding, the whole graph whatever the scope.
   */
  svg(scope: number): Promise<string | null> {
    const key = this.folded ? scope : -1;
    let picture = this.#cache.get(key);
    if (picture === undefined) {
      picture = this.#make(key);
      this.#cache.set(key, picture);
      // A failed layout is tried again on the next request.
      picture.catch(() => this.#cache.delete(key));
    }
    return picture;
  }

  async #make(scope: number): Promise<string | null> {
    const watch = this.#watch;
    let scheduler: PureScheduler = watch.scheduler;
    if (scope !== -1) {
      const job = watch.records[scope]?.job;
      if (job === undefined || !isScheduler(job)) throw new RangeError(`no group ${scope}`);
      scheduler = job;
    }
    if (!this.folded) return await renderSvg(watch.scheduler.dotFormat());
    if (scheduler.size > MAX_DRAWN) return null;
    const labels = (job: AbstractJob): string => watch.byJob.get(job)?.label ?? job.reprId();
    return await renderSvg(foldedDot(scheduler, labels));
  }
}
