/**
 * The commands an {@link SshJob} runs in order on its node: `Run`,
 * `RunString`, `RunScript`, `Push` and `Pull`.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, readdir, readFile, realpath, stat, utimes } from "node:fs/promises";
import { basename, isAbsolute, join, posix, win32 } from "node:path";
import { checkString, describeValue } from "asyncjobs/extend";
import type { SFTPWrapper, Stats } from "ssh2";
import { messageOf, SshCommandError, SshTransferError } from "./errors.js";
import type { SshExitStatus, SshNode } from "./node.js";
import { shellJoin, shellQuote } from "./text.js";
import { checkOptions, checkWords } from "./validate.js";

/** A command's exit status, with the last lines it wrote to standard error. */
export interface SshRunStatus extends SshExitStatus {
  readonly stderr: readonly string[];
}

/**
 * What a command is handed by the job running it.
 *
 * @internal
 */
export interface SshCommandContext {
  readonly node: SshNode;
  readonly signal: AbortSignal;
  /** Runs a command line (read by a POSIX shell) on the node, its output going to the job's formatter. */
  exec(commandLine: string, display: string): Promise<SshRunStatus>;
  /** Runs `use` with an SFTP session of the node, closed afterwards. */
  withSftp<T>(use: (sftp: SFTPWrapper) => Promise<T>): Promise<T>;
}

/**
 * One step of an {@link SshJob}. The job runs its commands in order and
 * stops at the first that fails.
 */
export abstract class SshCommand {
  /** Shown in listings instead of the command's own description. */
  readonly label: string | undefined;

  constructor(label: string | undefined) {
    this.label = label;
  }

  /** One line saying what the command does: its label, else {@link SshCommand.describe}. */
  text(): string {
    return this.label ?? this.describe();
  }

  /** What the command does, in one line. */
  abstract describe(): string;

  /**
   * Runs the command; resolves with its exit code (0 for transfers).
   *
   * @internal
   */
  abstract _execute(context: SshCommandContext): Promise<number>;
}

/** Options of {@link Run}. */
export interface SshRunOptions {
  /** Exit codes that count as success besides 0. */
  allowedExits?: readonly number[];
  /** Shown in listings instead of the command line. */
  label?: string;
}

/** Options of {@link RunString} and {@link RunScript}. */
export interface SshScriptOptions extends SshRunOptions {
  /** Arguments given to the script. */
  args?: readonly string[];
  /**
   * The program that runs the script (`"python3"`, `"bash -e"`). Default:
   * the script's own `#!` line if it has one, else `sh`.
   */
  interpreter?: string;
}

const RUN_OPTION_NAMES: ReadonlySet<string> = new Set(["allowedExits", "label"]);
const SCRIPT_OPTION_NAMES: ReadonlySet<string> = new Set([
  ...RUN_OPTION_NAMES,
  "args",
  "interpreter",
]);

/**
 * Scripts up to this size travel inside the command itself (one round
 * trip); larger ones, and any holding a NUL byte, are uploaded over SFTP.
 */
const INLINE_SCRIPT_LIMIT = 48 * 1024;

function checkAllowedExits(where: string, value: unknown): readonly number[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((code) => Number.isInteger(code))) {
    throw new TypeError(`${where}: option "allowedExits" must be a list of integers`);
  }
  return [...value];
}

/** Fails with an {@link SshCommandError} unless the status is a success. */
function expectSuccess(
  context: SshCommandContext,
  status: SshRunStatus,
  display: string,
  allowed: readonly number[],
): number {
  if (status.code === 0 || (status.code !== null && allowed.includes(status.code))) {
    return status.code;
  }
  throw new SshCommandError(context.node.target, {
    command: display,
    exitCode: status.code,
    signal: status.signal,
    stderr: status.stderr,
  });
}

/**
 * Runs a command on the node: an argument list (each word quoted for the
 * remote shell) or a command line (read by the remote shell as is, so
 * pipes, redirections and variables work). Its standard input is empty.
 *
 * @example
 * ```ts
 * new Run(["ls", "-l", "/tmp/my dir"]);
 * new Run("uname -a && cat /etc/os-release | head -2");
 * ```
 */
export class Run extends SshCommand {
  /** The command as given. */
  readonly command: string | readonly string[];
  /** Exit codes that count as success besides 0. */
  readonly allowedExits: readonly number[];

  constructor(command: string | readonly string[], options: SshRunOptions = {}) {
    checkOptions("Run()", options, RUN_OPTION_NAMES);
    super(checkString("Run()", "label", options.label));
    if (typeof command === "string") {
      if (command.trim() === "") throw new TypeError("Run(): the command is empty");
      this.command = command;
    } else {
      const words = checkWords("Run()", "the argument list", command);
      if (words.length === 0) throw new TypeError("Run(): the argument list is empty");
      this.command = words;
    }
    this.allowedExits = checkAllowedExits("Run()", options.allowedExits);
  }

  /** The command line sent to the remote shell. */
  commandLine(): string {
    return typeof this.command === "string" ? this.command : shellJoin(this.command);
  }

  /** What the command does, in one line. */
  describe(): string {
    return this.commandLine();
  }

  /** @internal */
  async _execute(context: SshCommandContext): Promise<number> {
    const status = await context.exec(this.commandLine(), this.text());
    return expectSuccess(context, status, this.text(), this.allowedExits);
  }
}

/** Where staged scripts go on the node, relative to the login directory. */
const STAGING_DIR = ".asyncjobs";

/** Runs script text on the node; shared by RunString and RunScript. */
async function runScriptText(
  context: SshCommandContext,
  content: Buffer,
  name: string,
  options: {
    interpreter: string | undefined;
    args: readonly string[];
    allowedExits: readonly number[];
  },
  display: string,
): Promise<number> {
  const hasShebang = content.subarray(0, 2).toString("latin1") === "#!";
  const runner =
    options.interpreter !== undefined ? `${options.interpreter} ` : hasShebang ? "" : "sh ";
  const args = options.args.length > 0 ? ` ${shellJoin(options.args)}` : "";
  const text = content.toString("utf8");
  let commandLine: string;
  if (
    content.length <= INLINE_SCRIPT_LIMIT &&
    !content.includes(0) &&
    Buffer.from(text).equals(content)
  ) {
    // The script travels in the command: written to a temporary file, run, removed.
    commandLine = [
      `f=$(mktemp "\${TMPDIR:-/tmp}/asyncjobs.XXXXXX") || exit 125`,
      `trap 'rm -f "$f"' EXIT`,
      `printf '%s' ${shellQuote(text)} >"$f"`,
      `chmod 700 "$f"`,
      `${runner}"$f"${args}`,
    ].join("; ");
  } else {
    const remote = posix.join(STAGING_DIR, `${randomBytes(6).toString("hex")}-${name}`);
    await context.withSftp(async (sftp) => {
      await sftpCall<void>((done) => sftp.mkdir(STAGING_DIR, { mode: 0o700 }, done)).catch(
        () => undefined,
      );
      await sftpCall<void>((done) => sftp.writeFile(remote, content, { mode: 0o700 }, done)).catch(
        (error: unknown) => {
          throw new SshTransferError(
            context.node.target,
            remote,
            `cannot upload ${display}: ${messageOf(error)}`,
            {
              cause: error,
            },
          );
        },
      );
    });
    const quoted = shellQuote(remote);
    commandLine = `trap 'rm -f ${quoted}' EXIT; ${runner}./${quoted}${args}`;
  }
  const status = await context.exec(commandLine, display);
  return expectSuccess(context, status, display, options.allowedExits);
}

/** The base of {@link RunString} and {@link RunScript}: a script run with arguments. */
export abstract class SshScriptCommand extends SshCommand {
  /** Arguments given to the script. */
  readonly args: readonly string[];
  /** The program that runs it, if given. */
  readonly interpreter: string | undefined;
  /** Exit codes that count as success besides 0. */
  readonly allowedExits: readonly number[];

  constructor(where: string, options: SshScriptOptions) {
    checkOptions(where, options, SCRIPT_OPTION_NAMES);
    super(checkString(where, "label", options.label));
    this.args = checkWords(where, 'option "args"', options.args);
    this.interpreter = checkString(where, "interpreter", options.interpreter);
    this.allowedExits = checkAllowedExits(where, options.allowedExits);
  }

  /** The arguments as they follow the script in a listing ("" without any). */
  protected argsText(): string {
    return this.args.length > 0 ? ` ${shellJoin(this.args)}` : "";
  }
}

/**
 * Runs a script given as text on the node, with arguments: the text is
 * sent, written to a temporary file there, run, and removed.
 *
 * @example
 * ```ts
 * new RunString("#!/bin/bash\necho hello from $(hostname) with $# args", { args: ["a", "b"] });
 * new RunString("import sys; print(sys.version)", { interpreter: "python3" });
 * ```
 */
export class RunString extends SshScriptCommand {
  /** The script text. */
  readonly script: string;

  constructor(script: string, options: SshScriptOptions = {}) {
    super("RunString()", options);
    if (typeof script !== "string") {
      throw new TypeError(`RunString(): the script must be a string, got ${describeValue(script)}`);
    }
    this.script = script;
  }

  /** What the command does, in one line. */
  describe(): string {
    const first = this.script
      .split("\n")
      .find((line) => line.trim() !== "" && !line.startsWith("#!"));
    const shown = first === undefined ? "(empty script)" : first.trim();
    return `RunString ${shown.length > 40 ? `${shown.slice(0, 39)}…` : shown}${this.argsText()}`;
  }

  /** @internal */
  _execute(context: SshCommandContext): Promise<number> {
    return runScriptText(context, Buffer.from(this.script), "script", this, this.text());
  }
}

/**
 * Pushes a local script to the node and runs it there with arguments
 * (removed afterwards).
 *
 * @example
 * ```ts
 * new RunScript("./scripts/setup.sh", { args: ["--quick"] });
 * ```
 */
export class RunScript extends SshScriptCommand {
  /** The local script's path. */
  readonly localPath: string;

  constructor(localPath: string, options: SshScriptOptions = {}) {
    super("RunScript()", options);
    if (typeof localPath !== "string" || localPath === "") {
      throw new TypeError(
        `RunScript(): the script path must be a string, got ${describeValue(localPath)}`,
      );
    }
    this.localPath = localPath;
  }

  /** What the command does, in one line. */
  describe(): string {
    return `RunScript ${shellQuote(this.localPath)}${this.argsText()}`;
  }

  /** @internal */
  async _execute(context: SshCommandContext): Promise<number> {
    let content: Buffer;
    try {
      content = await readFile(this.localPath);
    } catch (error) {
      throw new SshTransferError(
        context.node.target,
        this.localPath,
        `cannot read local script ${this.localPath}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    const name = basename(this.localPath).replace(/[^A-Za-z0-9._-]/g, "_");
    return runScriptText(context, content, name, this, this.text());
  }
}

/** Options of {@link Push} and {@link Pull}. */
export interface SshTransferOptions {
  /** Keep modification times too (modes are always kept); default true. */
  preserveTimes?: boolean;
  /** Shown in listings instead of the command's description. */
  label?: string;
}

const TRANSFER_OPTION_NAMES: ReadonlySet<string> = new Set(["preserveTimes", "label"]);

/** How one transfer reads and writes files, on either side. */
interface FileSide {
  /** Stats a path, following symbolic links; undefined if it does not exist. */
  stat(
    path: string,
  ): Promise<
    { mode: number; atime: number; mtime: number; dir: boolean; file: boolean } | undefined
  >;
  /** Whether the path itself is a symbolic link (false if it does not exist). */
  isLink(path: string): Promise<boolean>;
  /** The canonical path of a folder, to tell a folder seen again through a link. */
  realpath(path: string): Promise<string>;
  list(path: string): Promise<string[]>;
  mkdir(path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  utimes(path: string, atime: number, mtime: number): Promise<void>;
  join(dir: string, name: string): string;
  basename(path: string): string;
}

function localSide(): FileSide {
  return {
    async stat(path) {
      const info = await stat(path).catch(() => undefined);
      if (info === undefined) return undefined;
      return {
        mode: info.mode,
        atime: info.atimeMs / 1000,
        mtime: info.mtimeMs / 1000,
        dir: info.isDirectory(),
        file: info.isFile(),
      };
    },
    isLink: async (path) => (await lstat(path).catch(() => undefined))?.isSymbolicLink() === true,
    realpath: (path) => realpath(path),
    list: (path) => readdir(path),
    mkdir: async (path) => {
      await mkdir(path, { recursive: true });
    },
    chmod: (path, mode) => chmod(path, mode),
    utimes: (path, atime, mtime) => utimes(path, atime, mtime),
    join: (dir, name) => join(dir, name),
    basename: (path) => basename(path),
  };
}

function remoteSide(sftp: SFTPWrapper): FileSide {
  return {
    async stat(path) {
      const info = await sftpCall<Stats>((done) => sftp.stat(path, done)).catch(() => undefined);
      if (info === undefined) return undefined;
      return {
        mode: info.mode,
        atime: info.atime,
        mtime: info.mtime,
        dir: info.isDirectory(),
        file: info.isFile(),
      };
    },
    // What the server's own links point to is the server's business.
    isLink: async () => false,
    realpath: (path) => sftpCall<string>((done) => sftp.realpath(path, done)),
    async list(path) {
      const entries = await sftpCall<{ filename: string }[]>((done) => sftp.readdir(path, done));
      return entries.map((entry) => entry.filename);
    },
    async mkdir(path) {
      const existing = await this.stat(path);
      if (existing?.dir) return;
      const parent = posix.dirname(path);
      if (parent !== path && parent !== "." && parent !== "/") await this.mkdir(parent);
      await sftpCall<void>((done) => sftp.mkdir(path, done));
    },
    chmod: (path, mode) => sftpCall<void>((done) => sftp.chmod(path, mode, done)),
    utimes: (path, atime, mtime) => sftpCall<void>((done) => sftp.utimes(path, atime, mtime, done)),
    join: (dir, name) => posix.join(dir, name),
    basename: (path) => posix.basename(path),
  };
}

/** SFTP paths are relative to the login directory: `~/x` means `x`. */
function remotePath(path: string): string {
  if (path === "~") return ".";
  return path.startsWith("~/") ? path.slice(2) || "." : path;
}

/**
 * Whether a name listed in a folder is a plain name, which cannot lead out
 * of the folder it is copied into: not empty, not `.` nor `..`, no `/`, no
 * `\\`, no NUL, not absolute (a Windows drive).
 */
function isPlainName(name: string): boolean {
  return (
    name !== "" &&
    name !== "." &&
    name !== ".." &&
    !/[/\\\0]/.test(name) &&
    !isAbsolute(name) &&
    !win32.isAbsolute(name) &&
    !(process.platform === "win32" && /^[A-Za-z]:/.test(name))
  );
}

/**
 * The umask of this process, without changing it even for an instant
 * (`process.umask()` sets it to read it, racing with the files other
 * threads create).
 */
async function currentUmask(): Promise<number> {
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const match = /^Umask:\s*([0-7]+)$/m.exec(status);
  if (match !== null) return Number.parseInt(match[1]!, 8);
  try {
    return process.umask();
  } catch {
    return 0o022; // in a worker thread, where it cannot be read
  }
}

/** How one transfer copies: the two sides, and what it does with modes. */
interface CopyPlan {
  readonly from: FileSide;
  readonly to: FileSide;
  /** The mode to give a copy, from the source's. */
  mode(sourceMode: number): number;
  copyFile(source: string, target: string, mode: number): Promise<void>;
}

/** The base of {@link Push} and {@link Pull}: sources, a destination, and the copy walk. */
export abstract class SshTransfer extends SshCommand {
  /** The paths copied. */
  readonly sources: readonly string[];
  /** Where they go. */
  readonly destination: string;
  /** Whether modification times are kept. */
  readonly preserveTimes: boolean;
  readonly #direction: "Push" | "Pull";

  constructor(
    direction: "Push" | "Pull",
    sources: string | readonly string[],
    destination: string,
    options: SshTransferOptions,
  ) {
    const where = `${direction}()`;
    checkOptions(where, options, TRANSFER_OPTION_NAMES);
    super(checkString(where, "label", options.label));
    this.#direction = direction;
    const list = checkWords(where, "the sources", sources);
    if (list.length === 0) throw new TypeError(`${where}: nothing to copy`);
    if (typeof destination !== "string" || destination === "") {
      throw new TypeError(
        `${where}: the destination must be a path, got ${describeValue(destination)}`,
      );
    }
    this.sources = list;
    this.destination = destination;
    if (options.preserveTimes !== undefined && typeof options.preserveTimes !== "boolean") {
      throw new TypeError(`${where}: option "preserveTimes" must be a boolean`);
    }
    this.preserveTimes = options.preserveTimes ?? true;
  }

  /** What the command does, in one line. */
  describe(): string {
    return `${this.#direction} ${shellJoin(this.sources)} -> ${shellQuote(this.destination)}`;
  }

  /** @internal */
  async _execute(context: SshCommandContext): Promise<number> {
    // Read before any file is written: the modes pulled are masked with it.
    const umask = this.#direction === "Pull" ? await currentUmask() : 0;
    await context.withSftp((sftp) => {
      const local = localSide();
      const remote = remoteSide(sftp);
      return this.#direction === "Push"
        ? this.copyAll(context, this.sources, remotePath(this.destination), {
            from: local,
            to: remote,
            mode: (mode) => mode & 0o7777,
            copyFile: (source, target, mode) =>
              sftpCall<void>((done) => sftp.fastPut(source, target, { mode }, done)),
          })
        : this.copyAll(context, this.sources.map(remotePath), this.destination, {
            from: remote,
            to: local,
            // The server's word is not taken for setuid, setgid and sticky
            // bits, and the copies get the umask, as any file made here.
            mode: (mode) => mode & 0o777 & ~umask,
            copyFile: (source, target) =>
              sftpCall<void>((done) => sftp.fastGet(source, target, done)),
          });
    });
    return 0;
  }

  /**
   * Copies every source to the destination, as `scp -rp` would: into the
   * destination if it is a folder (or ends with `/`, or there are several
   * sources: it is then created), else to that very path.
   *
   * @internal
   */
  protected async copyAll(
    context: SshCommandContext,
    sources: readonly string[],
    destination: string,
    plan: CopyPlan,
  ): Promise<void> {
    const { from, to } = plan;
    const target = context.node.target;
    const existing = await to.stat(destination);
    const intoFolder = existing?.dir === true || destination.endsWith("/") || sources.length > 1;
    if (intoFolder && existing === undefined) await to.mkdir(destination);
    for (const source of sources) {
      context.signal.throwIfAborted();
      const info = await from.stat(source);
      if (info === undefined) {
        throw new SshTransferError(target, source, `${this.text()}: ${source} does not exist`);
      }
      const dest = intoFolder ? to.join(destination, from.basename(source)) : destination;
      // The destination itself may be a link the user chose; what is below it may not.
      await this.copyTree(context, plan, source, dest, [], intoFolder);
    }
  }

  private async copyTree(
    context: SshCommandContext,
    plan: CopyPlan,
    source: string,
    dest: string,
    ancestors: readonly { path: string; real: string }[],
    belowDestination: boolean,
  ): Promise<void> {
    const { from, to } = plan;
    const target = context.node.target;
    context.signal.throwIfAborted();
    const info = await from.stat(source);
    if (info === undefined) return; // vanished, or a dangling link
    try {
      // The destination is below the one given: a link there (left by an
      // earlier copy, or made by someone else) could lead anywhere.
      if (belowDestination && (await to.isLink(dest))) {
        throw new SshTransferError(
          target,
          dest,
          `${this.text()}: refusing to write through the symbolic link ${dest}`,
        );
      }
      if (info.dir) {
        const real = await from.realpath(source);
        const seen = ancestors.find((ancestor) => ancestor.real === real);
        if (seen !== undefined) {
          throw new SshTransferError(
            target,
            source,
            `${this.text()}: symbolic link loop: ${source} is ${seen.path} again`,
          );
        }
        await to.mkdir(dest);
        const below = [...ancestors, { path: source, real }];
        for (const name of (await from.list(source)).sort()) {
          if (name === "." || name === "..") continue;
          if (!isPlainName(name)) {
            throw new SshTransferError(
              target,
              source,
              `${this.text()}: refusing the entry ${JSON.stringify(name)} listed in ${source}: not a plain file name`,
            );
          }
          const next = from.join(source, name);
          await this.copyTree(context, plan, next, to.join(dest, name), below, true);
        }
      } else if (info.file) {
        await plan.copyFile(source, dest, plan.mode(info.mode));
      } else {
        return; // sockets, devices and pipes are not copied
      }
      // After the content, so that a read-only folder can be filled first.
      await to.chmod(dest, plan.mode(info.mode));
      if (this.preserveTimes) await to.utimes(dest, info.atime, info.mtime);
    } catch (error) {
      if (error instanceof SshTransferError || context.signal.aborted) throw error;
      throw new SshTransferError(
        target,
        source,
        `${this.text()}: cannot copy ${source} to ${dest}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }
}

/**
 * Copies local files and folders (recursively) to the node over SFTP,
 * keeping their modes (and modification times unless told otherwise).
 * Remote paths are relative to the login directory; `~/` is accepted.
 *
 * @example
 * ```ts
 * new Push(["build/app", "config.toml"], "deploy/");   // into ~/deploy/
 * new Push("data", "/srv/data");                       // the folder becomes /srv/data
 * ```
 */
export class Push extends SshTransfer {
  constructor(
    localPaths: string | readonly string[],
    remoteDestination: string,
    options: SshTransferOptions = {},
  ) {
    super("Push", localPaths, remoteDestination, options);
  }
}

/**
 * Copies remote files and folders (recursively) from the node over SFTP,
 * keeping their modes (and modification times unless told otherwise).
 *
 * @example
 * ```ts
 * new Pull(["results/", "log.txt"], "./collected/node1");
 * ```
 */
export class Pull extends SshTransfer {
  constructor(
    remotePaths: string | readonly string[],
    localDestination: string,
    options: SshTransferOptions = {},
  ) {
    super("Pull", remotePaths, localDestination, options);
  }
}

/** Calls an ssh2 SFTP method and turns its callback into a promise. */
function sftpCall<T>(
  call: (done: (error: Error | null | undefined, value: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    call((error, value) => (error ? reject(error) : resolve(value)));
  });
}
