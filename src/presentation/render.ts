/**
 * Graphviz rendering without a system `dot` binary.
 */
export async function renderSvg(_dot: string): Promise<string> {
  throw new Error("rendering to SVG is not available yet");
}
