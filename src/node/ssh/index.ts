/**
 * Remote jobs over SSH: nodes, the job that runs commands on them, the
 * commands, output formatters and fan-out.
 *
 * @module
 */
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
