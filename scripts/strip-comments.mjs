/**
 * Strips the comments from a package's built JavaScript (not from its
 * declarations, which keep the TSDoc that editors show). The core keeps its
 * installed size within its budget this way; the comments stay in src/.
 *
 *   node scripts/strip-comments.mjs DIST_FOLDER
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { transform } from "esbuild";

const folder = process.argv[2];
if (!folder) {
  console.error("usage: node scripts/strip-comments.mjs DIST_FOLDER");
  process.exit(2);
}
for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
  const path = join(entry.parentPath ?? entry.path, entry.name);
  const source = await readFile(path, "utf8");
  // No minification: names and layout stay readable in stack traces.
  const { code } = await transform(source, {
    loader: "js",
    format: "esm",
    target: "es2022",
    legalComments: "none",
  });
  await writeFile(path, code);
}
