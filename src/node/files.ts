/**
 * File exports of a scheduler's graph: DOT, SVG and PNG, with no system
 * Graphviz. Loaded on demand by the export methods, so the core never loads
 * `node:fs` (nor the renderers) unless a file is written; works wherever
 * `node:fs/promises` exists (Node, Deno, Bun).
 */
import type { PureScheduler } from "../engine/pure-scheduler.js";
import { nodeFs } from "./runtime.js";

/** The graphic formats `exportAsGraphic()` writes. */
export type GraphicFormat = "svg" | "png";

const FORMATS: ReadonlySet<string> = new Set(["svg", "png"]);

/** Writes `data` to `path`, saying which path could not be written, and why, when that fails. */
async function write(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await (await nodeFs()).writeFile(path, data);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot write ${path}: ${reason}`, { cause: error });
  }
}

/** Writes the DOT text to `filename` (as given); resolves with `(Over)wrote <filename>`. */
export async function exportAsDotfile(scheduler: PureScheduler, filename: string): Promise<string> {
  await write(filename, scheduler.dotFormat());
  return `(Over)wrote ${filename}`;
}

/**
 * Renders the graph to `<filename>.<suffix>` (a `filename` that already ends
 * with `.<suffix>` is kept as is); resolves with the name of the file
 * written. Rejects, naming the suffix, for a format other than svg or png.
 */
export async function exportAsGraphic(
  scheduler: PureScheduler,
  filename: string,
  suffix: GraphicFormat,
): Promise<string> {
  if (typeof suffix !== "string" || !FORMATS.has(suffix)) {
    throw new Error(
      `exportAsGraphic(): unknown graphic format ${JSON.stringify(suffix)} for ${filename}; ` +
        'expected "svg" or "png"',
    );
  }
  if (typeof filename !== "string" || filename === "") {
    throw new TypeError(`exportAsGraphic(): expected a file name, got ${JSON.stringify(filename)}`);
  }
  const path = filename.toLowerCase().endsWith(`.${suffix}`) ? filename : `${filename}.${suffix}`;
  if (suffix === "svg") {
    await write(path, await scheduler.graph().svg());
  } else {
    // resvg and its font load (reading and compiling 2.5 MB of WebAssembly)
    // while Graphviz lays the graph out, rather than after.
    const raster = import("./raster.js");
    const loading = raster.then(({ renderer }) => renderer());
    // Awaited below; a failure to load is reported by svgToPng() itself.
    loading.catch(() => undefined);
    const svg = await scheduler.graph().svg();
    const { svgToPng } = await raster;
    await write(path, await svgToPng(svg));
  }
  return path;
}
