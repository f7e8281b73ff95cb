/**
 * The errors remote jobs fail with. Each names the node it happened on as
 * `user@host:port` (and the gateways in between), so that a failure among a
 * hundred hosts says which one.
 *
 * @module
 */
import { TimeoutError } from "asyncjobs";

/** What went wrong while reaching a node. */
export type SshConnectionFailure =
  /** Nothing listens on the port (connection refused). */
  | "refused"
  /** No route to the host, or the name does not resolve. */
  | "unreachable"
  /** The connection, handshake and authentication took longer than `connectTimeout`. */
  | "timeout"
  /** The server accepted none of the keys offered. */
  | "auth"
  /** The host's key was refused (see {@link SshHostKeyError}). */
  | "host-key"
  /** The gateway could not open a tunnel to the host. */
  | "gateway"
  /** The connection went away while in use (or keepalives went unanswered). */
  | "lost"
  /** Anything else the SSH layer reported. */
  | "protocol";

/** The base class of the errors of remote jobs: each knows which node it is about. */
export class SshError extends Error {
  /** `"SshError"`; each subclass has its own name. */
  override name = "SshError";
  /** The node, as `user@host:port`, followed by ` via …` for each gateway. */
  readonly target: string;

  constructor(target: string, message: string, options?: { cause?: unknown }) {
    super(`${target}: ${message}`, options);
    this.target = target;
  }
}

/** A node could not be reached, or its connection was lost. */
export class SshConnectionError extends SshError {
  /** `"SshConnectionError"`. */
  override name = "SshConnectionError";
  /** What went wrong. */
  readonly failure: SshConnectionFailure;

  constructor(
    target: string,
    failure: SshConnectionFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(target, message, options);
    this.failure = failure;
  }
}

/** Why a host's key was refused. */
export type SshHostKeyProblem =
  /** The known_hosts files (or this process) know another key for the host: possibly a man in the middle. */
  | "changed"
  /** The host is in no known_hosts file and the policy is `"strict"`. */
  | "unknown"
  /** The key is marked `@revoked` in a known_hosts file. */
  | "revoked"
  /** The node's own verifier function refused it (or failed). */
  | "refused"
  /** A known_hosts file could not be read. */
  | "unreadable";

/** A key a host is known by, as a {@link SshHostKeyError} reports it. */
export interface SshKnownHostKey {
  /** Where it is known: `file:line`, or `"pinned in this process"`. */
  readonly where: string;
  /** Its type, as in known_hosts (`"ssh-ed25519"`). */
  readonly type: string;
  /** Its SHA-256 fingerprint (`"SHA256:…"`). */
  readonly fingerprint: string;
}

/** The key a host presented, as a {@link SshHostKeyError} reports it. */
export interface SshPresentedHostKey {
  /** Its type, as in known_hosts (`"ssh-ed25519"`). */
  readonly type: string;
  /** Its SHA-256 fingerprint (`"SHA256:…"`). */
  readonly fingerprint: string;
}

/**
 * A host's key was refused: the connection was closed before anything was
 * sent to the host (not even the user's name). The message names the host,
 * the key type and the fingerprints, as OpenSSH's does.
 */
export class SshHostKeyError extends SshConnectionError {
  /** `"SshHostKeyError"`. */
  override name = "SshHostKeyError";
  /** Why the key was refused. */
  readonly problem: SshHostKeyProblem;
  /** The name the host is known by in known_hosts: `host`, or `[host]:port`. */
  readonly host: string;
  /** The key the host presented, when it got that far. */
  readonly presented: SshPresentedHostKey | undefined;
  /** The keys the host is known by, for a `"changed"` key. */
  readonly known: readonly SshKnownHostKey[];

  constructor(
    target: string,
    details: {
      problem: SshHostKeyProblem;
      host: string;
      presented?: SshPresentedHostKey;
      known?: readonly SshKnownHostKey[];
      message: string;
    },
    options?: { cause?: unknown },
  ) {
    super(target, "host-key", details.message, options);
    this.problem = details.problem;
    this.host = details.host;
    this.presented = details.presented;
    this.known = details.known ?? [];
  }
}

/**
 * A remote command failed: it exited with a code it was not allowed to, or
 * was ended by a signal. The message names the node, the command and the
 * exit code, and ends with the last lines of standard error; `stack` shows
 * those lines one per line, in place of a JavaScript stack.
 */
export class SshCommandError extends SshError {
  /** `"SshCommandError"`. */
  override name = "SshCommandError";
  /** The command, as the job's listing shows it. */
  readonly command: string;
  /** The exit code, or null when the command was ended by a signal. */
  readonly exitCode: number | null;
  /** The signal that ended the command, if one did (e.g. `"KILL"`). */
  readonly signal: string | null;
  /** The last lines the command wrote to standard error. */
  readonly stderr: readonly string[];

  constructor(
    target: string,
    details: {
      command: string;
      exitCode: number | null;
      signal?: string | null;
      stderr?: readonly string[];
    },
  ) {
    const stderr = details.stderr ?? [];
    const how =
      details.exitCode === null
        ? `was killed by signal ${details.signal ?? "?"}`
        : `exited with code ${details.exitCode}`;
    const tail = stderr.length > 0 ? `; stderr: ${stderr.slice(-3).join(" | ")}` : "";
    super(target, `${details.command} ${how}${tail}`);
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.signal = details.signal ?? null;
    this.stderr = stderr;
    this.stack = [
      `${this.name}: ${target}: ${details.command} ${how}`,
      ...stderr.map((line) => `    stderr | ${line}`),
    ].join("\n");
  }
}

/** A file transfer (`Push`, `Pull`, or the upload of a script) failed. */
export class SshTransferError extends SshError {
  /** `"SshTransferError"`. */
  override name = "SshTransferError";
  /** The path the failure is about (local or remote, as the message says). */
  readonly path: string;

  constructor(target: string, path: string, message: string, options?: { cause?: unknown }) {
    super(target, message, options);
    this.path = path;
  }
}

/**
 * An {@link SshJob}'s own `timeout` expired: its running command was
 * stopped. A `TimeoutError`, as the timeout of any other job, that also
 * names the node.
 */
export class SshTimeoutError extends TimeoutError {
  /** `"SshTimeoutError"`. */
  override name = "SshTimeoutError";
  /** The node, as `user@host:port`, followed by ` via …` for each gateway. */
  readonly target: string;
  /** The timeout that expired, in milliseconds. */
  readonly timeout: number;

  constructor(target: string, timeout: number, what: string) {
    super(`${target}: ${what} timed out after ${timeout} ms`);
    this.target = target;
    this.timeout = timeout;
  }
}

/** The message of an error, or the text of anything else thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
