/**
 * Bundles the page's script (page/main.ts) into dist/browser.js, which the
 * live view serves and the report inlines.
 */
import { build } from "esbuild";

const root = new URL("..", import.meta.url);
await build({
  entryPoints: [new URL("page/main.ts", root).pathname],
  outfile: new URL("dist/browser.js", root).pathname,
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
