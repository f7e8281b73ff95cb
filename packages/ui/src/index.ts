/**
 * Watch an asyncjobs run in the browser: a live page served by the run
 * itself (the graph coloured by state, counts and times, each job's details
 * and output, a timeline, a cancel button), and a self-contained HTML
 * report to keep.
 *
 * @example
 * ```ts
 * import { serve, watchRun, writeReport } from "@asyncjobs/ui";
 * const watch = watchRun(scheduler);
 * const view = await serve(watch);
 * console.log(`open ${view.url}`);
 * await scheduler.run({ signal: view.signal });
 * await writeReport(watch, "run.html");
 * await view.close();
 * watch.stop();
 * ```
 *
 * @packageDocumentation
 * @module @asyncjobs/ui
 */

export { type ReportOptions, reportHtml, writeReport } from "./report.js";
export { CancelledFromViewError, type LiveView, type ServeOptions, serve } from "./server.js";
export type { JobState } from "./watch.js";
export { RunWatch, type WatchOptions, watchRun } from "./watch.js";
