/**
 * A small network of namespaces for the SSH tests and the bench: each
 * namespace is linked by a veth pair to the host or to another namespace,
 * so that a namespace linked to another one is reachable only through it.
 *
 * Addresses come from 198.18.0.0/15 (set aside for network benchmarks): one
 * /24 per lab, claimed on the host with an `unreachable` route, so that an
 * address of the lab that is not on a link fails at once and never leaves
 * the machine; each link is a /29 inside it.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { isAlive, signalAll } from "./processes.js";

const run = promisify(execFile);

async function ip(...args: string[]): Promise<string> {
  const { stdout } = await run("ip", args);
  return stdout;
}

const NAME_PATTERN = /^aj-(\d+)-(\d+)-(\d+)$/;

/** Why namespaces cannot be made here, or undefined when they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "network namespaces need root";
  const probe = `aj-${process.pid}-999-0`;
  try {
    await ip("netns", "add", probe);
    await ip("netns", "del", probe);
    return undefined;
  } catch (error) {
    return `cannot create a network namespace: ${(error as Error).message.split("\n")[0]}`;
  }
}

/** One namespace of a lab. */
export interface LabHost {
  /** The namespace's name (for `ip netns exec`). */
  readonly netns: string;
  /** Its address on the link to its parent. */
  readonly address: string;
  /** The parent's address on that link. */
  readonly parentAddress: string;
  /** An address on that link that no one has: connecting to it hangs, as to a host that is down. */
  readonly vacantAddress: string;
  /** The host it hangs off: undefined for the machine itself. */
  readonly parent: LabHost | undefined;
}

/** A set of namespaces; {@link NetLab.destroy} removes them all. */
export class NetLab {
  readonly #hosts: LabHost[] = [];
  #destroyed = false;

  private constructor(readonly block: number) {}

  /** The /24 the lab's addresses come from. */
  get subnet(): string {
    return `${blockPrefix(this.block)}.0/24`;
  }

  /** Claims a free /24 (clearing what dead runs left behind) and returns an empty lab. */
  static async create(): Promise<NetLab> {
    await removeStale();
    for (let attempt = 0; attempt < 50; attempt++) {
      const block = Math.floor(Math.random() * 512);
      try {
        await ip("route", "add", "unreachable", `${blockPrefix(block)}.0/24`);
        return new NetLab(block);
      } catch {
        // Taken by another run: try another block.
      }
    }
    throw new Error("no free /24 in 198.18.0.0/15 for a test network");
  }

  /** Adds a namespace linked to `parent` (a namespace of this lab), or to the machine. */
  async add(parent?: LabHost): Promise<LabHost> {
    const index = this.#hosts.length;
    if (index >= 32) throw new Error("a lab holds at most 32 namespaces");
    const netns = `aj-${process.pid}-${this.block}-${index}`;
    const tag = `aj${this.block.toString(16).padStart(3, "0")}${index.toString(16).padStart(2, "0")}`;
    const prefix = blockPrefix(this.block);
    const base = index * 8;
    const host: LabHost = {
      netns,
      address: `${prefix}.${base + 2}`,
      parentAddress: `${prefix}.${base + 1}`,
      vacantAddress: `${prefix}.${base + 3}`,
      parent,
    };
    await ip("netns", "add", netns);
    this.#hosts.push(host);
    const inParent = parent === undefined ? [] : ["-n", parent.netns];
    await ip(
      ...inParent,
      "link",
      "add",
      `${tag}p`,
      "type",
      "veth",
      "peer",
      "name",
      `${tag}c`,
      "netns",
      netns,
    );
    await ip(...inParent, "addr", "add", `${host.parentAddress}/29`, "dev", `${tag}p`);
    await ip(...inParent, "link", "set", `${tag}p`, "up");
    await ip("-n", netns, "addr", "add", `${host.address}/29`, "dev", `${tag}c`);
    await ip("-n", netns, "link", "set", `${tag}c`, "up");
    await ip("-n", netns, "link", "set", "lo", "up");
    return host;
  }

  /** Kills every process left in the lab's namespaces, deletes them and frees the /24. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const host of [...this.#hosts].reverse()) await deleteNamespace(host.netns);
    await ip("route", "del", "unreachable", this.subnet).catch(() => undefined);
  }
}

function blockPrefix(block: number): string {
  return `198.${18 + (block >> 8)}.${block & 255}`;
}

/** Kills what runs in a namespace, then deletes it (its veth pairs go with it). */
async function deleteNamespace(netns: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const pids = (await ip("netns", "pids", netns).catch(() => ""))
      .split("\n")
      .filter((line) => line !== "")
      .map(Number);
    if (pids.length === 0) break;
    signalAll(pids, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await ip("netns", "del", netns).catch(() => undefined);
}

/** Removes the namespaces and routes of runs whose process is gone. */
async function removeStale(): Promise<void> {
  const list = await ip("netns", "list").catch(() => "");
  const blocks = new Set<number>();
  for (const line of list.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const match = NAME_PATTERN.exec(name);
    if (match === null || (await isAlive(Number(match[1])))) continue;
    await deleteNamespace(name);
    blocks.add(Number(match[2]));
  }
  for (const block of blocks) {
    await ip("route", "del", "unreachable", `${blockPrefix(block)}.0/24`).catch(() => undefined);
  }
}
