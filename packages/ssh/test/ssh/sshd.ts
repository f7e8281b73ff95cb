/**
 * Starts and stops real OpenSSH servers for the tests and the bench: each
 * with its own config file, host key and authorized_keys from a
 * {@link TestKeys} folder, in the foreground (`-D -e`), on loopback or
 * inside a network namespace.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import type { TestKeys } from "./keys.js";
import { descendants, isAlive, pollUntil, signalAll } from "./processes.js";

/** Where Debian's openssh-server puts the daemon; sshd insists on an absolute path. */
export const SSHD = "/usr/sbin/sshd";

/** Why no test server can run here, or undefined when one can. */
export function sshdUnavailable(): string | undefined {
  try {
    accessSync(SSHD, constants.X_OK);
    return undefined;
  } catch {
    return `${SSHD} is missing (apt-get install openssh-server)`;
  }
}

/** Options of {@link Sshd.start}. */
export interface SshdOptions {
  keys: TestKeys;
  /** Address to listen on; default 127.0.0.1. */
  address?: string;
  /** Port; default a random high one (retried if taken). */
  port?: number;
  /** Network namespace to run in (through `ip netns exec`). */
  netns?: string;
  /** sshd's MaxSessions; default 10, as OpenSSH's. */
  maxSessions?: number;
  /** More config lines. */
  extra?: readonly string[];
  /** A name for the config file and messages; default the address and port. */
  name?: string;
  /** The host key (private part) to use instead of the one of `keys`. */
  hostKey?: string;
}

let configCount = 0;

function configText(options: SshdOptions, address: string, port: number): string {
  const listen = address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
  return [
    `ListenAddress ${listen}`,
    `HostKey ${options.hostKey ?? options.keys.hostKey}`,
    "PidFile none",
    `AuthorizedKeysFile ${options.keys.authorizedKeys}`,
    "StrictModes no",
    "UsePAM no",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    `AllowUsers ${userInfo().username}`,
    "AllowTcpForwarding yes",
    "Subsystem sftp internal-sftp",
    "UseDNS no",
    "PrintMotd no",
    "PrintLastLog no",
    `MaxSessions ${options.maxSessions ?? 10}`,
    // Many clients connect at once in the bench: never drop a pending one.
    "MaxStartups 1000",
    "LoginGraceTime 30",
    "LogLevel INFO",
    // bash sources ~/.bashrc for commands run by sshd, and a developer's may
    // take seconds; a shell level above 1 tells it not to.
    "SetEnv SHLVL=1",
    ...(options.extra ?? []),
    "",
  ].join("\n");
}

/** One running sshd. */
export class Sshd {
  /** Lines sshd wrote to its standard error (the last 200). */
  readonly log: string[] = [];
  #exited: Promise<void>;

  private constructor(
    readonly address: string,
    readonly port: number,
    readonly netns: string | undefined,
    readonly child: ChildProcess,
  ) {
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  /** The pid of the listening daemon. */
  get pid(): number {
    return this.child.pid!;
  }

  /** Starts one server and resolves once it listens. */
  static async start(options: SshdOptions): Promise<Sshd> {
    const reason = sshdUnavailable();
    if (reason !== undefined) throw new Error(reason);
    if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const address = options.address ?? "127.0.0.1";
    let lastError: unknown;
    for (let attempt = 0; attempt < 10; attempt++) {
      const port = options.port ?? 20_000 + Math.floor(Math.random() * 40_000);
      try {
        return await Sshd.#startOn(options, address, port);
      } catch (error) {
        lastError = error;
        if (options.port !== undefined || !String(error).includes("ind")) break;
      }
    }
    throw lastError;
  }

  static async #startOn(options: SshdOptions, address: string, port: number): Promise<Sshd> {
    const config = join(options.keys.dir, `sshd-${process.pid}-${++configCount}.conf`);
    await writeFile(config, configText(options, address, port));
    const argv = [SSHD, "-D", "-e", "-f", config];
    const child =
      options.netns === undefined
        ? spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] })
        : spawn("ip", ["netns", "exec", options.netns, ...argv], {
            stdio: ["ignore", "ignore", "pipe"],
          });
    const server = new Sshd(address, port, options.netns, child);
    const ready = new Promise<void>((resolve, reject) => {
      let partial = "";
      child.stderr!.setEncoding("utf8");
      child.stderr!.on("data", (chunk: string) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          server.log.push(line);
          if (server.log.length > 200) server.log.shift();
          if (line.includes("Server listening on")) resolve();
        }
      });
      child.once("error", reject);
      child.once("exit", (code, signal) =>
        reject(
          new Error(
            `sshd on ${address}:${port} exited (${code ?? signal}) before listening:\n${server.log.join("\n")}`,
          ),
        ),
      );
    });
    try {
      await ready;
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** The pids of the processes serving connections (and what they run). */
  connectionPids(): Promise<number[]> {
    return descendants(this.pid);
  }

  /**
   * Kills the processes serving the current connections, as a crash or a
   * reboot of the far side would, and waits for them to be gone. The
   * listening daemon keeps running, so new connections are accepted.
   */
  async dropConnections(): Promise<void> {
    const pids = await this.connectionPids();
    signalAll(pids, "SIGKILL");
    await pollUntil("dropped connections to be gone", async () => {
      for (const pid of pids) if (await isAlive(pid)) return false;
      return true;
    });
  }

  /** Stops the daemon and everything it started. */
  async stop(): Promise<void> {
    // Sessions outlive the daemon and are re-parented when it dies: kill the
    // whole tree while it hangs together, then the daemon.
    for (let round = 0; round < 20; round++) {
      const left = await descendants(this.pid);
      if (left.length === 0) break;
      signalAll(left, "SIGKILL");
    }
    if (this.child.exitCode === null && this.child.signalCode === null) {
      signalAll([this.pid], "SIGKILL");
    }
    await this.#exited;
  }
}
