/**
 * The render package's README: graph files and SVG text, with
 * `@asyncjobs/render` installed. Writes into a temporary folder.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Job, Scheduler } from "asyncjobs";

process.chdir(mkdtempSync(join(tmpdir(), "asyncjobs-render-")));

const scheduler = new Scheduler(new Job(async () => 1, { label: "one" }));
await scheduler.exportAsSvgfile("graph"); // writes graph.svg
await scheduler.exportAsPngfile("graph"); // writes graph.png
const svg = await scheduler.graph().svg(); // the SVG text

console.log(`${svg.startsWith("<?xml") || svg.startsWith("<svg") ? "an SVG" : "not an SVG"}`);
