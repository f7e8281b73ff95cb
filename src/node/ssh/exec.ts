/**
 * Running one command on a node: the wrapper that keeps no remote process
 * behind, output decoded into lines, and the exit status.
 *
 * @module
 */
import { SshConnectionError } from "./errors.js";
import type { SshExitStatus, SshNode } from "./node.js";
import { LineDecoder, shellQuote } from "./text.js";

/** Which output stream a line came from. */
export type SshStream = "stdout" | "stderr";

/**
 * The POSIX shell script every remote command runs under (`$1` is the
 * command line). OpenSSH does not forward signals reliably and keeps a
 * command running when its channel closes, so the wrapper:
 * - starts the command in a session and process group of its own (`setsid`,
 *   where it exists), its standard input on /dev/null;
 * - keeps the channel's standard input for a watcher, which sees the end of
 *   it when the client sends EOF, closes the channel or loses the
 *   connection, and then sends SIGTERM to the command's whole group, and
 *   SIGKILL two seconds later;
 * - forwards SIGHUP, SIGINT and SIGTERM it receives to the group, and exits
 *   with the command's own exit status, ending the watcher.
 *
 * The watcher is a subshell reading with the `read` builtin, so the wrapper
 * costs two programs besides the command's shell (`sh` and `setsid`): this
 * matters when commands are short.
 */
const WRAPPER = [
  "exec 3<&0 </dev/null",
  "command -v setsid >/dev/null 2>&1 && s=setsid || s=",
  '$s sh -c "$1" 3<&- & p=$!',
  "{ while read -r _; do :; done; kill -s TERM -- -$p 2>/dev/null || kill -s TERM $p; trap 'kill $z; exit' TERM; sleep 2 & z=$!; wait $z; kill -s KILL -- -$p; } <&3 >/dev/null 2>&1 & w=$!",
  "exec 3<&-",
  "trap 'kill -s TERM -- -$p 2>/dev/null || kill -s TERM $p' HUP INT TERM",
  "while :; do wait $p; r=$?; kill -0 $p 2>/dev/null || break; done",
  "kill -s TERM $w 2>/dev/null",
  "exit $r",
].join("; ");

/** The exec request for `commandLine`: the wrapper, run by `sh` whatever the login shell. */
export function wrapCommand(commandLine: string): string {
  return `sh -c ${shellQuote(WRAPPER)} asyncjobs ${shellQuote(commandLine)}`;
}

/** What {@link execRemote} needs besides the command. */
export interface ExecOptions {
  signal: AbortSignal;
  /** Receives each line of output, without its line ending. */
  onLine: (line: string, stream: SshStream) => void;
  /** Milliseconds between asking the command to stop and closing the channel anyway. */
  killGrace: number;
  /** What the command is called in error messages. */
  display: string;
  /**
   * Called with a promise that settles once the channel is closed, for
   * shutdown to wait on after an abort.
   */
  track?: (closed: Promise<void>) => void;
}

/**
 * Runs `commandLine` on `node` and resolves with its exit status (whatever
 * it is). Rejects with an {@link SshConnectionError} if the connection is
 * lost before the command ends, and with `signal.reason` on abort, after
 * which the remote process group is terminated and the channel closed.
 */
export async function execRemote(
  node: SshNode,
  commandLine: string,
  options: ExecOptions,
): Promise<SshExitStatus> {
  const { signal, onLine, killGrace, display, track } = options;
  const { channel, exitStatus } = await node._exec(wrapCommand(commandLine), signal);
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  track?.(closed);
  return new Promise<SshExitStatus>((resolve, reject) => {
    let aborted = false;
    // Once cancelled, what the dying command still prints ("Terminated") is dropped.
    const stdout = new LineDecoder((line) => aborted || onLine(line, "stdout"));
    const stderr = new LineDecoder((line) => aborted || onLine(line, "stderr"));
    channel.on("data", (chunk: Buffer) => stdout.write(chunk));
    channel.stderr.on("data", (chunk: Buffer) => stderr.write(chunk));
    channel.on("error", () => {
      // Reported through "close" without an exit status.
    });
    channel.on("close", () => {
      signal.removeEventListener("abort", onAbort);
      stdout.end();
      stderr.end();
      markClosed();
      if (aborted) return;
      const exit = exitStatus();
      if (exit !== undefined) resolve(exit);
      else {
        reject(
          new SshConnectionError(node.target, "lost", `connection lost while running ${display}`),
        );
      }
    });
    const onAbort = (): void => {
      aborted = true;
      try {
        // Honoured by some servers; the wrapper does the job for the others.
        channel.signal("TERM");
      } catch {
        // The channel is already going away.
      }
      // The end of its standard input tells the wrapper to kill the command.
      channel.end();
      const force = setTimeout(() => channel.close(), killGrace);
      closed.then(() => clearTimeout(force));
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}
