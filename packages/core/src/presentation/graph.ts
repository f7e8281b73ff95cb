/**
 * SchedulerGraph: what `graph()` returns, a scheduler's DOT text that
 * renders itself to SVG, and that notebooks display as a picture.
 */

import { graphRenderer } from "./graphics.js";

/** The MIME bundle a Jupyter kernel displays (Deno's, and others that follow its convention). */
export type MimeBundle = Record<string, string>;

/**
 * A scheduler's graph: its DOT text, renderable to SVG without a system
 * Graphviz. In a notebook whose kernel honours `Symbol.for("Jupyter.display")`
 * (Deno's does), a cell ending with `scheduler.graph()` shows the picture.
 *
 * @example
 * ```ts
 * const svg = await scheduler.graph().svg();
 * ```
 */
export class SchedulerGraph {
  /** The DOT text, as `dotFormat()` returned it. */
  readonly dot: string;

  /** @param dot - the DOT text to render. */
  constructor(dot: string) {
    this.dot = dot;
  }

  /** Renders the graph to SVG text (Graphviz as WebAssembly, from `@asyncjobs/render`, loaded on first use). */
  async svg(): Promise<string> {
    return (await graphRenderer("graph().svg()")).svg(this.dot);
  }

  /** The DOT text. */
  toString(): string {
    return this.dot;
  }

  /** Notebook display: the rendered SVG, with the DOT text for plain-text front ends. */
  async [Symbol.for("Jupyter.display")](): Promise<MimeBundle> {
    return { "image/svg+xml": await this.svg(), "text/plain": this.dot };
  }
}
