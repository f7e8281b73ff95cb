/**
 * SVG to PNG without a system package: resvg compiled to WebAssembly (the npm
 * package `@resvg/resvg-wasm`), with the DejaVu Sans font from the npm
 * package `dejavu-fonts-ttf`, since WebAssembly sees no system fonts and
 * graphs are laid out for DejaVu Sans (see dotFormat()).
 *
 * Both files are found by Node's module resolution from this file, so this
 * works the same from `src/` (tsx) and from the built `dist/`, and wherever
 * a package manager puts them. Node, Deno and Bun only: it reads files.
 */
import { GRAPH_FONT } from "./graphviz.js";
import { nodeFs, resolveFromHere } from "./runtime.js";

/** The part of `@resvg/resvg-wasm` used here. */
type ResvgModule = typeof import("@resvg/resvg-wasm");

/** The family name inside the font file, which the rendered SVG asks for. */
export const PNG_FONT_FAMILY = GRAPH_FONT;

let loading: Promise<{ resvg: ResvgModule; font: Uint8Array }> | undefined;

async function initialise(): Promise<{ resvg: ResvgModule; font: Uint8Array }> {
  const resvg = await import("@resvg/resvg-wasm");
  const fs = await nodeFs();
  const [wasm, font] = await Promise.all([
    fs.readFile(await resolveFromHere("@resvg/resvg-wasm/index_bg.wasm", import.meta.url)),
    fs.readFile(await resolveFromHere("dejavu-fonts-ttf/ttf/DejaVuSans.ttf", import.meta.url)),
  ]);
  try {
    await resvg.initWasm(wasm);
  } catch (error) {
    // initWasm() may run once per process: another copy of this module (or
    // the application itself) may have done it already, which is fine.
    if (!(error instanceof Error && /already initialized/i.test(error.message))) throw error;
  }
  return { resvg, font };
}

function renderer(): Promise<{ resvg: ResvgModule; font: Uint8Array }> {
  if (loading === undefined) {
    loading = initialise();
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

/** Options of {@link svgToPng}. */
export interface PngOptions {
  /** Scale factor from SVG units to pixels; 2 by default, for sharp pictures on dense screens. */
  zoom?: number;
}

/** Rasterises SVG text to PNG bytes, on a white background. */
export async function svgToPng(svg: string, options: PngOptions = {}): Promise<Uint8Array> {
  const { resvg, font } = await renderer();
  const image = new resvg.Resvg(svg, {
    fitTo: { mode: "zoom", value: options.zoom ?? 2 },
    background: "white",
    font: {
      fontBuffers: [font],
      // Any family the SVG names falls back to the one font there is.
      defaultFontFamily: PNG_FONT_FAMILY,
      serifFamily: PNG_FONT_FAMILY,
      sansSerifFamily: PNG_FONT_FAMILY,
      monospaceFamily: PNG_FONT_FAMILY,
    },
  });
  try {
    const rendered = image.render();
    try {
      return rendered.asPng();
    } finally {
      rendered.free();
    }
  } finally {
    image.free();
  }
}
