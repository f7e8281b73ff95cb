/**
 * How the core reaches a graph renderer without depending on one.
 *
 * Laying a graph out (Graphviz), rasterising it (resvg) and writing files
 * need WebAssembly builds, a font and a file system: the package
 * `@asyncjobs/render` has them, the core has none of it. The core's graph
 * methods (`exportAsDotfile`, `exportAsSvgfile`, `exportAsPngfile`,
 * `exportAsGraphic`, `graph().svg()`) find a renderer here, in this order:
 *
 * 1. one registered on `globalThis` under `Symbol.for("asyncjobs.graphRenderer")`,
 *    which `@asyncjobs/render` does when it is imported, and which
 *    {@link registerGraphRenderer} does for any other renderer. A global
 *    symbol, so that two copies of the core in one program see the same one;
 * 2. otherwise, `import("@asyncjobs/render")` by a specifier held in a
 *    variable: bundlers leave it alone (so a browser bundle of the core has
 *    no externals to declare), and Node finds the package wherever it is
 *    installed next to the core.
 *
 * When neither works, the method rejects with an error that names the
 * package to install.
 */

import { describeValue } from "../util/describe.js";

/** What the core needs of a graph renderer. `@asyncjobs/render` provides one. */
export interface GraphRenderer {
  /** Lays DOT text out and returns the SVG text. */
  svg(dot: string): Promise<string>;
  /** Rasterises SVG text to PNG bytes. */
  png(svg: string): Promise<Uint8Array>;
  /** Creates or replaces a file with `data`. */
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
}

/** The npm package that provides the renderer. */
export const RENDER_PACKAGE = "@asyncjobs/render";

const REGISTRY = Symbol.for("asyncjobs.graphRenderer");

/** The global slot, typed. */
type Registry = { [REGISTRY]?: GraphRenderer };

function isRenderer(value: unknown): value is GraphRenderer {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.svg === "function" &&
    typeof candidate.png === "function" &&
    typeof candidate.writeFile === "function"
  );
}

/**
 * Makes `renderer` the one the graph methods use, in place of
 * `@asyncjobs/render` (which registers itself when imported). Useful where
 * the package cannot be imported by name, as in a browser bundle or Deno
 * without an import map.
 */
export function registerGraphRenderer(renderer: GraphRenderer): void {
  if (!isRenderer(renderer)) {
    throw new TypeError(
      `registerGraphRenderer(): expected an object with svg(), png() and writeFile() methods, got ${describeValue(renderer)}`,
    );
  }
  (globalThis as Registry)[REGISTRY] = renderer;
}

/** The registered renderer, importing `@asyncjobs/render` if none is; `method` names the caller in errors. */
export async function graphRenderer(method: string): Promise<GraphRenderer> {
  const registered = (globalThis as Registry)[REGISTRY];
  if (registered !== undefined) return registered;
  // A variable, not a literal: bundlers must not try to include the package.
  const specifier: string = RENDER_PACKAGE;
  let reason: string;
  try {
    const module = (await import(/* @vite-ignore */ specifier)) as { graphRenderer?: unknown };
    const found = (globalThis as Registry)[REGISTRY] ?? module.graphRenderer;
    if (isRenderer(found)) return found;
    reason = `${RENDER_PACKAGE} was found but provides no renderer`;
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  throw new Error(
    `${method} needs the package ${RENDER_PACKAGE}, which renders graphs and writes graph files: ` +
      `install it with \`npm install ${RENDER_PACKAGE}\`, or register a renderer with registerGraphRenderer() ` +
      `(${reason})`,
  );
}

/** Writes a graph file through `renderer`, saying which path could not be written, and why. */
export async function writeGraphFile(
  renderer: GraphRenderer,
  path: string,
  data: string | Uint8Array,
): Promise<void> {
  try {
    await renderer.writeFile(path, data);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot write ${path}: ${reason}`, { cause: error });
  }
}
