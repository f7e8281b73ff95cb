/**
 * Graphviz without a system `dot` binary: the WebAssembly build shipped as
 * the npm package `@hpcc-js/wasm-graphviz`, which runs in Node, Deno, Bun
 * and browsers alike. It is imported on first use only, so that importing
 * this package never loads its 800 kB.
 */

/** The font family asyncjobs' DOT text asks for, and the one font the PNG renderer has. */
export const GRAPH_FONT = "DejaVu Sans";

/** The part of the Graphviz module used here. */
interface GraphvizLayout {
  dot(dotSource: string, outputFormat?: "svg"): string;
}

let loading: Promise<GraphvizLayout> | undefined;

function graphviz(): Promise<GraphvizLayout> {
  if (loading === undefined) {
    loading = import("@hpcc-js/wasm-graphviz").then((module) => module.Graphviz.load());
    // A failed load (a missing package, say) is retried by the next call.
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

/** Lays `dot` out with Graphviz's `dot` engine and returns the SVG text. */
export async function renderSvg(dot: string): Promise<string> {
  let layout: GraphvizLayout;
  try {
    layout = await graphviz();
  } catch (error) {
    throw new Error(
      `cannot load Graphviz (the npm package @hpcc-js/wasm-graphviz): ${String(error)}`,
      { cause: error },
    );
  }
  try {
    // Viewers without DejaVu Sans get Verdana (of the same width), else any sans-serif font.
    return layout
      .dot(dot, "svg")
      .replaceAll(`font-family="${GRAPH_FONT}"`, `font-family="${GRAPH_FONT},Verdana,sans-serif"`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`Graphviz could not lay the graph out: ${message}`, { cause: error });
  }
}
