/**
 * SshJob: a job that runs commands in order on a remote node.
 *
 * @module
 */

import type { JobContext } from "asyncjobs";
import { AbstractJob, type JobOptions } from "asyncjobs";
import { describeValue, JOB_OPTION_NAMES } from "asyncjobs/extend";
import type { SFTPWrapper } from "ssh2";
import { Run, SshCommand, type SshCommandContext, type SshRunStatus } from "./commands.js";
import { SshTimeoutError } from "./errors.js";
import { execRemote } from "./exec.js";
import { prefixedFormatter, type SshFormatter } from "./formatters.js";
import { SshNode } from "./node.js";
import { Tail } from "./text.js";
import { checkCount, checkOptions, checkTimer } from "./validate.js";

/** A command of an {@link SshJob}: a command object, or a command line (a {@link Run}). */
export type SshCommandLike = SshCommand | string;

/** Options of {@link SshJob}. Durations are in milliseconds. */
export interface SshJobOptions extends JobOptions {
  /** Where output goes; default {@link prefixedFormatter} (`[host] line` on the terminal). */
  formatter?: SshFormatter;
  /**
   * Milliseconds all the commands may take; the job then fails with an
   * {@link SshTimeoutError} (a `TimeoutError`) and its running command is
   * stopped. At most 2^31−1 ms.
   */
  timeout?: number | null;
  /** Milliseconds between asking a cancelled command to stop and closing its channel anyway; default 2000. */
  killGrace?: number;
  /** How many of the last stderr lines a failure keeps; default 10. */
  tailLines?: number;
}

const SSH_JOB_OPTION_NAMES: ReadonlySet<string> = new Set([
  ...JOB_OPTION_NAMES,
  "formatter",
  "timeout",
  "killGrace",
  "tailLines",
]);

let sharedDefaultFormatter: SshFormatter | undefined;

/**
 * A job that runs its commands in order on a node, over the node's shared
 * connection (opened on first use).
 *
 * - Commands are {@link Run}, {@link RunString}, {@link RunScript},
 *   {@link Push} and {@link Pull}; a plain string is a `Run` of that
 *   command line.
 * - Output goes line by line to the `formatter`, by default prefixed with
 *   the node's label on this process's stdout and stderr.
 * - The job resolves with the last command's exit code (0, or one of its
 *   `allowedExits`), or with the captured output when the formatter
 *   captures ({@link captureFormatter}).
 * - The first command that fails stops the job: a non-zero exit is an
 *   {@link SshCommandError} naming the node, the command, the exit code and
 *   the last lines of stderr; an unreachable node an
 *   {@link SshConnectionError}.
 * - When the job is cancelled, the running remote command's process group
 *   is terminated and its channel closed: nothing is left running there.
 *
 * @example
 * ```ts
 * import { Scheduler } from "asyncjobs";
 * import { Push, Run, SshJob, SshNode } from "@asyncjobs/ssh";
 * const node = new SshNode("root@192.0.2.10", { keyFile: "~/.ssh/id_ed25519" });
 * const deploy = new SshJob(node, [new Push("dist", "app/"), new Run(["app/dist/start", "--check"])]);
 * await new Scheduler(deploy).run();
 * await SshNode.closeAll();
 * ```
 */
export class SshJob extends AbstractJob<string | number> {
  /** The node the commands run on. */
  readonly node: SshNode;
  /** The commands, in order. */
  readonly commands: readonly SshCommand[];
  /** Where output goes; settable. */
  formatter: SshFormatter;
  /** Milliseconds between asking a cancelled command to stop and closing its channel. */
  readonly killGrace: number;
  /** How many stderr lines a failure keeps. */
  readonly tailLines: number;
  #closing = new Set<Promise<void>>();
  readonly #timeout: number | null;
  #exitCode: number | null = null;
  #startedAt: number | undefined;
  #endedAt: number | undefined;

  /**
   * @param node - where the commands run.
   * @param commands - one command or a list, run in order; strings are command lines.
   */
  constructor(
    node: SshNode,
    commands: SshCommandLike | readonly SshCommandLike[],
    options: SshJobOptions = {},
  ) {
    checkOptions("SshJob()", options, SSH_JOB_OPTION_NAMES);
    // The job runs its own timeout: it stops the remote command as a cancel does.
    const { formatter, killGrace, tailLines, timeout, ...jobOptions } = options;
    super(jobOptions);
    if (!(node instanceof SshNode)) {
      throw new TypeError(`SshJob(): the node must be an SshNode, got ${describeValue(node)}`);
    }
    this.node = node;
    const list: readonly unknown[] = Array.isArray(commands) ? commands : [commands];
    if (list.length === 0) throw new TypeError("SshJob(): no command given");
    this.commands = list.map((command) => {
      if (typeof command === "string") return new Run(command);
      if (command instanceof SshCommand) return command;
      throw new TypeError(
        `SshJob(): a command must be a Run, RunString, RunScript, Push, Pull or a command line, got ${describeValue(command)}`,
      );
    });
    if (
      formatter !== undefined &&
      typeof (formatter as { open?: unknown } | null)?.open !== "function"
    ) {
      throw new TypeError(
        `SshJob(): option "formatter" must be a formatter, got ${describeValue(formatter)}`,
      );
    }
    sharedDefaultFormatter ??= prefixedFormatter();
    this.formatter = formatter ?? sharedDefaultFormatter;
    this.#timeout = checkTimer("SshJob()", "timeout", timeout);
    this.killGrace = checkTimer("SshJob()", "killGrace", killGrace) ?? 2000;
    this.tailLines = checkCount("SshJob()", "tailLines", tailLines, 10);
  }

  /** `label: first command (+N)`, shortened to 60 characters. */
  override textLabel(): string {
    const more = this.commands.length > 1 ? ` (+${this.commands.length - 1})` : "";
    const text = `${this.node.label}: ${this.commands[0]!.text()}${more}`;
    return text.length > 60 ? `${text.slice(0, 59)}…` : text;
  }

  /** The node, then each command on a line. */
  override details(): string {
    return [
      `on ${this.node.target}`,
      ...this.commands.map((command) => `  ${command.text()}`),
    ].join("\n");
  }

  /** Milliseconds the last run took (so far, if it is running); undefined before any. */
  get elapsed(): number | undefined {
    if (this.#startedAt === undefined) return undefined;
    return (this.#endedAt ?? performance.now()) - this.#startedAt;
  }

  /**
   * The exit code of the last command the last run ran (0 for transfers),
   * or null before any or when it was ended by a signal or never started.
   */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** Waits for the channels of a cancelled run to be closed. */
  override async shutdown(): Promise<boolean> {
    await Promise.all(this.#closing);
    return true;
  }

  /** Runs the commands in order; see the class documentation. */
  override async run(context: JobContext): Promise<string | number> {
    this.#startedAt = performance.now();
    this.#endedAt = undefined;
    this.#exitCode = null;
    const { signal, dispose } = withTimeout(
      context.signal,
      this.#timeout,
      this.node.target,
      `job "${this.label ?? this.textLabel()}"`,
    );
    const sink = this.formatter.open(this);
    const track = (closed: Promise<void>): void => {
      this.#closing.add(closed);
      closed.then(() => this.#closing.delete(closed));
    };
    const commandContext: SshCommandContext = {
      node: this.node,
      signal,
      exec: async (commandLine, display): Promise<SshRunStatus> => {
        const tail = new Tail(this.tailLines);
        const status = await execRemote(this.node, commandLine, {
          signal,
          killGrace: this.killGrace,
          display,
          track,
          onLine: (line, stream) => {
            if (stream === "stderr") tail.push(line);
            try {
              sink.line(line, stream);
            } catch {
              // A failing output sink must not break the command.
            }
          },
        });
        this.#exitCode = status.code;
        return { ...status, stderr: tail.items };
      },
      withSftp: (use) => withSftp(this.node, signal, track, use),
    };
    let last = 0;
    try {
      for (const command of this.commands) {
        signal.throwIfAborted();
        last = await command._execute(commandContext);
        this.#exitCode = last;
      }
    } catch (error) {
      await Promise.resolve()
        .then(() => sink.close())
        .catch(() => undefined);
      throw error;
    } finally {
      dispose();
      this.#endedAt = performance.now();
    }
    const captured = await sink.close();
    return captured ?? last;
  }
}

/** Runs `use` with an SFTP session of `node`, closing it afterwards (or on abort). */
async function withSftp<T>(
  node: SshNode,
  signal: AbortSignal,
  track: (closed: Promise<void>) => void,
  use: (sftp: SFTPWrapper) => Promise<T>,
): Promise<T> {
  const sftp = await node._sftp(signal);
  const closed = new Promise<void>((resolve) => sftp.once("close", () => resolve()));
  track(closed);
  const onAbort = (): void => sftp.end();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await use(sftp);
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    signal.removeEventListener("abort", onAbort);
    sftp.end();
  }
}

/** The job's signal, also aborted once `timeout` ms have passed. */
function withTimeout(
  signal: AbortSignal,
  timeout: number | null,
  target: string,
  what: string,
): { signal: AbortSignal; dispose: () => void } {
  if (timeout === null) return { signal, dispose: () => undefined };
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal.reason);
  const timer = setTimeout(
    () => controller.abort(new SshTimeoutError(target, timeout, what)),
    timeout,
  );
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    },
  };
}
