/**
 * SshNode: one remote host, reached over SSH, whose single connection is
 * shared by every job that runs on it.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { sleep } from "asyncjobs";
import { checkBoolean, checkString, describeValue } from "asyncjobs/extend";
import type {
  AnyAuthMethod,
  Client,
  ClientChannel,
  ConnectConfig,
  ServerHostKeyAlgorithm,
  SFTPWrapper,
} from "ssh2";
import ssh2 from "ssh2";
import {
  messageOf,
  SshConnectionError,
  type SshConnectionFailure,
  SshHostKeyError,
} from "./errors.js";
import {
  describeHostKey,
  hostKeyAlgorithms,
  judgeHostKey,
  type KnownHostEntry,
  keyTypeName,
  knownHostsName,
  knownTypes,
  pinHostKey,
  readKnownHosts,
  recordHostKey,
  type SshHostKey,
  type SshHostKeyPolicy,
} from "./known-hosts.js";
import { checkCount, checkOptions, checkTimer, checkWords } from "./validate.js";

/** Options of {@link SshNode}. Durations are in milliseconds. */
export interface SshNodeOptions {
  /** Host name or address (required unless given in the target string). */
  host?: string;
  /** Port; default 22. */
  port?: number;
  /** User to log in as; default the local user's name. */
  username?: string;
  /** Private key text(s) (OpenSSH or PEM format), tried in order. */
  privateKey?: string | Buffer | readonly (string | Buffer)[];
  /** Path(s) of private key files, tried in order after `privateKey`. */
  keyFile?: string | readonly string[];
  /** Passphrase of encrypted keys. */
  passphrase?: string;
  /**
   * An ssh-agent: the path of its socket, or `true` for `SSH_AUTH_SOCK`.
   * When no key and no agent is given, the agent of `SSH_AUTH_SOCK` (if set)
   * and the default keys of `~/.ssh` (`id_ed25519`, `id_ecdsa`, `id_rsa`)
   * are tried.
   */
  agent?: string | boolean;
  /** A node to go through (a jump host); it may have its own gateway, and so on. */
  gateway?: SshNode | null;
  /**
   * Milliseconds between keepalive messages, `true` for the default (15000)
   * or `false`/0 for none. A connection whose keepalives go unanswered
   * `keepaliveCountMax` times is dropped, and re-opened for the next command.
   */
  keepalive?: number | boolean;
  /** Unanswered keepalives before the connection is given up; default 3. */
  keepaliveCountMax?: number;
  /**
   * Milliseconds to connect, exchange keys and log in (gateways included);
   * default 10000. Past it the command fails with a `"timeout"`
   * {@link SshConnectionError}.
   */
  connectTimeout?: number;
  /**
   * How many channels (commands, file transfers) may be open at once on the
   * connection; more wait for a free one. Default 10, as OpenSSH's
   * `MaxSessions`. A server that allows fewer is detected: its refusal
   * lowers the limit and the command waits instead of failing.
   */
  maxSessions?: number;
  /**
   * How the host's key is checked: `"accept-new"` (the default, as OpenSSH's
   * `StrictHostKeyChecking=accept-new`), `"strict"` or `"off"` (see
   * {@link SshHostKeyPolicy}), or a function that decides (true to accept;
   * a throw or a rejection refuses). A refused key fails the connection
   * with an {@link SshHostKeyError}.
   */
  hostKeyPolicy?: SshHostKeyPolicy | SshHostKeyVerifier;
  /**
   * The known_hosts file(s) read to check host keys, in OpenSSH's format;
   * the keys of new hosts are recorded in the first (created with mode 600
   * if needed). `~/` is the home folder. Default:
   * `~/.ssh/known_hosts`, then `/etc/ssh/ssh_known_hosts` (read only).
   */
  knownHosts?: string | readonly string[];
  /** The name output lines are prefixed with; default `host`, or `host:port` on another port than 22. */
  label?: string;
  /**
   * A POSIX shell to run commands with (`"sh"`, `"/bin/bash"`), for an
   * account whose login shell is not one (csh, tcsh, fish). By default
   * commands run in the login shell, as with ssh.
   */
  shell?: string;
}

const NODE_OPTION_NAMES: ReadonlySet<string> = new Set([
  "host",
  "port",
  "username",
  "privateKey",
  "keyFile",
  "passphrase",
  "agent",
  "gateway",
  "keepalive",
  "keepaliveCountMax",
  "connectTimeout",
  "maxSessions",
  "hostKeyPolicy",
  "knownHosts",
  "label",
  "shell",
]);

const DEFAULT_KEEPALIVE = 15_000;
const DEFAULT_CONNECT_TIMEOUT = 10_000;
const DEFAULT_MAX_SESSIONS = 10;
const DEFAULT_KEY_FILES = ["id_ed25519", "id_ecdsa", "id_rsa"];
const GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts";
const HOST_KEY_POLICIES: readonly string[] = ["accept-new", "strict", "off"];

/**
 * Decides whether to accept a host's key: resolve (or return) true to
 * accept it. Called for each connection to the node, and again when the
 * connection re-keys.
 */
export type SshHostKeyVerifier = (key: SshHostKey, node: SshNode) => boolean | Promise<boolean>;

/** Nodes whose connection is open (or opening), for {@link SshNode.closeAll}. */
const openNodes = new Set<SshNode>();

/** The parts of `user@host:port` (`[v6addr]:port` for IPv6). */
export interface SshTarget {
  /** The user to log in as; when absent, the local user's name. */
  username?: string;
  /** The host name or address (an IPv6 address without its brackets). */
  host: string;
  /** The port; when absent, 22. */
  port?: number;
}

/**
 * Parses `[user@]host[:port]` (IPv6 addresses in brackets: `[::1]:2222`).
 * Throws a TypeError on anything else.
 */
export function parseSshTarget(text: string): SshTarget {
  const match = /^(?:([^@\s]+)@)?(?:\[([^\]\s]+)\]|([^:@\s[\]]+))(?::(\d{1,5}))?$/.exec(
    text.trim(),
  );
  if (match === null) {
    throw new TypeError(`not an SSH target: ${JSON.stringify(text)} (expected [user@]host[:port])`);
  }
  const port = match[4] === undefined ? undefined : Number(match[4]);
  if (port !== undefined && (port < 1 || port > 65_535)) {
    throw new TypeError(`not an SSH target: ${JSON.stringify(text)} (port out of range)`);
  }
  const target: SshTarget = { host: match[2] ?? match[3]! };
  if (match[1] !== undefined) target.username = match[1];
  if (port !== undefined) target.port = port;
  return target;
}

/**
 * An exec channel, and the exit status it reported (recorded from the moment it opened).
 *
 * @internal
 */
export interface SshExecChannel {
  readonly channel: ClientChannel;
  /** How the command ended, once the server said so. */
  exitStatus(): SshExitStatus | undefined;
}

/** How a remote command ended. */
export interface SshExitStatus {
  /** The exit code, or null when the command was ended by a signal. */
  code: number | null;
  /** The signal that ended it (e.g. `"KILL"`), if one did. */
  signal: string | null;
}

/** What can be closed and says so with a "close" event: channels and SFTP sessions. */
interface Closable {
  once(event: "close", listener: () => void): unknown;
}

type OpenCallback<C> = (error: Error | undefined, channel: C) => void;

/** What the auth methods were, for error messages. */
interface AuthPlan {
  methods: AnyAuthMethod[];
  offered: string[];
}

/**
 * A remote host reached over SSH. Jobs on it share one connection, opened
 * on first use and re-opened if it drops; each command takes one channel
 * of it, at most `maxSessions` at once (the others wait).
 *
 * A node is only a description until a job uses it, so creating many costs
 * nothing. Close them with {@link SshNode.close} or, at the end of a script,
 * {@link SshNode.closeAll}: an open connection keeps Node running.
 *
 * @example
 * ```ts
 * import { Scheduler } from "asyncjobs";
 * import { SshJob, SshNode } from "@asyncjobs/ssh";
 * const gateway = new SshNode("alice@gateway.example.org", { keyFile: "~/.ssh/id_ed25519" });
 * const node = new SshNode("root@10.0.0.7", { gateway, keyFile: "~/.ssh/id_ed25519" });
 * await new Scheduler(new SshJob(node, "uname -a")).run();
 * await SshNode.closeAll();
 * ```
 */
export class SshNode {
  /** Host name or address. */
  readonly host: string;
  /** Port. */
  readonly port: number;
  /** User it logs in as. */
  readonly username: string;
  /** The node it is reached through, if any. */
  readonly gateway: SshNode | undefined;
  /** Milliseconds between keepalives; 0 for none. */
  readonly keepalive: number;
  /** Unanswered keepalives before the connection is dropped. */
  readonly keepaliveCountMax: number;
  /** Milliseconds allowed to connect and log in. */
  readonly connectTimeout: number;
  /** The most channels opened at once, as configured. */
  readonly maxSessions: number;
  /** The name output lines are prefixed with. */
  readonly label: string;
  /** The POSIX shell commands run with, when not the login shell. */
  readonly shell: string | undefined;
  /** How host keys are checked: a policy, or `"custom"` when a function decides. */
  readonly hostKeyPolicy: SshHostKeyPolicy | "custom";
  /** The known_hosts files read (new keys go to the first), `~` expanded; empty under `"off"` and `"custom"`. */
  readonly knownHosts: readonly string[];

  readonly #privateKeys: readonly (string | Buffer)[];
  readonly #keyFiles: readonly string[];
  readonly #passphrase: string | undefined;
  readonly #agent: string | boolean | undefined;
  readonly #hostVerifier: SshHostKeyVerifier | undefined;
  #auth: Promise<AuthPlan> | undefined;

  #client: Client | undefined;
  #opening: Promise<Client> | undefined;
  #connections = 0;
  #limit: number;
  #active = 0;
  #waiters: (() => void)[] = [];

  /**
   * @param target - `[user@]host[:port]`, or the options alone.
   * @param options - the rest; values in `target` win over `host`, `port` and `username`.
   */
  constructor(target: string | SshNodeOptions, options: SshNodeOptions = {}) {
    const where = "SshNode()";
    if (typeof target !== "string") options = target;
    checkOptions(where, options, NODE_OPTION_NAMES);
    const parsed = typeof target === "string" ? parseSshTarget(target) : undefined;
    const host = parsed?.host ?? checkString(where, "host", options.host);
    if (host === undefined || host === "") throw new TypeError(`${where}: a host is required`);
    this.host = host;
    this.port = parsed?.port ?? checkPort(options.port);
    this.username =
      parsed?.username ?? checkString(where, "username", options.username) ?? userInfo().username;
    const gateway = options.gateway ?? undefined;
    if (gateway !== undefined && !(gateway instanceof SshNode)) {
      throw new TypeError(
        `${where}: option "gateway" must be an SshNode, got ${describeValue(gateway)}`,
      );
    }
    for (let hop = gateway; hop !== undefined; hop = hop.gateway) {
      if (hop === this) throw new TypeError(`${where}: a node cannot be its own gateway`);
    }
    this.gateway = gateway;
    this.keepalive = checkKeepalive(options.keepalive);
    this.keepaliveCountMax = checkCount(where, "keepaliveCountMax", options.keepaliveCountMax, 3);
    this.connectTimeout =
      checkTimer(where, "connectTimeout", options.connectTimeout) ?? DEFAULT_CONNECT_TIMEOUT;
    this.maxSessions = Math.max(
      1,
      checkCount(where, "maxSessions", options.maxSessions, DEFAULT_MAX_SESSIONS),
    );
    this.#limit = this.maxSessions;
    this.#privateKeys = checkKeys(options.privateKey);
    this.#keyFiles = checkWords(where, 'option "keyFile"', options.keyFile);
    this.#passphrase = checkString(where, "passphrase", options.passphrase);
    if (
      options.agent !== undefined &&
      typeof options.agent !== "string" &&
      typeof options.agent !== "boolean"
    ) {
      throw new TypeError(`${where}: option "agent" must be a socket path or a boolean`);
    }
    this.#agent = options.agent;
    const policy = options.hostKeyPolicy ?? "accept-new";
    if (typeof policy === "function") {
      this.#hostVerifier = policy;
      this.hostKeyPolicy = "custom";
    } else if (typeof policy === "string" && HOST_KEY_POLICIES.includes(policy)) {
      this.hostKeyPolicy = policy;
    } else {
      throw new TypeError(
        `${where}: option "hostKeyPolicy" must be "accept-new", "strict", "off" or a function, got ${describeValue(policy)}`,
      );
    }
    const knownHosts = checkWords(where, 'option "knownHosts"', options.knownHosts);
    if (knownHosts.some((file) => file === "")) {
      throw new TypeError(`${where}: option "knownHosts" holds an empty path`);
    }
    if (options.knownHosts !== undefined && knownHosts.length === 0) {
      throw new TypeError(`${where}: option "knownHosts" is an empty list`);
    }
    this.knownHosts =
      this.hostKeyPolicy === "accept-new" || this.hostKeyPolicy === "strict"
        ? knownHosts.length > 0
          ? knownHosts.map(expandHome)
          : [join(homedir(), ".ssh", "known_hosts"), GLOBAL_KNOWN_HOSTS]
        : [];
    this.shell = checkString(where, "shell", options.shell);
    this.label =
      checkString(where, "label", options.label) ??
      (this.port === 22 ? this.host : `${this.host}:${this.port}`);
  }

  /** `user@host:port`, followed by ` via user@gw:port` for each gateway. */
  get target(): string {
    const self = `${this.username}@${formatHost(this.host)}:${this.port}`;
    return this.gateway === undefined ? self : `${self} via ${this.gateway.target}`;
  }

  /** Whether the connection is open now. */
  get isConnected(): boolean {
    return this.#client !== undefined;
  }

  /** How many times a connection to this node was opened (1 while it stays up). */
  get connectionCount(): number {
    return this.#connections;
  }

  /** How many channels are open (or opening) now. */
  get activeChannels(): number {
    return this.#active;
  }

  /** How many channels may be open at once: `maxSessions`, or less once the server said so. */
  get channelLimit(): number {
    return this.#limit;
  }

  /** `SshNode(user@host:port via …)` */
  toString(): string {
    return `SshNode(${this.target})`;
  }

  /** For `console.log` in Node: the same text as `toString()`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /**
   * Opens the connection now rather than on first use (gateways first).
   * Resolves at once if it is open; rejects with an
   * {@link SshConnectionError}.
   */
  async connect(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#connection(options.signal);
  }

  /**
   * Closes the connection (commands still running on it fail). The next
   * command opens a new one. Gateways are left open: they may serve others.
   */
  async close(): Promise<void> {
    await this.#opening?.catch(() => undefined);
    const client = this.#client;
    if (client === undefined) return;
    this.#forget(client);
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => client.destroy(), 2000);
      client.once("close", () => {
        clearTimeout(force);
        resolve();
      });
      client.end();
    });
  }

  /**
   * Closes every open connection, those behind gateways before the
   * gateways; for the end of a script, so that Node can exit.
   */
  static async closeAll(): Promise<void> {
    const depth = (node: SshNode): number => (node.gateway ? 1 + depth(node.gateway) : 0);
    // A second round catches connections opened while the first one closed.
    for (let round = 0; round < 2 && openNodes.size > 0; round++) {
      const byDepth = [...openNodes].sort((a, b) => depth(b) - depth(a));
      while (byDepth.length > 0) {
        const level = depth(byDepth[0]!);
        const batch = byDepth.filter((node) => depth(node) === level);
        byDepth.splice(0, batch.length);
        await Promise.all(batch.map((node) => node.close()));
      }
    }
  }

  /**
   * Opens an exec channel running `command` (as the remote login shell
   * reads it), once a slot is free. The slot is freed when the channel
   * closes.
   *
   * @internal
   */
  async _exec(command: string, signal: AbortSignal): Promise<SshExecChannel> {
    let status: SshExitStatus | undefined;
    const channel = await this.#lease<ClientChannel>(
      signal,
      (client, done) =>
        client.exec(command, (error, opened) => {
          // Recorded at once: a short command's exit status may arrive in
          // the same packet burst as the channel's confirmation.
          opened?.once("exit", (code: number | null, signalName?: string) => {
            status =
              typeof code === "number"
                ? { code, signal: null }
                : { code: null, signal: signalName?.replace(/^SIG/, "") ?? null };
          });
          done(error, opened);
        }),
      closeChannel,
    );
    return { channel, exitStatus: () => status };
  }

  /**
   * Opens an SFTP session, once a slot is free. The slot is freed when the
   * session closes.
   *
   * @internal
   */
  _sftp(signal: AbortSignal): Promise<SFTPWrapper> {
    return this.#lease<SFTPWrapper>(signal, (client, done) => client.sftp(done), closeSftp);
  }

  /**
   * Opens a tunnel from this node to `host:port`, for a node behind it.
   *
   * @internal
   */
  async _tunnel(host: string, port: number, signal: AbortSignal): Promise<Duplex> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.#connection(signal);
      try {
        return await new Promise<Duplex>((resolve, reject) =>
          client.forwardOut("127.0.0.1", 0, host, port, (error, stream) =>
            error ? reject(error) : resolve(stream),
          ),
        );
      } catch (error) {
        if (attempt === 0 && this.#client !== client) continue;
        throw error;
      }
    }
  }

  /**
   * Takes a slot, opens a channel with `open`, and hands both back.
   *
   * A refused open is how a server says it allows fewer sessions than
   * `maxSessions`, but OpenSSH also refuses one that arrives just behind
   * the close of another, before it has freed that session. So a refusal
   * is retried once, shortly, holding the slot; only a second one lowers
   * the limit to the channels still open, and the command waits for one of
   * them to end.
   */
  async #lease<C extends Closable>(
    signal: AbortSignal,
    open: (client: Client, done: OpenCallback<C>) => void,
    dispose: (channel: C) => Promise<void>,
  ): Promise<C> {
    let reconnected = false;
    for (;;) {
      const release = await this.#takeSlot(signal);
      let refusals = 0;
      for (;;) {
        let client: Client;
        let outcome: OpenOutcome<C>;
        try {
          client = await this.#connection(signal);
          outcome = await openChannel(client, open, dispose, release, signal);
        } catch (error) {
          release();
          throw error;
        }
        if (outcome.kind === "open") return outcome.channel;
        // An abandoned open frees its slot once it settles.
        if (outcome.kind === "aborted") throw signal.reason;
        const error = outcome.error;
        if (isRefusedOpen(error) && this.#client === client) {
          refusals++;
          const others = this.#active - 1;
          if (refusals === 1 || (others === 0 && refusals <= 6)) {
            try {
              await sleep(refusals === 1 ? 10 : 25 * refusals, signal);
            } catch (reason) {
              release();
              throw reason;
            }
            continue;
          }
          release();
          if (others > 0) {
            this.#limit = others;
            break; // wait for a free slot
          }
          throw new SshConnectionError(
            this.target,
            "protocol",
            "the server refuses to open a session",
            {
              cause: error,
            },
          );
        }
        if (!reconnected && this.#client !== client) {
          // The connection died under us before the channel opened: the
          // command never started, so it is safe to try once more.
          reconnected = true;
          continue;
        }
        release();
        throw asConnectionError(this.target, error, "lost");
      }
    }
  }

  /** Waits for a free slot; resolves with the function that frees it. */
  async #takeSlot(signal: AbortSignal): Promise<() => void> {
    while (this.#active >= this.#limit) {
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const index = this.#waiters.indexOf(wake);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(signal.reason);
        };
        this.#waiters.push(wake);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
    this.#active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      this.#waiters.shift()?.();
    };
  }

  /** The open connection, opening it (once, however many ask) if needed. */
  async #connection(signal: AbortSignal | undefined): Promise<Client> {
    signal?.throwIfAborted();
    if (this.#client !== undefined) return this.#client;
    if (this.#opening === undefined) {
      const opening = this.#open();
      this.#opening = opening;
      openNodes.add(this);
      opening.then(
        () => {
          if (this.#opening === opening) this.#opening = undefined;
        },
        () => {
          if (this.#opening === opening) this.#opening = undefined;
          if (this.#client === undefined) openNodes.delete(this);
        },
      );
    }
    return signal === undefined ? this.#opening : raceAbort(this.#opening, signal);
  }

  /** Opens a new connection: through the gateway if any, within `connectTimeout`. */
  async #open(): Promise<Client> {
    const auth = await this.#authPlan();
    const target = this.target;
    const hostName = knownHostsName(this.host, this.port);
    let entries: KnownHostEntry[] = [];
    if (this.knownHosts.length > 0) {
      try {
        entries = await readKnownHosts(this.knownHosts);
      } catch (error) {
        throw new SshHostKeyError(
          target,
          {
            problem: "unreadable",
            host: hostName,
            message: `cannot check the host key: cannot read known hosts: ${messageOf(error)}`,
          },
          { cause: error },
        );
      }
    }
    // Set when the key is refused: the reason, rather than ssh2's "Host denied".
    let refusal: SshHostKeyError | undefined;
    const client = new ssh2.Client();
    const timeoutSignal = new AbortController();
    return new Promise<Client>((resolve, reject) => {
      let settled = false;
      // Set once the attempt failed (a timeout while the key was checked, say).
      let failed = false;
      let tunnel: Duplex | undefined;
      const fail = (error: SshConnectionError): void => {
        if (settled) return;
        settled = true;
        failed = true;
        clearTimeout(timer);
        timeoutSignal.abort(error);
        client.destroy();
        tunnel?.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () =>
          fail(
            new SshConnectionError(
              target,
              "timeout",
              `could not connect and log in within ${this.connectTimeout} ms`,
            ),
          ),
        this.connectTimeout,
      );
      client.on("ready", () => {
        if (settled) {
          client.end();
          return;
        }
        settled = true;
        clearTimeout(timer);
        this.#adopt(client);
        resolve(client);
      });
      client.on("error", (error: Error & { level?: string }) => {
        if (!settled) fail(refusal ?? classifyConnectError(target, error, auth.offered));
      });
      client.on("close", () => {
        if (!settled)
          fail(refusal ?? new SshConnectionError(target, "lost", "connection closed during login"));
        this.#forget(client);
      });
      const config: ConnectConfig = {
        host: this.host,
        port: this.port,
        username: this.username,
        authHandler: auth.methods,
        keepaliveInterval: this.keepalive,
        keepaliveCountMax: this.keepaliveCountMax,
        readyTimeout: 0,
      };
      if (this.hostKeyPolicy !== "off") {
        // The callback form: the check may read and write files.
        config.hostVerifier = (key: Buffer, verify: (accept: boolean) => void): void => {
          this.#checkHostKey(key, entries, hostName).then(
            (refused) => {
              refusal = refused;
              if (!failed) verify(refused === undefined);
            },
            (error: unknown) => {
              refusal = new SshHostKeyError(
                target,
                { problem: "refused", host: hostName, message: messageOf(error) },
                { cause: error },
              );
              if (!failed) verify(false);
            },
          );
        };
        // As OpenSSH does: ask for a key of a type we know for this host.
        const serverHostKey = hostKeyAlgorithms(knownTypes(entries, hostName));
        if (serverHostKey !== undefined) {
          config.algorithms = { serverHostKey: serverHostKey as ServerHostKeyAlgorithm[] };
        }
      }
      if (this.gateway === undefined) {
        client.connect(config);
        return;
      }
      const gateway = this.gateway;
      gateway._tunnel(this.host, this.port, timeoutSignal.signal).then(
        (stream) => {
          if (settled) {
            stream.destroy();
            return;
          }
          tunnel = stream;
          client.connect({ ...config, sock: stream });
        },
        (error: unknown) => {
          if (error instanceof SshConnectionError) {
            fail(
              new SshConnectionError(target, error.failure, `gateway failed: ${error.message}`, {
                cause: error,
              }),
            );
          } else {
            fail(
              new SshConnectionError(
                target,
                "gateway",
                `gateway ${gateway.target} could not reach ${formatHost(this.host)}:${this.port}: ${messageOf(error)}`,
                { cause: error },
              ),
            );
          }
        },
      );
    });
  }

  /**
   * Checks the key the host presents, by the node's policy; resolves with
   * the reason it is refused, or undefined when it is accepted (after
   * recording a new one).
   */
  async #checkHostKey(
    blob: Buffer,
    entries: readonly KnownHostEntry[],
    hostName: string,
  ): Promise<SshHostKeyError | undefined> {
    const target = this.target;
    const key = describeHostKey(blob);
    if (key === undefined) {
      return new SshHostKeyError(target, {
        problem: "refused",
        host: hostName,
        message: "the host sent a malformed host key",
      });
    }
    const presented = { type: key.type, fingerprint: key.fingerprint };
    const typeName = keyTypeName(key.type);
    if (this.#hostVerifier !== undefined) {
      let accepted: unknown;
      let cause: unknown;
      try {
        accepted = await this.#hostVerifier(key, this);
      } catch (error) {
        cause = error;
      }
      if (accepted === true) return undefined;
      return new SshHostKeyError(
        target,
        {
          problem: "refused",
          host: hostName,
          presented,
          message: `the ${typeName} host key ${key.fingerprint} was refused by the node's hostKeyPolicy function${cause === undefined ? "" : ` (it failed: ${messageOf(cause)})`}`,
        },
        cause === undefined ? undefined : { cause },
      );
    }
    const verdict = judgeHostKey(entries, hostName, key);
    switch (verdict.kind) {
      case "known":
        pinHostKey(hostName, key);
        return undefined;
      case "revoked":
        return new SshHostKeyError(target, {
          problem: "revoked",
          host: hostName,
          presented,
          message: `the ${typeName} host key of ${hostName} (${key.fingerprint}) is marked @revoked in ${verdict.where}`,
        });
      case "changed": {
        const known = verdict.known.map((record) => ({
          where: record.where,
          type: record.key.type,
          fingerprint: record.key.fingerprint,
        }));
        const knownText = known
          .map((record) => `${keyTypeName(record.type)} ${record.fingerprint} (${record.where})`)
          .join(", ");
        const files = [
          ...new Set(
            verdict.known
              .filter((record) => record.where !== "pinned in this process")
              .map((record) => record.where.replace(/:\d+$/, "")),
          ),
        ];
        const advice =
          files.length > 0
            ? `; if the key was replaced on purpose, remove the old one (ssh-keygen -R '${hostName}' -f ${files.join(" / ")}) and connect again`
            : "; the key changed while this process ran: it is refused until the process ends";
        return new SshHostKeyError(target, {
          problem: "changed",
          host: hostName,
          presented,
          known,
          message: `REMOTE HOST IDENTIFICATION HAS CHANGED: ${hostName} presents the ${typeName} key ${key.fingerprint}, but it is known by ${knownText}. Someone could be eavesdropping on the connection (a man-in-the-middle attack), or the host key was just replaced${advice}`,
        });
      }
      case "new":
        if (this.hostKeyPolicy === "strict") {
          return new SshHostKeyError(target, {
            problem: "unknown",
            host: hostName,
            presented,
            message: `no host key is known for ${hostName} and hostKeyPolicy is "strict": it presents the ${typeName} key ${key.fingerprint}; once it is checked, add it to ${this.knownHosts[0]}`,
          });
        }
        // Pinned at once, so that another connection to the host meanwhile sees it.
        pinHostKey(hostName, key);
        try {
          await recordHostKey(this.knownHosts[0]!, hostName, key);
        } catch (error) {
          // As ssh: the key is accepted (and pinned) even if it cannot be written down.
          process.emitWarning(
            `${target}: could not record the ${typeName} host key of ${hostName} in ${this.knownHosts[0]}: ${messageOf(error)}`,
            { code: "ASYNCJOBS_SSH_KNOWN_HOSTS" },
          );
        }
        return undefined;
    }
  }

  #adopt(client: Client): void {
    this.#client = client;
    this.#connections++;
    openNodes.add(this);
    // A new connection may allow more sessions than the last one did.
    this.#limit = this.maxSessions;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #forget(client: Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    if (this.#opening === undefined) openNodes.delete(this);
  }

  /** The keys and agent to offer, read once. */
  #authPlan(): Promise<AuthPlan> {
    this.#auth ??= this.#readAuth();
    const plan = this.#auth;
    // A failure (a missing key file) is retried on the next connection.
    plan.catch(() => {
      if (this.#auth === plan) this.#auth = undefined;
    });
    return plan;
  }

  async #readAuth(): Promise<AuthPlan> {
    const methods: AnyAuthMethod[] = [];
    const offered: string[] = [];
    const username = this.username;
    const addKey = (data: string | Buffer, name: string): void => {
      const parsed = ssh2.utils.parseKey(data, this.#passphrase);
      if (parsed instanceof Error) {
        throw new SshConnectionError(this.target, "auth", `cannot use ${name}: ${parsed.message}`);
      }
      methods.push({ type: "publickey", username, key: parsed });
      offered.push(name);
    };
    this.#privateKeys.forEach((key, index) => {
      addKey(key, this.#privateKeys.length > 1 ? `private key #${index + 1}` : "private key");
    });
    for (const file of this.#keyFiles) {
      const path = expandHome(file);
      let data: Buffer;
      try {
        data = await readFile(path);
      } catch (error) {
        throw new SshConnectionError(
          this.target,
          "auth",
          `cannot read key file ${path}: ${messageOf(error)}`,
        );
      }
      addKey(data, `key ${path}`);
    }
    const explicit = this.#privateKeys.length > 0 || this.#keyFiles.length > 0;
    const agent =
      typeof this.#agent === "string"
        ? this.#agent
        : this.#agent === true || (this.#agent === undefined && !explicit)
          ? process.env.SSH_AUTH_SOCK
          : undefined;
    if (agent) {
      methods.push({ type: "agent", username, agent });
      offered.push(`agent ${agent}`);
    }
    if (!explicit && this.#agent === undefined) {
      for (const name of DEFAULT_KEY_FILES) {
        const path = join(homedir(), ".ssh", name);
        const data = await readFile(path).catch(() => undefined);
        if (data === undefined) continue;
        const parsed = ssh2.utils.parseKey(data, this.#passphrase);
        if (parsed instanceof Error) continue;
        methods.push({ type: "publickey", username, key: parsed });
        offered.push(`key ${path}`);
      }
    }
    if (methods.length === 0) {
      throw new SshConnectionError(
        this.target,
        "auth",
        "no key to offer: give privateKey, keyFile or agent (or set SSH_AUTH_SOCK)",
      );
    }
    return { methods, offered };
  }
}

function checkPort(value: unknown): number {
  if (value === undefined || value === null) return 22;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new TypeError(
      `SshNode(): option "port" must be an integer from 1 to 65535, got ${describeValue(value)}`,
    );
  }
  return value;
}

function checkKeepalive(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_KEEPALIVE;
  if (typeof value === "boolean")
    return checkBoolean("SshNode()", "keepalive", value, true) ? DEFAULT_KEEPALIVE : 0;
  return checkTimer("SshNode()", "keepalive", value) ?? 0;
}

function checkKeys(value: unknown): readonly (string | Buffer)[] {
  const list = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
  for (const key of list) {
    if (typeof key !== "string" && !Buffer.isBuffer(key)) {
      throw new TypeError(
        `SshNode(): option "privateKey" must be key text (a string or a Buffer) or a list of them, got ${describeValue(key)}`,
      );
    }
  }
  return list as (string | Buffer)[];
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Whether the server refused to open a channel. For a session channel
 * this is how OpenSSH says `MaxSessions` is reached (with reason 1 or 2,
 * depending on the version).
 */
function isRefusedOpen(error: unknown): boolean {
  return typeof (error as { reason?: unknown } | null)?.reason === "number";
}

/** Turns what ssh2 reports while connecting into an error naming the node. */
function classifyConnectError(
  target: string,
  error: Error & { level?: string; code?: string },
  offered: readonly string[],
): SshConnectionError {
  const options = { cause: error };
  if (error.level === "client-authentication") {
    return new SshConnectionError(
      target,
      "auth",
      `authentication failed (offered: ${offered.join(", ")})`,
      options,
    );
  }
  switch (error.code) {
    case "ECONNREFUSED":
      return new SshConnectionError(target, "refused", "connection refused", options);
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new SshConnectionError(
        target,
        "unreachable",
        `host unreachable (${error.code})`,
        options,
      );
    case "ETIMEDOUT":
      return new SshConnectionError(target, "timeout", "connection timed out", options);
  }
  return asConnectionError(target, error, "protocol");
}

function asConnectionError(
  target: string,
  error: unknown,
  failure: SshConnectionFailure,
): SshConnectionError {
  if (error instanceof SshConnectionError) return error;
  return new SshConnectionError(target, failure, messageOf(error), { cause: error });
}

/** How an attempt to open a channel ended. */
type OpenOutcome<C> =
  | { kind: "open"; channel: C }
  | { kind: "failed"; error: unknown }
  | { kind: "aborted" };

/**
 * Opens a channel, whose slot is then freed when it closes. On failure the
 * slot is left to the caller; if the caller gives up (abort) first, the
 * channel is closed as soon as it opens.
 */
function openChannel<C extends Closable>(
  client: Client,
  open: (client: Client, done: OpenCallback<C>) => void,
  dispose: (channel: C) => Promise<void>,
  release: () => void,
  signal: AbortSignal,
): Promise<OpenOutcome<C>> {
  if (signal.aborted) {
    release();
    return Promise.resolve({ kind: "aborted" });
  }
  return new Promise<OpenOutcome<C>>((resolve) => {
    let abandoned = false;
    const onAbort = (): void => {
      abandoned = true;
      resolve({ kind: "aborted" });
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      open(client, (error, channel) => {
        signal.removeEventListener("abort", onAbort);
        if (error) {
          if (abandoned) release();
          else resolve({ kind: "failed", error });
          return;
        }
        // The slot is held exactly as long as the channel is open.
        channel.once("close", release);
        if (abandoned) void dispose(channel);
        else resolve({ kind: "open", channel });
      });
    } catch (error) {
      // ssh2 throws "Not connected" at once when the socket is gone.
      signal.removeEventListener("abort", onAbort);
      resolve({ kind: "failed", error });
    }
  });
}

function closeChannel(channel: ClientChannel): Promise<void> {
  return new Promise((resolve) => {
    channel.once("close", () => resolve());
    channel.close();
  });
}

function closeSftp(sftp: SFTPWrapper): Promise<void> {
  return new Promise((resolve) => {
    sftp.once("close", () => resolve());
    sftp.end();
  });
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
