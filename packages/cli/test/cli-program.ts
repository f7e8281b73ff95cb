/**
 * How the tests start the command line. From the build in dist/ when it is at
 * least as new as every package's sources (CI builds before it tests); from the
 * sources through tsx otherwise, so that a test never runs a stale build. The
 * build starts in half the time and a third of the CPU of the sources through
 * tsx, which adds up over the tests' many runs of the command line on a small
 * machine; and it is the program the package ships, whose TypeScript workflow
 * modules go through the loader it registers itself.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BUILT = "packages/cli/dist/main.js";

/** The latest modification time of the files below `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? newest(path) : statSync(path).mtimeMs;
    if (time > latest) latest = time;
  }
  return latest;
}

function buildIsCurrent(): boolean {
  const built = join(ROOT, BUILT);
  if (!existsSync(built)) return false;
  const packages = join(ROOT, "packages");
  const sources = readdirSync(packages).map((name) => newest(join(packages, name, "src")));
  return statSync(built).mtimeMs >= Math.max(...sources);
}

/**
 * Node's arguments that run `asyncjobs`, to be followed by its own: paths
 * relative to the repository's root, where the tests start it.
 */
export const CLI: readonly string[] = buildIsCurrent()
  ? [BUILT]
  : ["--import", "tsx", "packages/cli/src/main.ts"];
