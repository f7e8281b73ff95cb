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
 * - runs the command with the login shell (`$SHELL -c`, as ssh would), its
 *   standard input on /dev/null, in a process group that can be killed as
 *   a whole: the wrapper's own, which sshd made a new session (checked in
 *   /proc), or else a new one made with `setsid`;
 * - keeps the channel's standard input for a watcher subshell, which sees
 *   the end of it when the client sends EOF, closes the channel or loses
 *   the connection, and then sends SIGTERM to the group, and SIGKILL if the
 *   command is still there two seconds later;
 * - does the same on SIGHUP, SIGINT or SIGTERM, and otherwise exits with
 *   the command's own exit status, ending the watcher.
 *
 * Where sshd starts sessions as it does, that costs one extra program per
 * command (this `sh`), which matters when commands are short.
 */
const WRAPPER = [
  "exec 3<&0 </dev/null",
  'stop() { [ -n "$d" ] && return; d=1; kill -s TERM -- -$g 2>/dev/null || kill -s TERM $p 2>/dev/null; }',
  'l=$SHELL; [ -n "$l" ] || l=sh',
  "g=; { read -r _ _ _ _ g _ </proc/$$/stat; } 2>/dev/null",
  'if [ "$g" = "$$" ]; then "$l" -c "$1" 3<&- & p=$!',
  'else command -v setsid >/dev/null 2>&1 && s=setsid || s=; $s "$l" -c "$1" 3<&- & p=$!; g=$p; fi',
  "trap stop HUP INT TERM",
  "{ trap - HUP INT TERM; while read -r _; do :; done; trap '' TERM; stop; i=0; while kill -0 $p 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; kill -s KILL -- -$g; } <&3 >/dev/null 2>&1 & w=$!",
  "exec 3<&-",
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
