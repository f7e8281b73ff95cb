/**
 * SchedulerGraph: what `graph()` returns, a DOT text that renders itself to
 * SVG (Graphviz compiled to WebAssembly, loaded only when first needed).
 */

/** A scheduler's graph: its DOT text, renderable to SVG. */
export class SchedulerGraph {
  /** The DOT text. */
  readonly dot: string;

  constructor(dot: string) {
    this.dot = dot;
  }

  /** Renders the graph to SVG text. */
  async svg(): Promise<string> {
    const { renderSvg } = await import("./render.js");
    return renderSvg(this.dot);
  }

  /** Notebook display (Deno and other Jupyter kernels): the rendered SVG. */
  async [Symbol.for("Jupyter.display")](): Promise<Record<string, string>> {
    return { "image/svg+xml": await this.svg() };
  }
}
