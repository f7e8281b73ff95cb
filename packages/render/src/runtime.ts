/**
 * The Node built-ins this package uses, loaded on demand, so that laying a
 * graph out to SVG also works in a browser, where they do not exist.
 */

/** The part of `node:fs/promises` used here. */
export interface FileSystem {
  /** Reads a whole file. */
  readFile(path: string): Promise<Uint8Array>;
  /** Creates or replaces a file. */
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
}

/** The part of `node:module` used here. */
interface ModuleBuiltin {
  createRequire(from: string): { resolve(specifier: string): string };
}

/** `node:fs/promises` (also provided by Deno and Bun). */
export async function nodeFs(): Promise<FileSystem> {
  // A specifier typed as string keeps the compiler from looking for Node's types.
  return (await import("node:fs/promises" as string)) as FileSystem;
}

/**
 * The path of `specifier` (a package's file) as Node's resolution finds it
 * from the module at `from`: from `src/` and from the built `dist/` alike.
 */
export async function resolveFromHere(specifier: string, from: string): Promise<string> {
  const { createRequire } = (await import("node:module" as string)) as ModuleBuiltin;
  try {
    return createRequire(from).resolve(specifier);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot find ${specifier}, which graphics exports need: ${reason}`, {
      cause: error,
    });
  }
}
