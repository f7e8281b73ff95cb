/**
 * How the tests start the command line. From the build in dist/ when it is at
 * least as new as every package's sources (CI builds before it tests); from the
 * sources through tsx otherwise, so that a test never runs a stale build. The
 * build starts in half the time and a third of the CPU of the sources through
 * tsx, which adds up over the tests' many runs of the command line on a small
 * machine; and it is the program the package ships, whose TypeScript workflow
 * modules go through the loader it registers itself.
 */
import { type ChildProcess, spawn } from "node:child_process";
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

/** How a run of the command line ended, and what it printed. */
export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A command line started by {@link startCli}. */
export interface StartedCli {
  child: ChildProcess;
  /** Resolves once the process has ended and its pipes are closed. */
  done: Promise<Outcome>;
  /** The standard output so far. */
  output: () => string;
}

/** Starts `asyncjobs ARGS` from the repository's root, with output to pipes (not a terminal). */
export function startCli(args: readonly string[]): StartedCli {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ASYNCJOBS_ASCII: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    child.emit("stdout", stdout);
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<Outcome>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, output: () => stdout };
}

/** Runs `asyncjobs ARGS` to its end. */
export function cli(...args: string[]): Promise<Outcome> {
  return startCli(args).done;
}

/** Resolves once the standard output so far (what came before the call too) matches `pattern`. */
export function waitForOutput(started: StartedCli, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve) => {
    const listener = (text: string): boolean => {
      const match = text.match(pattern);
      if (match) {
        started.child.off("stdout", listener);
        resolve(match);
      }
      return match !== null;
    };
    if (!listener(started.output())) started.child.on("stdout", listener);
  });
}
