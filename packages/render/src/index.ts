/**
 * Graph pictures for asyncjobs: SVG through Graphviz compiled to
 * WebAssembly, PNG through resvg compiled to WebAssembly with the DejaVu
 * Sans font, and graph files. No system `dot` binary, no native addon.
 *
 * Importing this package registers its renderer with the core, which the
 * scheduler's `exportAsDotfile()`, `exportAsSvgfile()`, `exportAsPngfile()`,
 * `exportAsGraphic()` and `graph().svg()` then use. The core also imports it
 * on its own, by name, the first time one of them is called, so installing
 * the package is enough on Node.
 *
 * @packageDocumentation
 * @module @asyncjobs/render
 */
import { renderSvg } from "./graphviz.js";
import { svgToPng } from "./raster.js";
import { nodeFs } from "./runtime.js";

export { GRAPH_FONT, renderSvg } from "./graphviz.js";
export { type PngOptions, svgToPng } from "./raster.js";

/** The renderer's interface, as the core's `GraphRenderer` declares it. */
export interface Renderer {
  /** Lays DOT text out and returns the SVG text. */
  svg(dot: string): Promise<string>;
  /** Rasterises SVG text to PNG bytes (Node, Deno and Bun: it reads its WebAssembly and font files). */
  png(svg: string): Promise<Uint8Array>;
  /** Creates or replaces a file (Node, Deno and Bun). */
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
}

/** The renderer this package registers with the core. */
export const graphRenderer: Renderer = {
  svg: (dot) => renderSvg(dot),
  png: (svg) => svgToPng(svg),
  writeFile: async (path, data) => (await nodeFs()).writeFile(path, data),
};

// The core looks for a renderer under this global symbol (see its
// presentation/graphics.ts); registering here spares it the import by name.
(globalThis as { [key: symbol]: unknown })[Symbol.for("asyncjobs.graphRenderer")] ??= graphRenderer;
