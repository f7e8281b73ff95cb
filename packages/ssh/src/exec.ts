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
 * The shell script every remote command runs under (`$_ajc` holds the
 * command line). OpenSSH does not forward signals reliably and keeps a
 * command running when its channel closes, so the wrapper:
 * - runs the command in a subshell of the login shell itself (`eval`, so
 *   that it means what it means over plain ssh, at the cost of a fork and
 *   no extra program), standard input on /dev/null, in a process group
 *   that can be killed as a whole: the login shell's own, which sshd made a
 *   new session (checked in /proc), or else a new one made with `setsid`
 *   (the command then runs with `sh -c`);
 * - keeps the channel's standard input for a watcher subshell, which sees
 *   the end of it when the client sends EOF, closes the channel or loses
 *   the connection, and then sends SIGTERM to the group, and SIGKILL if the
 *   command is still there two seconds later;
 * - does the same on SIGHUP, SIGINT or SIGTERM, and otherwise exits with
 *   the command's own exit status, ending the watcher.
 *
 * It is POSIX shell: for an account whose login shell is not one (csh,
 * fish), the node's `shell` option names one to run it with.
 */
const WRAPPER = [
  "exec 3<&0 </dev/null",
  '_ajstop() { [ -n "$_ajd" ] && return; _ajd=1; kill -s TERM -- -$_ajg 2>/dev/null || kill -s TERM $_ajp 2>/dev/null; }',
  "_ajg=; { read -r _ajx _ajx _ajx _ajx _ajg _ajx </proc/$$/stat; } 2>/dev/null",
  'if [ "$_ajg" = "$$" ]; then ( exec 3<&-; eval "$_ajc" ) & _ajp=$!',
  'else command -v setsid >/dev/null 2>&1 && _ajs=setsid || _ajs=; $_ajs sh -c "$_ajc" 3<&- & _ajp=$!; _ajg=$_ajp; fi',
  "trap _ajstop HUP INT TERM",
  "{ trap - HUP INT TERM; while read -r _ajx; do :; done; trap '' TERM; _ajstop; _aji=0; while kill -0 $_ajp 2>/dev/null && [ $_aji -lt 20 ]; do sleep 0.1; _aji=$((_aji+1)); done; kill -s KILL -- -$_ajg; } <&3 >/dev/null 2>&1 & _ajw=$!",
  "exec 3<&-",
  "while :; do wait $_ajp; _ajr=$?; kill -0 $_ajp 2>/dev/null || break; done",
  "kill -s TERM $_ajw 2>/dev/null",
  "exit $_ajr",
].join("; ");

/**
 * The exec request for `commandLine`: the wrapper, read by the login shell,
 * or by `shell` (`shell -c '…'`) when one is given.
 */
export function wrapCommand(commandLine: string, shell?: string): string {
  const script = `_ajc=${shellQuote(commandLine)}; ${WRAPPER}`;
  return shell === undefined ? script : `${shellQuote(shell)} -c ${shellQuote(script)}`;
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
  const { channel, exitStatus } = await node._exec(wrapCommand(commandLine, node.shell), signal);
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
