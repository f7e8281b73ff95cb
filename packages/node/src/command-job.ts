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
  JOB_OPTION_NAMES,
  rejectUnknownOptions,
} from "asyncjobs/extend";
import { CommandLineError, joinCommandLine, splitCommandLine } from "./command-line.js";

/** Which output stream a line came from. */
export type OutputStream = "stdout" | "stderr";

/**
 * Receives each line a command prints (without its line ending). The
 * default writes `[label] line` to the process's stdout or stderr.
 */
export type CommandOutput = (line: string, stream: OutputStream, job: CommandJob) => void;

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

/** Splits a stream's chunks into lines, keeping the last partial one until more comes. */
class LineSplitter {
  #partial = "";
  constructor(readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.#partial + chunk;
    const lines = text.split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) this.onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  }

  end(): void {
    if (this.#partial !== "") this.onLine(this.#partial);
    this.#partial = "";
  }
}

function defaultOutput(line: string, stream: OutputStream, job: CommandJob): void {
  const label = job.label ?? job.textLabel();
  process[stream].write(`[${label}] ${line}\n`);
}

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
 * - When the job is cancelled (its signal aborts) or its `timeout` expires,
 *   the program's whole process group gets SIGTERM, then SIGKILL after
 *   `killGrace` ms; `shutdown()` waits for it to be gone, and
 *   {@link CommandJob.terminateAll} / {@link CommandJob.killAll} reach every
 *   program still running, so that nothing is left behind.
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
    rejectUnknownOptions("CommandJob()", options, COMMAND_JOB_OPTION_NAMES);
    const {
      shell,
      cwd,
      env,
      timeout,
      capture,
      killGrace,
      output,
      tailLines,
      readyWhen,
      ...jobOptions
    } = options;
    super(jobOptions);
    Object.defineProperty(this, COMMAND_JOB_BRAND, { value: true });
    this.shell = checkShell(shell);
    this.command = checkCommand(command);
    if (this.shell === false) {
      this.argv = typeof this.command === "string" ? splitOrThrow(this.command) : this.command;
      if (this.argv.length === 0) throw new TypeError("CommandJob(): the command is empty");
    }
    if (cwd !== undefined && typeof cwd !== "string") {
      throw new TypeError(`CommandJob(): option "cwd" must be a string, got ${describeValue(cwd)}`);
    }
    this.cwd = cwd;
    this.env = checkEnv(env);
    this.timeout = checkDuration("CommandJob()", "timeout", timeout);
    this.capture = checkBoolean("CommandJob()", "capture", capture, false);
    this.killGrace = checkDuration("CommandJob()", "killGrace", killGrace) ?? 2000;
    this.tailLines = checkCount("tailLines", tailLines, 10);
    if (output !== undefined && output !== null && typeof output !== "function") {
      throw new TypeError(
        `CommandJob(): option "output" must be a function, got ${describeValue(output)}`,
      );
    }
    this.output = output ?? undefined;
    this.readyWhen = checkReadyWhen(readyWhen);
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
    const env = this.env === undefined ? process.env : mergeEnv(this.env);
    const windows = process.platform === "win32";
    const child =
      this.shell === false
        ? spawn(this.argv![0]!, this.argv!.slice(1), {
            cwd: this.cwd,
            env,
            stdio: ["ignore", "pipe", "pipe"],
            detached: !windows,
            windowsHide: true,
          })
        : spawn(typeof this.command === "string" ? this.command : this.command.join(" "), {
            cwd: this.cwd,
            env,
            shell: this.shell,
            stdio: ["ignore", "pipe", "pipe"],
            detached: !windows,
            windowsHide: true,
          });

    const stderrTail: string[] = [];
    const captured: string[] = [];
    const emit = (line: string, stream: OutputStream): void => {
      try {
        (this.output ?? defaultOutput)(line, stream, this);
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
    child.stdout?.setEncoding("utf8");
    child.stderr?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      if (this.capture) captured.push(chunk);
      stdoutLines.push(chunk);
    });
    child.stderr?.on("data", (chunk: string) => stderrLines.push(chunk));

    let settled = false;
    let timedOut = false;
    let terminating = false;
    let isGone = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    let killedAt: number | undefined;
    let pollTimer: ReturnType<typeof setInterval> | undefined;
    let runTimer: ReturnType<typeof setTimeout> | undefined;
    let markGone: () => void = () => {};
    const gone = new Promise<void>((done) => {
      markGone = done;
    });

    const proc: LiveProcess = {
      child,
      gone,
      terminate: () => {
        if (terminating || isGone) return;
        terminating = true;
        signalGroup(child, "SIGTERM");
        killTimer = setTimeout(() => {
          killTimer = undefined;
          killedAt = performance.now();
          signalGroup(child, "SIGKILL");
        }, this.killGrace);
      },
      kill: () => {
        if (!isGone) signalGroup(child, "SIGKILL");
      },
    };
    const finishGone = (): void => {
      if (isGone) return;
      isGone = true;
      if (killTimer !== undefined) clearTimeout(killTimer);
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
      runTimer = setTimeout(() => {
        timedOut = true;
        proc.terminate();
      }, this.timeout);
    }

    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (runTimer !== undefined) clearTimeout(runTimer);
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

    child.on("close", (code: number | null, exitSignal: NodeJS.Signals | null) => {
      stdoutLines.end();
      stderrLines.end();
      // Members of the process group may outlive the program: when it was
      // terminated, the SIGKILL timer still reaches them. Until the group is
      // empty, look now and then; a second after SIGKILL, only zombies
      // waiting to be reaped by init can be left, and those are gone.
      if (!terminating || !groupAlive(child)) finishGone();
      else {
        pollTimer = setInterval(() => {
          const killedLongAgo = killedAt !== undefined && performance.now() - killedAt > 1000;
          if (killedLongAgo || !groupAlive(child)) finishGone();
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
          resolve(this.capture ? captured.join("").replace(/\r?\n$/, "") : 0);
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
    });
  }
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
