/**
 * CommandJob: a job that runs a local program, streams its output line by
 * line, and never leaves a process behind when it is cancelled.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { JobContext } from "asyncjobs";
import { AbstractJob, type JobOptions } from "asyncjobs";
import {
  checkBoolean,
  checkDuration,
  describeValue,
  isPlainObject,
  JOB_OPTION_NAMES,
  rejectUnknownOptions,
} from "asyncjobs/extend";
import {
  CommandLineError,
  joinCommandLine,
  shellCommandLine,
  splitCommandLine,
} from "./command-line.js";
import { LineSplitter } from "./output-lines.js";
import {
  anyAlive,
  canSearchProcesses,
  findDescendants,
  PROCESS_TAG_VARIABLE,
  type ProcessSet,
  signalProcesses,
  startTime,
  tagValue,
} from "./process-tree.js";

/** Which output stream a line came from. */
export type OutputStream = "stdout" | "stderr";

/**
 * Receives each line a command prints (without its line ending; a line
 * longer than 64 KiB is cut there and ends with `… [truncated N bytes]`).
 * The default writes `[label] line` to the process's stdout or stderr.
 *
 * A sink that cannot keep up returns a promise: the job stops reading the
 * program's output until it settles, so that the program waits on its full
 * pipe instead of filling this process's memory. The default sink does so
 * when stdout or stderr is backed up (a pipe to a slow reader).
 */
export type CommandOutput = (
  line: string,
  stream: OutputStream,
  job: CommandJob,
) => void | PromiseLike<unknown>;

/** Options of {@link CommandJob}. Durations are in milliseconds. */
export interface CommandJobOptions extends JobOptions {
  /**
   * Run through a shell: `true` for `/bin/sh` (`cmd.exe` on Windows), or the
   * path of a shell. Without it the program is started directly, and a
   * command line given as a string is split into arguments (quotes are
   * honoured, nothing is expanded).
   */
  shell?: boolean | string;
  /** Working directory of the program; default: the current one. */
  cwd?: string;
  /**
   * Environment variables set for the program, on top of the current
   * environment; a variable set to `undefined` is removed.
   */
  env?: Record<string, string | undefined>;
  /** Milliseconds the program may run; it is then terminated and the job fails. */
  timeout?: number | null;
  /** Resolve with the program's standard output (its last newline dropped) instead of 0. */
  capture?: boolean;
  /** Milliseconds between SIGTERM and SIGKILL when the program is terminated; default 2000. */
  killGrace?: number;
  /** Where output lines go; default: `[label] line` on stdout / stderr. */
  output?: CommandOutput | null;
  /** How many of the last stderr lines a {@link CommandError} keeps; default 10. */
  tailLines?: number;
  /**
   * Makes the job a service that says when it is ready: once a line the
   * program prints (on stdout or stderr) contains this text, or matches this
   * regular expression, the job calls its context's `ready()` (once per
   * run), so that the jobs requiring it start while the program goes on
   * running. Typically with `forever: true`, for a server started for the
   * jobs that use it and terminated once they are done.
   */
  readyWhen?: string | RegExp | null;
}

const COMMAND_JOB_OPTION_NAMES: ReadonlySet<string> = new Set([
  ...JOB_OPTION_NAMES,
  "shell",
  "cwd",
  "env",
  "timeout",
  "capture",
  "killGrace",
  "output",
  "tailLines",
  "readyWhen",
]);

const COMMAND_JOB_BRAND: unique symbol = Symbol.for("asyncjobs.CommandJob");
const COMMAND_ERROR_BRAND: unique symbol = Symbol.for("asyncjobs.CommandError");

/** What made a command fail. */
export type CommandFailure = "exit" | "signal" | "timeout" | "spawn";

/**
 * The error a {@link CommandJob} fails with: the program exited with a
 * non-zero code, was killed by a signal, ran past its timeout, or could not
 * be started. Its `stack` shows the last lines of standard error instead of
 * a JavaScript stack, which says nothing about a program.
 */
export class CommandError extends Error {
  /** `"CommandError"`. */
  override name = "CommandError";
  /** The command as given. */
  readonly command: string | readonly string[];
  /** What made it fail. */
  readonly failure: CommandFailure;
  /** The exit code, or null when the program did not exit by itself. */
  readonly exitCode: number | null;
  /** The signal that ended the program, if one did. */
  readonly signal: string | null;
  /** The last lines the program wrote to standard error. */
  readonly stderr: readonly string[];
  /** What happened, without the command: `exited with code 2`, `timed out after 500 ms`. */
  readonly reason: string;

  /** Whether `value` is a CommandError, even one from another copy of this module. */
  static isCommandError(value: unknown): value is CommandError {
    return typeof value === "object" && value !== null && COMMAND_ERROR_BRAND in value;
  }

  constructor(
    message: string,
    details: {
      command: string | readonly string[];
      failure: CommandFailure;
      reason: string;
      exitCode?: number | null;
      signal?: string | null;
      stderr?: readonly string[];
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.command = details.command;
    this.failure = details.failure;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderr = details.stderr ?? [];
    this.reason = details.reason;
    Object.defineProperty(this, COMMAND_ERROR_BRAND, { value: true });
    const tail = this.stderr.map((line) => `    stderr | ${line}`);
    this.stack = [`${this.name}: ${message}`, ...tail].join("\n");
  }
}

/** One started program, tracked until its whole process group is gone. */
interface LiveProcess {
  child: ChildProcess;
  /** Resolves once the program and its process group are gone. */
  gone: Promise<void>;
  terminate(): void;
  kill(): void;
}

const live = new Set<LiveProcess>();

/** Sends `signal` to the program's process group (its own group, see spawn), or to it alone. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  const pid = child.pid;
  if (pid === undefined) return false;
  try {
    if (process.platform === "win32")
      return signal === 0 ? child.exitCode === null : child.kill(signal);
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the program's process group still has a member that is not a
 * zombie. Zombies are dead, waiting to be reaped by init (which, in some
 * containers, never comes), so on Linux they are told apart through /proc.
 */
function groupAlive(child: ChildProcess): boolean {
  const pid = child.pid;
  if (!signalGroup(child, 0) || pid === undefined) return false;
  if (process.platform !== "linux") return true;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // Gone meanwhile.
    }
    // "pid (comm) state ppid pgrp ...": comm may hold anything, so read after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pid && fields[0] !== "Z") return true;
  }
  return false;
}

/** The promise that resolves once `stream` drains (or closes: it then never will), one per stream. */
const drains = new WeakMap<NodeJS.WritableStream, Promise<void>>();

function drained(stream: NodeJS.WriteStream): Promise<void> {
  let waiting = drains.get(stream);
  if (waiting === undefined) {
    waiting = new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off("drain", done);
        stream.off("close", done);
        stream.off("error", done);
        drains.delete(stream);
        resolve();
      };
      stream.on("drain", done);
      stream.on("close", done);
      stream.on("error", done);
    });
    drains.set(stream, waiting);
  }
  return waiting;
}

/**
 * Writes `[label] line` to this process's stdout or stderr. When the stream
 * is backed up (a pipe to a slow reader), says so with a promise, so that the
 * job stops reading the program's output until it drains.
 */
function defaultOutput(line: string, stream: OutputStream, job: CommandJob): void | Promise<void> {
  const label = job.label ?? job.textLabel();
  const out = process[stream];
  if (out.write(`[${label}] ${line}\n`)) return undefined;
  return drained(out);
}

/** Whether a sink's result asks the job to wait (a promise or any thenable). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

let tags = 0;

/** A token unique to one started program, put in its environment (see process-tree.ts). */
function newTag(): string {
  tags++;
  return `${process.pid}.${tags}.${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * After a terminated program exits, how long its output pipes may stay open
 * (held by a process it left behind that no signal reaches) before they are
 * destroyed and the job settles anyway.
 */
const DRAIN_MS = 100;

/**
 * A job that runs a local program with arguments.
 *
 * - No shell is involved unless `shell` is set: a string command line is
 *   split into arguments (quotes honoured, nothing expanded), an array is
 *   used as is.
 * - Each line the program prints goes to `output`, by default to this
 *   process's stdout or stderr prefixed with `[label]`.
 * - The job resolves with 0 (or, with `capture`, with the program's standard
 *   output) when the program exits with code 0, and fails with a
 *   {@link CommandError} carrying the exit code and the last lines of
 *   standard error otherwise.
 * - With `readyWhen`, the job says it is ready (its dependents start while
 *   the program goes on running) once the program prints a matching line:
 *   a server run as a `forever` job for the jobs that use it.
 * - With `shell`, a command line is given to the shell as is; an argument
 *   list has each argument single-quoted (POSIX quoting), so that the shell
 *   runs exactly that list.
 * - When the job is cancelled (its signal aborts) or its `timeout` expires,
 *   the program's whole process group gets SIGTERM, then SIGKILL after
 *   `killGrace` ms. On Linux, so do the processes that left the group: those
 *   found by parent links, in the program's session, or carrying the run's
 *   `ASYNCJOBS_PROCESS_TAG` environment variable (a daemon re-parented to
 *   init still does, unless it cleared its environment). The job settles
 *   once the program has exited and, at the latest, `killGrace` ms plus a
 *   moment after the termination began, even if something out of reach
 *   holds its output pipes open (they are then destroyed). `shutdown()`
 *   waits for what was signalled to be gone, and
 *   {@link CommandJob.terminateAll} / {@link CommandJob.killAll} reach every
 *   program still running, so that nothing is left behind.
 * - Memory stays bounded whatever the program prints: a line is cut at
 *   64 KiB (`… [truncated N bytes]`), and while the output sink is backed
 *   up, the program's output is not read (it waits on its pipe). Only
 *   `capture` keeps the whole standard output, as asked.
 *
 * @example
 * ```ts
 * import { Scheduler } from "asyncjobs";
 * import { CommandJob } from "@asyncjobs/node";
 * const lint = new CommandJob("npx biome check .", { label: "lint" });
 * const test = new CommandJob(["npm", "test"], { label: "test", required: lint, timeout: 60_000 });
 * await new Scheduler(lint, test).run();
 * ```
 */
export class CommandJob extends AbstractJob<string | number> {
  /** The command as given: a command line or an argument list. */
  readonly command: string | readonly string[];
  /** The shell it runs through, if any. */
  readonly shell: boolean | string;
  /** Its working directory, if not the current one. */
  readonly cwd: string | undefined;
  /** Environment variables set on top of the current environment. */
  readonly env: Readonly<Record<string, string | undefined>> | undefined;
  /** Milliseconds it may run, or null. */
  readonly timeout: number | null;
  /** Whether the job resolves with the program's standard output. */
  readonly capture: boolean;
  /** Milliseconds between SIGTERM and SIGKILL. */
  readonly killGrace: number;
  /** How many stderr lines a failure keeps. */
  readonly tailLines: number;
  /** The text or pattern of the output line that makes the job ready, if any. */
  readonly readyWhen: string | RegExp | undefined;
  /** Where output lines go; settable, e.g. by a live view. Undefined: the default. */
  output: CommandOutput | undefined;
  /** The argument list, when no shell is used (the command line split). */
  readonly argv: readonly string[] | undefined;
  #current: LiveProcess | undefined;

  /**
   * @param command - a command line (`"make -j4 all"`) or an argument list
   *   (`["make", "-j4", "all"]`).
   */
  constructor(command: string | readonly string[], options: CommandJobOptions = {}) {
    // Everything is checked before the base constructor runs: it adds the job
    // to its `scheduler:`, which must not get a job that then fails to build.
    const checked = checkArguments(command, options);
    super(checked.jobOptions);
    Object.defineProperty(this, COMMAND_JOB_BRAND, { value: true });
    this.shell = checked.shell;
    this.command = checked.command;
    this.argv = checked.argv;
    this.cwd = checked.cwd;
    this.env = checked.env;
    this.timeout = checked.timeout;
    this.capture = checked.capture;
    this.killGrace = checked.killGrace;
    this.tailLines = checked.tailLines;
    this.output = checked.output;
    this.readyWhen = checked.readyWhen;
  }

  /**
   * The command, shell, cwd, env, capture, timeout and readyWhen: what a
   * run journal's fingerprint compares (not the inherited environment).
   */
  override definition(): unknown {
    return {
      command: this.command,
      shell: this.shell,
      cwd: this.cwd,
      env: this.env,
      capture: this.capture,
      timeout: this.timeout,
      readyWhen: this.readyWhen === undefined ? undefined : String(this.readyWhen),
    };
  }

  /** Whether `value` is a CommandJob, even one from another copy of this module. */
  static isCommandJob(value: unknown): value is CommandJob {
    return typeof value === "object" && value !== null && COMMAND_JOB_BRAND in value;
  }

  /** How many programs started by command jobs are still running. */
  static get running(): number {
    return live.size;
  }

  /**
   * Terminates every program still running (SIGTERM, then SIGKILL after
   * each job's `killGrace`) and resolves once all of them are gone.
   */
  static async terminateAll(): Promise<void> {
    const all = [...live];
    for (const proc of all) proc.terminate();
    await Promise.all(all.map((proc) => proc.gone));
  }

  /** Sends SIGKILL at once to every program still running; synchronous, for exit handlers. */
  static killAll(): void {
    for (const proc of live) proc.kill();
  }

  /** Resolves once no program started by a command job is running any more. */
  static async whenAllGone(): Promise<void> {
    while (live.size > 0) await Promise.all([...live].map((proc) => proc.gone));
  }

  /** The command line, shortened to 60 characters. */
  override textLabel(): string {
    const text = this.commandLine();
    return text.length > 60 ? `${text.slice(0, 59)}…` : text;
  }

  /** The whole command line, and the directory it runs in. */
  override details(): string {
    return this.cwd === undefined ? this.commandLine() : `${this.commandLine()} (in ${this.cwd})`;
  }

  /** The command as one line, as a shell would read it. */
  commandLine(): string {
    return typeof this.command === "string" ? this.command : joinCommandLine(this.command);
  }

  /** Waits for this job's program, if one is being terminated, to be gone. */
  override async shutdown(): Promise<boolean> {
    await this.#current?.gone;
    return true;
  }

  /** Runs the program; see the class documentation. */
  override run(context: JobContext): Promise<string | number> {
    const signal = context.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    const watch = readinessWatch(this.readyWhen, context);
    return new Promise((resolve, reject) => this.#start(signal, watch, resolve, reject));
  }

  #start(
    signal: AbortSignal,
    watch: ((line: string) => void) | undefined,
    resolve: (value: string | number) => void,
    reject: (error: unknown) => void,
  ): void {
    const windows = process.platform === "win32";
    // Every process the program starts inherits the tag, which finds it
    // again on termination even after it left the session (process-tree.ts).
    const tag = canSearchProcesses ? newTag() : undefined;
    let env = this.env === undefined ? process.env : mergeEnv(this.env);
    if (tag !== undefined) {
      env = { ...env, [PROCESS_TAG_VARIABLE]: tagValue(tag, env[PROCESS_TAG_VARIABLE]) };
    }
    const child =
      this.shell === false
        ? spawn(this.argv![0]!, this.argv!.slice(1), {
            cwd: this.cwd,
            env,
            stdio: ["ignore", "pipe", "pipe"],
            // Its own session and process group: one signal reaches them all.
            detached: !windows,
            windowsHide: true,
          })
        : spawn(
            // An argument list stays a list through the shell: each argument
            // quoted, so that none is read as shell syntax.
            typeof this.command === "string" ? this.command : shellCommandLine(this.command),
            {
              cwd: this.cwd,
              env,
              shell: this.shell,
              stdio: ["ignore", "pipe", "pipe"],
              detached: !windows,
              windowsHide: true,
            },
          );
    const since = tag !== undefined && child.pid !== undefined ? startTime(child.pid) : 0;

    const stderrTail: string[] = [];
    const captured: Buffer[] = [];
    const pipes = [child.stdout, child.stderr].filter((pipe) => pipe !== null);
    // Sinks that asked to wait (returned a promise): reading stops until they settle.
    let waits = 0;
    let ended = false;
    const resume = (): void => {
      waits--;
      if (waits === 0 && !ended) for (const pipe of pipes) pipe.resume();
    };
    const emit = (line: string, stream: OutputStream): void => {
      try {
        const result = (this.output ?? defaultOutput)(line, stream, this);
        if (isThenable(result)) {
          if (waits === 0) for (const pipe of pipes) pipe.pause();
          waits++;
          result.then(resume, resume);
        }
      } catch {
        // A failing output sink must not break the program's run.
      }
      // After the line is out, so that it shows before what the dependents print.
      watch?.(line);
    };
    const stdoutLines = new LineSplitter((line) => emit(line, "stdout"));
    const stderrLines = new LineSplitter((line) => {
      stderrTail.push(line);
      if (stderrTail.length > this.tailLines) stderrTail.shift();
      emit(line, "stderr");
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      if (this.capture) captured.push(chunk);
      stdoutLines.push(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => stderrLines.push(chunk));

    let settled = false;
    let timedOut = false;
    let terminating = false;
    let isGone = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    /** Processes that left the program's process group, found on termination. */
    let strays: ProcessSet = new Map();
    let cancelKill: (() => void) | undefined;
    let killedAt: number | undefined;
    let pollTimer: ReturnType<typeof setInterval> | undefined;
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    let cancelRun: (() => void) | undefined;
    let markGone: () => void = () => {};
    const gone = new Promise<void>((done) => {
      markGone = done;
    });

    /** SIGKILL to the group and to every stray, found again now (they may have started more). */
    const killNow = (): void => {
      if (isGone) return;
      killedAt ??= performance.now();
      if (tag !== undefined && child.pid !== undefined) {
        strays = findDescendants(child.pid, tag, since, strays);
      }
      signalGroup(child, "SIGKILL");
      signalProcesses(strays, "SIGKILL");
    };
    const proc: LiveProcess = {
      child,
      gone,
      terminate: () => {
        if (terminating || isGone) return;
        terminating = true;
        // Searched before the first signal, while parent links still lead
        // from the program to what it started.
        if (tag !== undefined && child.pid !== undefined) {
          strays = findDescendants(child.pid, tag, since);
        }
        signalGroup(child, "SIGTERM");
        signalProcesses(strays, "SIGTERM");
        const killTimer = setTimeout(() => {
          cancelKill = undefined;
          killNow();
          if (exit !== undefined) drainThenFinish();
        }, this.killGrace);
        cancelKill = () => clearTimeout(killTimer);
        if (exit !== undefined) drainThenFinish();
      },
      kill: killNow,
    };
    const finishGone = (): void => {
      if (isGone) return;
      isGone = true;
      cancelKill?.();
      if (pollTimer !== undefined) clearInterval(pollTimer);
      live.delete(proc);
      if (this.#current === proc) this.#current = undefined;
      markGone();
    };
    live.add(proc);
    this.#current = proc;

    const onAbort = (): void => proc.terminate();
    signal.addEventListener("abort", onAbort, { once: true });
    if (this.timeout !== null) {
      // checkDuration keeps it within what a timer can wait (2^31 - 1 ms).
      const runTimer = setTimeout(() => {
        timedOut = true;
        proc.terminate();
      }, this.timeout);
      cancelRun = () => clearTimeout(runTimer);
    }

    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      cancelRun?.();
      outcome();
    };

    child.on("error", (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // Errors after a start (a failed kill) change nothing.
      finishGone();
      settle(() =>
        reject(
          new CommandError(`cannot start ${this.textLabel()}: ${startFailure(error)}`, {
            command: this.command,
            failure: "spawn",
            reason: `cannot start: ${startFailure(error)}`,
          }),
        ),
      );
    });

    /**
     * A terminated program has exited, but its output pipes may be held open
     * by what it started: wait for them until the SIGKILL (which closes them
     * when it reaches every holder), then DRAIN_MS more, then destroy them.
     */
    function drainThenFinish(): void {
      if (drainTimer !== undefined || cancelKill !== undefined || settled) return;
      drainTimer = setTimeout(() => {
        for (const pipe of pipes) pipe.destroy();
        finish();
      }, DRAIN_MS);
    }

    child.on("exit", (code: number | null, exitSignal: NodeJS.Signals | null) => {
      exit = { code, signal: exitSignal };
      if (terminating) drainThenFinish();
    });
    child.on("close", () => finish());

    const finish = (): void => {
      if (settled || exit === undefined) return;
      ended = true;
      if (drainTimer !== undefined) clearTimeout(drainTimer);
      stdoutLines.end();
      stderrLines.end();
      const { code, signal: exitSignal } = exit;
      // Processes of the group, and strays, may outlive the program: when it
      // was terminated, the SIGKILL timer still reaches them. Until they are
      // all gone, look now and then; a second after SIGKILL, only zombies
      // waiting to be reaped by init, or processes that no signal of ours
      // reaches, can be left, and the job stops waiting for them.
      const stillThere = (): boolean => groupAlive(child) || anyAlive(strays);
      if (!terminating || !stillThere()) finishGone();
      else {
        pollTimer = setInterval(() => {
          const killedLongAgo = killedAt !== undefined && performance.now() - killedAt > 1000;
          if (killedLongAgo || !stillThere()) finishGone();
        }, 25);
      }
      settle(() => {
        if (signal.aborted) {
          reject(signal.reason);
        } else if (timedOut) {
          reject(
            new CommandError(`${this.textLabel()} timed out after ${this.timeout} ms`, {
              command: this.command,
              failure: "timeout",
              reason: `timed out after ${this.timeout} ms`,
              exitCode: code,
              signal: exitSignal,
              stderr: stderrTail,
            }),
          );
        } else if (code === 0) {
          const text = this.capture ? Buffer.concat(captured).toString("utf8") : "";
          resolve(this.capture ? text.replace(/\r?\n$/, "") : 0);
        } else {
          const how =
            code === null
              ? `was killed by ${exitSignal ?? "a signal"}`
              : `exited with code ${code}`;
          reject(
            new CommandError(`${this.textLabel()} ${how}`, {
              command: this.command,
              failure: code === null ? "signal" : "exit",
              reason: how,
              exitCode: code,
              signal: exitSignal,
              stderr: stderrTail,
            }),
          );
        }
      });
    };
  }
}

/** The checked arguments of a CommandJob, ready to be stored. */
interface CheckedArguments {
  jobOptions: JobOptions;
  shell: boolean | string;
  command: string | readonly string[];
  argv: readonly string[] | undefined;
  cwd: string | undefined;
  env: Record<string, string | undefined> | undefined;
  timeout: number | null;
  capture: boolean;
  killGrace: number;
  tailLines: number;
  output: CommandOutput | undefined;
  readyWhen: string | RegExp | undefined;
}

/** Checks every argument of the constructor, changing nothing; throws on the first one at fault. */
function checkArguments(command: unknown, options: unknown): CheckedArguments {
  if (!isPlainObject(options)) {
    throw new TypeError(
      `CommandJob(): options must be a plain object, got ${describeValue(options)}`,
    );
  }
  rejectUnknownOptions("CommandJob()", options, COMMAND_JOB_OPTION_NAMES);
  const {
    shell: shellOption,
    cwd,
    env,
    timeout,
    capture,
    killGrace,
    output,
    tailLines,
    readyWhen,
    ...jobOptions
  } = options as CommandJobOptions;
  const shell = checkShell(shellOption);
  const checkedCommand = checkCommand(command);
  let argv: readonly string[] | undefined;
  if (shell === false) {
    argv = typeof checkedCommand === "string" ? splitOrThrow(checkedCommand) : checkedCommand;
    if (argv.length === 0) throw new TypeError("CommandJob(): the command is empty");
  }
  if (cwd !== undefined && typeof cwd !== "string") {
    throw new TypeError(`CommandJob(): option "cwd" must be a string, got ${describeValue(cwd)}`);
  }
  if (output !== undefined && output !== null && typeof output !== "function") {
    throw new TypeError(
      `CommandJob(): option "output" must be a function, got ${describeValue(output)}`,
    );
  }
  return {
    jobOptions,
    shell,
    command: checkedCommand,
    argv,
    cwd,
    env: checkEnv(env),
    timeout: checkDuration("CommandJob()", "timeout", timeout),
    capture: checkBoolean("CommandJob()", "capture", capture, false),
    killGrace: checkDuration("CommandJob()", "killGrace", killGrace) ?? 2000,
    tailLines: checkCount("tailLines", tailLines, 10),
    output: output ?? undefined,
    readyWhen: checkReadyWhen(readyWhen),
  };
}

/**
 * What looks at each output line for the readiness text, until it is seen
 * once; undefined when the job has none.
 */
function readinessWatch(
  readyWhen: string | RegExp | undefined,
  context: JobContext,
): ((line: string) => void) | undefined {
  if (readyWhen === undefined) return undefined;
  let seen = false;
  return (line) => {
    if (seen) return;
    if (typeof readyWhen === "string" ? line.includes(readyWhen) : readyWhen.test(line)) {
      seen = true;
      context.ready();
    }
  };
}

/** A readiness text must say something; a pattern loses the flags that make `test()` stateful. */
function checkReadyWhen(value: unknown): string | RegExp | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && value !== "") return value;
  if (value instanceof RegExp) {
    const flags = value.flags.replace(/[gy]/g, "");
    return flags === value.flags ? value : new RegExp(value.source, flags);
  }
  throw new TypeError(
    `CommandJob(): option "readyWhen" must be a non-empty string or a RegExp, got ${describeValue(value)}`,
  );
}

function startFailure(error: NodeJS.ErrnoException): string {
  if (error.code === "ENOENT") return "program or directory not found (ENOENT)";
  if (error.code === "EACCES") return "permission denied (EACCES)";
  return error.message;
}

function checkCount(name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new TypeError(
      `CommandJob(): option "${name}" must be an integer >= 0, got ${describeValue(value)}`,
    );
  }
  return value;
}

function checkShell(shell: unknown): boolean | string {
  if (shell === undefined || shell === null) return false;
  if (typeof shell === "boolean" || typeof shell === "string") return shell;
  throw new TypeError(
    `CommandJob(): option "shell" must be a boolean or a string, got ${describeValue(shell)}`,
  );
}

function checkCommand(command: unknown): string | readonly string[] {
  if (typeof command === "string") {
    if (command.trim() === "") throw new TypeError("CommandJob(): the command is empty");
    return command;
  }
  if (Array.isArray(command) && command.every((arg) => typeof arg === "string")) {
    if (command.length === 0) throw new TypeError("CommandJob(): the command is empty");
    return Object.freeze([...command]);
  }
  throw new TypeError(
    `CommandJob(): expected a command line or an array of strings, got ${describeValue(command)}`,
  );
}

function splitOrThrow(line: string): string[] {
  try {
    return splitCommandLine(line);
  } catch (error) {
    if (error instanceof CommandLineError) {
      throw new TypeError(`CommandJob(): cannot split ${JSON.stringify(line)}: ${error.message}`);
    }
    throw error;
  }
}

function checkEnv(env: unknown): Record<string, string | undefined> | undefined {
  if (env === undefined || env === null) return undefined;
  if (typeof env !== "object") {
    throw new TypeError(`CommandJob(): option "env" must be an object, got ${describeValue(env)}`);
  }
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && typeof value !== "string") {
      throw new TypeError(
        `CommandJob(): environment variable ${name} must be a string, got ${describeValue(value)}`,
      );
    }
  }
  return { ...(env as Record<string, string | undefined>) };
}

function mergeEnv(extra: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}
