/**
 * Workflows written as JavaScript or TypeScript modules: the default export
 * is a scheduler, or a function (maybe async) returning one. TypeScript is
 * loaded without a build step, through tsx.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { PureScheduler } from "asyncjobs";
import { isScheduler } from "asyncjobs/extend";
import { WorkflowError } from "./diagnostics.js";

const TYPESCRIPT = /\.(c|m)?tsx?$/i;

/**
 * Imports a module, through tsx's `tsImport` for TypeScript: it compiles the
 * file and what it imports for this one import, as ESM or CommonJS as the
 * file's own package says, so a `.ts` workflow works in an ESM project, in
 * a CommonJS one and in one without a `"type"` field, and nothing else in
 * the process is affected. Code already running through a TypeScript loader
 * (the sources under tsx) imports directly.
 */
async function importModule(url: string, typeScript: boolean): Promise<{ default?: unknown }> {
  if (!typeScript || import.meta.url.endsWith(".ts")) {
    return (await import(url)) as { default?: unknown };
  }
  const { tsImport } = await import("tsx/esm/api");
  return (await tsImport(url, import.meta.url)) as { default?: unknown };
}

/**
 * The default export of a module, as ESM gives it, or as CommonJS does
 * through `import()` (`module.exports` is the default, and a transpiled
 * `export default` sits one level further, under `default`).
 */
function defaultExport(module: { default?: unknown }): unknown {
  const value = module.default;
  if (
    value !== null &&
    typeof value === "object" &&
    !isScheduler(value) &&
    "default" in value &&
    (value as { __esModule?: unknown }).__esModule === true
  ) {
    return (value as { default?: unknown }).default;
  }
  return value;
}

function failure(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

/** Imports a workflow module and returns its scheduler; throws a {@link WorkflowError} otherwise. */
export async function loadWorkflowModule(file: string): Promise<PureScheduler> {
  let module: { default?: unknown };
  try {
    module = await importModule(pathToFileURL(resolve(file)).href, TYPESCRIPT.test(file));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (
      code === "ERR_MODULE_NOT_FOUND" &&
      String((error as Error).message).includes(resolve(file))
    ) {
      throw new WorkflowError(file, "no such file");
    }
    throw new WorkflowError(file, `cannot load the module:\n${failure(error)}`);
  }
  let value = defaultExport(module);
  if (value === undefined) {
    throw new WorkflowError(
      file,
      "the module has no default export: `export default` a Scheduler, or a function returning one",
    );
  }
  if (typeof value === "function") {
    try {
      value = await (value as () => unknown)();
    } catch (error) {
      throw new WorkflowError(file, `its default export threw:\n${failure(error)}`);
    }
  }
  if (!isScheduler(value)) {
    throw new WorkflowError(
      file,
      "the default export is not a Scheduler (nor a function returning one)",
    );
  }
  return value;
}
