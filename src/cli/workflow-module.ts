/**
 * Workflows written as JavaScript or TypeScript modules: the default export
 * is a scheduler, or a function (maybe async) returning one. TypeScript is
 * loaded without a build step, through tsx's loader.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { PureScheduler } from "../engine/pure-scheduler.js";
import { isScheduler } from "../jobs/abstract-job.js";
import { WorkflowError } from "./diagnostics.js";

const TYPESCRIPT = /\.(c|m)?tsx?$/i;

/** The module extensions `asyncjobs run` loads as code. */
export const MODULE_EXTENSIONS = /\.(c|m)?(j|t)sx?$/i;

let typeScriptReady = false;

/** Makes `import()` understand TypeScript, unless this code already runs through a TypeScript loader. */
async function enableTypeScript(): Promise<void> {
  if (typeScriptReady || import.meta.url.endsWith(".ts")) return;
  const { register } = await import("tsx/esm/api");
  register();
  typeScriptReady = true;
}

function failure(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

/** Imports a workflow module and returns its scheduler; throws a {@link WorkflowError} otherwise. */
export async function loadWorkflowModule(file: string): Promise<PureScheduler> {
  if (TYPESCRIPT.test(file)) await enableTypeScript();
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
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
  let value = module.default;
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
