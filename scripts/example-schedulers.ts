/**
 * The schedulers of the tutorial examples (examples/a-parallel.ts and the
 * other `<letter>-<name>.ts` files), caught as the examples run them, so that
 * the README's pictures and listings, and the tests that render every
 * example, use the examples themselves rather than copies of them.
 */
import { readdir } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PureScheduler, Scheduler } from "asyncjobs";

/** The folder of the tutorial examples. */
export const EXAMPLES_DIR = fileURLToPath(new URL("../examples/", import.meta.url));

/** The tutorial examples' names, in the tutorial's order: `a-parallel`, `b-requirements`, ... */
export async function exampleNames(): Promise<string[]> {
  return (await readdir(EXAMPLES_DIR))
    .filter((file) => /^[a-z]-[a-z0-9-]+\.ts$/.test(file))
    .map((file) => file.slice(0, -".ts".length))
    .sort();
}

type Run = (this: PureScheduler, ...args: unknown[]) => Promise<boolean>;

/**
 * Calls `body` and returns the outermost schedulers run meanwhile, in the
 * order they started. Examples load the library as `asyncjobs`, which
 * resolves to this very source tree, so their runs go through the methods
 * wrapped here.
 */
export async function catchSchedulers(body: () => Promise<unknown>): Promise<PureScheduler[]> {
  const ran: PureScheduler[] = [];
  const prototypes = [PureScheduler.prototype, Scheduler.prototype] as unknown as {
    run: Run;
  }[];
  const originals = prototypes.map((prototype) => prototype.run);
  prototypes.forEach((prototype, index) => {
    const original = originals[index]!;
    prototype.run = function (this: PureScheduler, ...args: unknown[]): Promise<boolean> {
      const nested = (this as { _owner?: unknown })._owner !== undefined;
      if (!nested && !ran.includes(this)) ran.push(this);
      return original.apply(this, args);
    };
  });
  try {
    await body();
  } finally {
    prototypes.forEach((prototype, index) => {
      prototype.run = originals[index]!;
    });
  }
  return ran;
}

/** Runs the example `name` (importing its module runs it); resolves once it is over. */
export function importExample(name: string): Promise<unknown> {
  return import(pathToFileURL(`${EXAMPLES_DIR}${name}.ts`).href);
}

/** Runs the example `name` and returns the outermost schedulers it ran, in order. */
export function runExample(name: string): Promise<PureScheduler[]> {
  return catchSchedulers(() => importExample(name));
}
