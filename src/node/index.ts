/**
 * The Node entry of asyncjobs: everything of the core, plus what needs Node.
 *
 * @module asyncjobs/node
 */
export * from "../index.js";
export {
  CommandError,
  type CommandFailure,
  CommandJob,
  type CommandJobOptions,
  type CommandOutput,
  type OutputStream,
} from "./command-job.js";
export { CommandLineError, joinCommandLine, splitCommandLine } from "./command-line.js";
export * from "./ssh/index.js";
