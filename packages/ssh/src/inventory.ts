/**
 * Hosts inventories: names for hosts (where they are, how to log in, which
 * gateway leads there), and the one {@link SshNode} per host and route that
 * every job naming it shares.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { describeValue, isPlainObject } from "asyncjobs/extend";
import { parse } from "yaml";
import type { SshHostKeyPolicy } from "./known-hosts.js";
import { parseSshTarget, SshNode, type SshNodeOptions } from "./node.js";

/** How to reach one host of an inventory. */
export interface SshHostEntry {
  /** Host name or address; default the entry's name. */
  host?: string;
  /** Port; default 22. */
  port?: number;
  /** User to log in as. */
  user?: string;
  /** Key file(s); relative paths are read from the inventory's folder. */
  key?: string | readonly string[];
  /** The gateway(s) to go through, nearest to us first: names of this inventory or targets. */
  via?: string | readonly string[];
  /** A POSIX shell to run commands with, for a login shell that is not one. */
  shell?: string;
  /** Milliseconds to connect and log in. */
  connectTimeout?: number;
  /**
   * How the host's key is checked: `accept-new` (the default), `strict` or
   * `off`; see {@link SshHostKeyPolicy}.
   */
  hostKeyPolicy?: SshHostKeyPolicy;
  /**
   * The known_hosts file(s) to check host keys against, new keys going to
   * the first; relative paths are read from the inventory's folder. Default
   * `~/.ssh/known_hosts` (and `/etc/ssh/ssh_known_hosts`).
   */
  knownHosts?: string | readonly string[];
}

/**
 * An inventory's content: `hosts` maps names to a target
 * (`[user@]host[:port]`) or an {@link SshHostEntry}; `defaults` applies to
 * every host (and to targets given outside the inventory).
 *
 * ```yaml
 * defaults: { user: root, key: ~/.ssh/id_ed25519 }
 * hosts:
 *   gw: alice@gateway.example.org
 *   node1: { host: 10.0.0.1, via: gw }
 *   node2: { host: 10.0.0.2, port: 2222, via: gw }
 * ```
 */
export interface SshInventoryData {
  /** Settings every host gets unless its entry says otherwise. */
  defaults?: Omit<SshHostEntry, "host">;
  /** The hosts by name: a `[user@]host[:port]` target, or an entry. */
  hosts?: Record<string, string | SshHostEntry>;
}

const ENTRY_KEYS = new Set([
  "host",
  "port",
  "user",
  "key",
  "via",
  "shell",
  "connectTimeout",
  "hostKeyPolicy",
  "knownHosts",
]);
const HOST_KEY_POLICIES: readonly string[] = ["accept-new", "strict", "off"];

/**
 * Resolves host names and targets to nodes: the same host reached the same
 * way is always the same {@link SshNode}, so jobs on it share one
 * connection, and so do hosts behind the same gateway.
 */
export class SshInventory {
  /** Where the inventory was read from, if it was. */
  readonly file: string | undefined;
  readonly #hosts: Map<string, SshHostEntry>;
  readonly #defaults: Omit<SshHostEntry, "host">;
  readonly #base: string;
  readonly #nodes = new Map<string, SshNode>();

  constructor(data: SshInventoryData = {}, options: { file?: string } = {}) {
    this.file = options.file;
    this.#base = options.file === undefined ? process.cwd() : dirname(resolve(options.file));
    const where = this.file ?? "inventory";
    if (!isPlainObject(data))
      throw new TypeError(`${where}: expected a mapping, got ${describeValue(data)}`);
    for (const key of Object.keys(data)) {
      if (key !== "defaults" && key !== "hosts") {
        throw new TypeError(`${where}: unknown key "${key}" (expected defaults: and hosts:)`);
      }
    }
    this.#defaults = checkEntry(`${where}: defaults`, data.defaults ?? {});
    this.#hosts = new Map();
    const hosts = data.hosts ?? {};
    if (!isPlainObject(hosts)) throw new TypeError(`${where}: hosts: expected a mapping of names`);
    for (const [name, entry] of Object.entries(hosts)) {
      const parsed =
        typeof entry === "string"
          ? targetEntry(entry)
          : checkEntry(`${where}: host "${name}"`, entry);
      this.#hosts.set(name, parsed);
    }
  }

  /** Reads an inventory file (YAML or JSON). Throws an Error naming the file on any mistake. */
  static readFile(file: string): SshInventory {
    let data: unknown;
    try {
      data = parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new Error(`${file}: cannot read the hosts inventory: ${(error as Error).message}`);
    }
    return new SshInventory((data ?? {}) as SshInventoryData, { file });
  }

  /** The names of the inventory's hosts. */
  get names(): string[] {
    return [...this.#hosts.keys()];
  }

  /** Whether `name` is a host of the inventory. */
  has(name: string): boolean {
    return this.#hosts.has(name);
  }

  /**
   * The node for `on` (a name of the inventory, or a `[user@]host[:port]`
   * target) through `via` (gateways, nearest to us first; default: the
   * host's own `via`). Throws on a name that resolves to nothing, or a
   * gateway loop.
   */
  node(on: string, via?: string | readonly string[]): SshNode {
    return this.#resolve(on, via === undefined ? undefined : listOf(via), []);
  }

  #resolve(on: string, via: readonly string[] | undefined, seen: readonly string[]): SshNode {
    if (seen.includes(on)) {
      throw new Error(`gateway loop: ${[...seen, on].join(" -> ")}`);
    }
    const entry = { ...this.#defaults, ...(this.#hosts.get(on) ?? targetEntry(on)) };
    const route = via ?? listOf(entry.via);
    let gateway: SshNode | undefined;
    for (const hop of route) {
      gateway =
        gateway === undefined
          ? this.#resolve(hop, undefined, [...seen, on])
          : this.#behind(hop, gateway, [...seen, on]);
    }
    return this.#make(on, entry, gateway);
  }

  /** A gateway reached through `gateway`: its own `via` gives way to the route it is on. */
  #behind(name: string, gateway: SshNode, seen: readonly string[]): SshNode {
    if (seen.includes(name)) throw new Error(`gateway loop: ${[...seen, name].join(" -> ")}`);
    const entry = { ...this.#defaults, ...(this.#hosts.get(name) ?? targetEntry(name)) };
    return this.#make(name, entry, gateway);
  }

  #make(name: string, entry: SshHostEntry, gateway: SshNode | undefined): SshNode {
    const keys = listOf(entry.key).map((key) => this.#keyPath(key));
    const knownHosts = listOf(entry.knownHosts).map((file) => this.#keyPath(file));
    const options: SshNodeOptions = { host: entry.host ?? name };
    if (entry.port !== undefined) options.port = entry.port;
    if (entry.user !== undefined) options.username = entry.user;
    if (keys.length > 0) options.keyFile = keys;
    if (entry.shell !== undefined) options.shell = entry.shell;
    if (entry.connectTimeout !== undefined) options.connectTimeout = entry.connectTimeout;
    if (entry.hostKeyPolicy !== undefined) options.hostKeyPolicy = entry.hostKeyPolicy;
    if (knownHosts.length > 0) options.knownHosts = knownHosts;
    if (gateway !== undefined) options.gateway = gateway;
    if (this.#hosts.has(name)) options.label = name;
    const identity = JSON.stringify([
      options.label,
      options.username,
      options.host,
      options.port,
      keys,
      entry.shell,
      entry.connectTimeout,
      entry.hostKeyPolicy,
      knownHosts,
      gateway?.target,
    ]);
    let node = this.#nodes.get(identity);
    if (node === undefined) {
      node = new SshNode(options);
      this.#nodes.set(identity, node);
    }
    return node;
  }

  #keyPath(key: string): string {
    if (key === "~" || key.startsWith("~/")) return join(homedir(), key.slice(1));
    return isAbsolute(key) ? key : join(this.#base, key);
  }
}

function listOf(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : value;
}

/** An entry from a `[user@]host[:port]` target. */
function targetEntry(target: string): SshHostEntry {
  const parsed = parseSshTarget(target);
  const entry: SshHostEntry = { host: parsed.host };
  if (parsed.username !== undefined) entry.user = parsed.username;
  if (parsed.port !== undefined) entry.port = parsed.port;
  return entry;
}

function checkEntry(where: string, value: unknown): SshHostEntry {
  if (!isPlainObject(value))
    throw new TypeError(`${where}: expected a mapping or a [user@]host[:port] text`);
  for (const key of Object.keys(value)) {
    if (!ENTRY_KEYS.has(key)) {
      throw new TypeError(`${where}: unknown key "${key}" (known: ${[...ENTRY_KEYS].join(", ")})`);
    }
  }
  const text = (key: string): void => {
    if (value[key] !== undefined && typeof value[key] !== "string") {
      throw new TypeError(`${where}: ${key} must be a string, got ${describeValue(value[key])}`);
    }
  };
  const texts = (key: string): void => {
    const item = value[key];
    if (
      item !== undefined &&
      typeof item !== "string" &&
      !(Array.isArray(item) && item.every((x) => typeof x === "string"))
    ) {
      throw new TypeError(`${where}: ${key} must be a string or a list of strings`);
    }
  };
  const count = (key: string): void => {
    if (value[key] !== undefined && (!Number.isInteger(value[key]) || (value[key] as number) < 0)) {
      throw new TypeError(
        `${where}: ${key} must be a whole number, got ${describeValue(value[key])}`,
      );
    }
  };
  text("host");
  text("user");
  text("shell");
  texts("key");
  texts("via");
  count("port");
  count("connectTimeout");
  texts("knownHosts");
  const policy = value.hostKeyPolicy;
  if (policy !== undefined && !HOST_KEY_POLICIES.includes(policy as string)) {
    throw new TypeError(
      `${where}: hostKeyPolicy must be one of ${HOST_KEY_POLICIES.join(", ")}, got ${describeValue(policy)}`,
    );
  }
  return value as SshHostEntry;
}
