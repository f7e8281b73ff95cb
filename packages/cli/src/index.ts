/**
 * The asyncjobs command line as a library: `main()` is the `asyncjobs`
 * executable, and `loadWorkflow()` turns a workflow file (YAML, JSON, or a
 * TypeScript/JavaScript module) into a scheduler to run from code.
 *
 * @packageDocumentation
 * @module @asyncjobs/cli
 */
import type { PureScheduler } from "asyncjobs";
import { loadScheduler } from "./load-workflow.js";

export { main } from "./cli.js";
export { type Diagnostic, WorkflowError } from "./diagnostics.js";

/** Options of {@link loadWorkflow}: what the command line's flags override. */
export interface LoadWorkflowOptions {
  /** At most this many jobs at once (0: no limit), in place of the file's `window`. */
  window?: number;
  /** The run's timeout in milliseconds, in place of the file's `timeout`. */
  timeout?: number;
}

/**
 * Reads and checks a workflow file, then builds its scheduler, without
 * running it. Rejects with a {@link WorkflowError} that says where the file
 * is wrong.
 */
export function loadWorkflow(
  file: string,
  options: LoadWorkflowOptions = {},
): Promise<PureScheduler> {
  return loadScheduler({
    command: "run",
    file,
    window: options.window,
    timeout: options.timeout,
    verbose: false,
    quiet: false,
    ascii: false,
    plain: true,
    dryRun: false,
    details: false,
  });
}
