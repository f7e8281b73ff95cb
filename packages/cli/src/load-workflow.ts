/**
 * From a workflow FILE to its scheduler: YAML and JSON through the workflow
 * reader, JavaScript and TypeScript modules through their default export.
 * Each reader loads on demand, so that `--help` loads neither.
 */
import type { PureScheduler } from "asyncjobs";
import { WorkflowError } from "./diagnostics.js";
import type { Invocation } from "./invocation.js";

/** The module extensions `asyncjobs run` loads as code. */
const MODULE_EXTENSIONS = /\.(c|m)?(j|t)sx?$/i;

/** Loads the scheduler a workflow FILE describes, with the command line's overrides applied. */
export async function loadScheduler(invocation: Invocation): Promise<PureScheduler> {
  const { file } = invocation;
  if (MODULE_EXTENSIONS.test(file)) {
    const { loadWorkflowModule } = await import("./workflow-module.js");
    const scheduler = await loadWorkflowModule(file);
    if (invocation.window !== undefined) scheduler.jobsWindow = invocation.window;
    if (invocation.timeout !== undefined) scheduler.timeout = invocation.timeout;
    return scheduler;
  }
  if (!/\.(ya?ml|json)$/i.test(file)) {
    throw new WorkflowError(
      file,
      "unknown kind of file: expected .yaml, .yml, .json, or a .js/.ts module",
    );
  }
  const { buildWorkflow, readWorkflowFile } = await import("./workflow-file.js");
  const workflow = await readWorkflowFile(file);
  return await buildWorkflow(workflow, { window: invocation.window, timeout: invocation.timeout });
}
