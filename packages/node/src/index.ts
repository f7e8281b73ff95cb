/**
 * Node-only jobs for asyncjobs: `CommandJob` runs a local command (an
 * argument list, or a line for the shell) with its output streamed,
 * captured or both, and a timeout or cancellation that kills it.
 *
 * @packageDocumentation
 * @module @asyncjobs/node
 */
export {
  CommandError,
  type CommandFailure,
  CommandJob,
  type CommandJobOptions,
  type CommandOutput,
  type OutputStream,
} from "./command-job.js";
export { CommandLineError, joinCommandLine, splitCommandLine } from "./command-line.js";
