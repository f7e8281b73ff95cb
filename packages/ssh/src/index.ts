/**
 * Remote jobs over SSH for asyncjobs: nodes, the job that runs commands on
 * them, the commands, output formatters and fan-out. The only package of
 * the family that depends on ssh2.
 *
 * @packageDocumentation
 * @module @asyncjobs/ssh
 */
import { SshNode } from "./node.js";

export {
  Pull,
  Push,
  Run,
  RunScript,
  RunString,
  SshCommand,
  type SshRunOptions,
  SshScriptCommand,
  type SshScriptOptions,
  SshTransfer,
  type SshTransferOptions,
} from "./commands.js";
export {
  SshCommandError,
  SshConnectionError,
  type SshConnectionFailure,
  SshError,
  SshHostKeyError,
  type SshHostKeyProblem,
  type SshKnownHostKey,
  type SshPresentedHostKey,
  SshTimeoutError,
  SshTransferError,
} from "./errors.js";
export type { SshStream } from "./exec.js";
export { type FanOutOptions, FanOutReport, type FanOutRow, fanOut } from "./fan-out.js";
export {
  type CaptureFormatterOptions,
  captureFormatter,
  type FileFormatterOptions,
  fileFormatter,
  type PrefixedFormatterOptions,
  prefixedFormatter,
  type SshFormatter,
  type SshOutputSink,
  type SshOutputSource,
  silentFormatter,
} from "./formatters.js";
export { type SshHostEntry, SshInventory, type SshInventoryData } from "./inventory.js";
export { type SshCommandLike, SshJob, type SshJobOptions } from "./job.js";
export type { SshHostKey, SshHostKeyPolicy } from "./known-hosts.js";
export {
  parseSshTarget,
  type SshExitStatus,
  type SshHostKeyVerifier,
  SshNode,
  type SshNodeOptions,
  type SshTarget,
} from "./node.js";
export {
  type RemoteCommandOptions,
  remoteCommandJob,
  workflowHosts,
} from "./workflow.js";

// The command line closes the connections of a run without importing this
// package (it loads it only for workflows that name hosts; a TypeScript
// workflow may import it on its own): it looks for this function.
(globalThis as { [key: symbol]: unknown })[Symbol.for("asyncjobs.ssh.closeAll")] = () =>
  SshNode.closeAll();
