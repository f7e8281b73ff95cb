/**
 * The report to keep: one self-contained HTML file with the final graph,
 * the timeline, and each job's details and output (capped per job). The
 * page's script, its data and the graph's SVG are inlined, and its content
 * security policy forbids any request, so it opens offline, from a file.
 */

import { writeFile } from "node:fs/promises";
import { GraphPictures } from "./graph.js";
import { pageScript, reportPage } from "./page.js";
import { runTitle } from "./server.js";
import { type JobDetails, jobDetails, type Snapshot, snapshot } from "./state.js";
import type { RunWatch } from "./watch.js";

/** Options of {@link reportHtml} and {@link writeReport}. */
export interface ReportOptions {
  /** The page's title; default the scheduler's label, else "asyncjobs run". */
  title?: string;
  /** How many output lines the report keeps per job (the last ones); default 1000. */
  maxLinesPerJob?: number;
  /** With more than 500 jobs, how many groups get their own picture; default 100. */
  maxGroupsDrawn?: number;
}

/** What a report holds, as its page reads it. @internal */
export interface ReportData {
  snapshot: Snapshot;
  details: JobDetails[];
  /** SVG by group index (-1: the top, or the whole graph when not folded); null: too big to draw. */
  graphs: Record<string, string | null>;
  /** Why the graph is missing, if it is. */
  graphError: string | null;
}

function checkCount(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`report: option "${name}" must be a whole number >= 0, got ${value}`);
  }
  return value;
}

/** The report of the watched run, as HTML text. Call it once the run is over. */
export async function reportHtml(watch: RunWatch, options: ReportOptions = {}): Promise<string> {
  const maxLines = checkCount("maxLinesPerJob", options.maxLinesPerJob, 1000);
  const maxGroups = checkCount("maxGroupsDrawn", options.maxGroupsDrawn, 100);
  const title = options.title ?? runTitle(watch.scheduler);
  const script = await pageScript();
  const details: JobDetails[] = [];
  for (const record of watch.records) {
    const found = jobDetails(watch, record.index, maxLines);
    if (found !== undefined) details.push(found);
  }
  const pictures = new GraphPictures(watch);
  const graphs: Record<string, string | null> = {};
  let graphError: string | null = null;
  try {
    graphs["-1"] = await pictures.svg(-1);
    if (pictures.folded) {
      let drawn = 0;
      for (const record of watch.records) {
        if (!record.group || drawn >= maxGroups) continue;
        graphs[String(record.index)] = await pictures.svg(record.index);
        drawn++;
      }
    }
  } catch (error) {
    graphError = error instanceof Error ? error.message : String(error);
  }
  const data: ReportData = { snapshot: snapshot(watch, title), details, graphs, graphError };
  return reportPage(title, data, script);
}

/**
 * Writes the report of the watched run to `path`: one HTML file that opens
 * offline, with the final graph, the timeline, and each job's details and
 * output. Call it once the run is over.
 */
export async function writeReport(
  watch: RunWatch,
  path: string,
  options: ReportOptions = {},
): Promise<void> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`writeReport(): the path must be a non-empty string, got ${String(path)}`);
  }
  await writeFile(path, await reportHtml(watch, options));
}
