/**
 * Host keys: reading OpenSSH `known_hosts` files (plain and hashed
 * entries, `[host]:port` names, wildcards, `@revoked`), judging the key a
 * server presents, recording new ones, and the keys pinned for the life of
 * the process.
 *
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { appendFile, mkdir, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * What an {@link SshNode} does with the key a host presents, as OpenSSH's
 * `StrictHostKeyChecking`:
 * - `"accept-new"` (the default): a key the known_hosts files have for this
 *   host must match; a host they do not know is accepted and its key
 *   recorded in the first of them;
 * - `"strict"`: only a key the known_hosts files have for this host is
 *   accepted;
 * - `"off"`: every key is accepted, and nothing is read nor recorded.
 *
 * Under `"accept-new"` and `"strict"`, a changed key is refused, and so is
 * a key of another type than those known for the host (stricter than
 * OpenSSH: a man in the middle cannot offer a type we have no key of) and
 * a key marked `@revoked`; and
 * every key accepted is pinned for the life of the process, so a host
 * cannot change it between two connections even if the file says nothing.
 */
export type SshHostKeyPolicy = "accept-new" | "strict" | "off";

/** A host's public key, as a host-key verifier sees it. */
export interface SshHostKey {
  /** The key's type, as in known_hosts: `"ssh-ed25519"`, `"ecdsa-sha2-nistp256"`, `"ssh-rsa"`. */
  readonly type: string;
  /** The SHA-256 fingerprint, as OpenSSH prints it: `"SHA256:"` and unpadded base64. */
  readonly fingerprint: string;
  /** The key blob, as sent by the server (the base64 part of a known_hosts line, decoded). */
  readonly data: Buffer;
}

/** One key line of a known_hosts file. */
export interface KnownHostEntry {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly marker: "revoked" | "cert-authority" | undefined;
  readonly hosts: string;
  readonly type: string;
  readonly data: Buffer;
}

/** A key the files (or the pins) say the host had, for error messages. */
export interface KnownHostKeyRecord {
  /** Where it was read (`file:line`), or `"pinned in this process"`. */
  readonly where: string;
  readonly key: SshHostKey;
}

/** What the files and pins say about the key a host presents. */
export type HostKeyVerdict =
  | { readonly kind: "known" }
  | { readonly kind: "new" }
  | { readonly kind: "changed"; readonly known: readonly KnownHostKeyRecord[] }
  | { readonly kind: "revoked"; readonly where: string };

/** The name a host is looked up under: `host`, or `[host]:port` on another port than 22. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** The type and fingerprint of a key blob; undefined when it is not one. */
export function describeHostKey(data: Buffer): SshHostKey | undefined {
  if (data.length < 4) return undefined;
  const length = data.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > data.length) return undefined;
  const type = data.subarray(4, 4 + length).toString("latin1");
  if (!/^[\x21-\x7e]+$/.test(type)) return undefined;
  const digest = createHash("sha256").update(data).digest("base64").replace(/=+$/, "");
  return { type, fingerprint: `SHA256:${digest}`, data };
}

/** The type as OpenSSH names it in its messages: `ED25519`, `ECDSA`, `RSA`. */
export function keyTypeName(type: string): string {
  if (type === "ssh-ed25519") return "ED25519";
  if (type.startsWith("ecdsa-sha2-")) return "ECDSA";
  if (type === "ssh-rsa") return "RSA";
  if (type === "ssh-dss") return "DSA";
  if (type.startsWith("sk-ssh-ed25519")) return "ED25519-SK";
  if (type.startsWith("sk-ecdsa-")) return "ECDSA-SK";
  return type;
}

/**
 * The host-key algorithms to offer, the types already known for the host
 * first: as OpenSSH does, so that a host with several keys presents the one
 * we know rather than one we would take for a new host.
 */
export function hostKeyAlgorithms(knownTypes: Iterable<string>): string[] | undefined {
  const standard = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
  ];
  const first: string[] = [];
  for (const type of knownTypes) {
    const algorithms = type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type];
    for (const algorithm of algorithms) {
      if ((standard.includes(algorithm) || algorithm === "ssh-dss") && !first.includes(algorithm)) {
        first.push(algorithm);
      }
    }
  }
  if (first.length === 0) return undefined;
  return [...first, ...standard.filter((algorithm) => !first.includes(algorithm))];
}

/**
 * Reads the key lines of known_hosts files; a missing file has none. Any
 * other failure to read one (permissions, a folder) is thrown: a check
 * against a file we cannot read would be no check.
 */
export async function readKnownHosts(files: readonly string[]): Promise<KnownHostEntry[]> {
  const entries: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      // No such file (or a path that cannot be one): no keys from it.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") continue;
      throw error;
    }
    text.split("\n").forEach((raw, index) => {
      const entry = parseLine(raw, file, index + 1);
      if (entry !== undefined) entries.push(entry);
    });
  }
  return entries;
}

function parseLine(raw: string, file: string, line: number): KnownHostEntry | undefined {
  const text = raw.trim();
  if (text === "" || text.startsWith("#")) return undefined;
  const fields = text.split(/\s+/);
  let marker: KnownHostEntry["marker"];
  if (fields[0]!.startsWith("@")) {
    const name = fields.shift()!;
    if (name === "@revoked") marker = "revoked";
    else if (name === "@cert-authority") marker = "cert-authority";
    else return undefined;
  }
  const [hosts, type, base64] = fields;
  if (hosts === undefined || type === undefined || base64 === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const data = Buffer.from(base64, "base64");
  // The blob says its own type: a line whose two disagree is not trusted.
  if (describeHostKey(data)?.type !== type) return undefined;
  return { file, line, marker, hosts, type, data };
}

/** Whether the host field of a line names `name` (hashed, or patterns with `!` negations). */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt, hash] = field.split("|");
    if (salt === undefined || hash === undefined) return false;
    const expected = Buffer.from(hash, "base64");
    const actual = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
  let matched = false;
  for (const pattern of field.split(",")) {
    const negated = pattern.startsWith("!");
    if (!wildcardMatch(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** OpenSSH's patterns: `*` any run, `?` one character, case-insensitive. */
function wildcardMatch(pattern: string, name: string): boolean {
  const source = [...pattern.toLowerCase()]
    .map((char) =>
      char === "*" ? ".*" : char === "?" ? "." : char.replace(/[\\^$.|+()[\]{}]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${source}$`, "s").test(name.toLowerCase());
}

/**
 * Keys accepted in this process, by host name then key type: a host that
 * presents another key later, on any node, is refused.
 */
const pins = new Map<string, Map<string, Buffer>>();

/** The key types known for `name`, from the files and the pins. */
export function knownTypes(entries: readonly KnownHostEntry[], name: string): Set<string> {
  const types = new Set<string>(pins.get(name)?.keys() ?? []);
  for (const entry of entries) {
    if (entry.marker === undefined && hostFieldMatches(entry.hosts, name)) types.add(entry.type);
  }
  return types;
}

/** What the pins and the known_hosts entries say about `key` presented by `name`. */
export function judgeHostKey(
  entries: readonly KnownHostEntry[],
  name: string,
  key: SshHostKey,
): HostKeyVerdict {
  const matching = entries.filter((entry) => hostFieldMatches(entry.hosts, name));
  for (const entry of entries) {
    // A revoked key is refused whatever host it is presented by.
    if (entry.marker === "revoked" && entry.data.equals(key.data)) {
      return { kind: "revoked", where: `${entry.file}:${entry.line}` };
    }
  }
  const pinned = pins.get(name)?.get(key.type);
  const recorded = matching.filter((entry) => entry.marker === undefined);
  if (
    pinned !== undefined
      ? pinned.equals(key.data)
      : recorded.some((entry) => entry.type === key.type && entry.data.equals(key.data))
  ) {
    return { kind: "known" };
  }
  // A pinned key wins over the files (they may have been edited since).
  // A known host presenting a key of another type counts as changed too:
  // else a man in the middle could offer a type we have no key of.
  const known: KnownHostKeyRecord[] = [
    ...[...(pins.get(name)?.values() ?? [])].map((data) => ({
      where: "pinned in this process",
      key: describeHostKey(data)!,
    })),
    ...recorded.map((entry) => ({
      where: `${entry.file}:${entry.line}`,
      key: describeHostKey(entry.data)!,
    })),
  ];
  if (known.length > 0) return { kind: "changed", known };
  return { kind: "new" };
}

/** Pins `key` for `name`, for the life of the process. */
export function pinHostKey(name: string, key: SshHostKey): void {
  let byType = pins.get(name);
  if (byType === undefined) {
    byType = new Map();
    pins.set(name, byType);
  }
  if (!byType.has(key.type)) byType.set(key.type, key.data);
}

/** Appends to one file at a time in this process, so that lines never interleave. */
const appending = new Map<string, Promise<void>>();

/**
 * Records `key` for `name` at the end of `file`, as `ssh` does: the file
 * (and its folder) are created if needed, the file with mode 600 and the
 * folder with 700.
 */
export function recordHostKey(file: string, name: string, key: SshHostKey): Promise<void> {
  const previous = appending.get(file) ?? Promise.resolve();
  const next = previous.then(async () => {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const size = await stat(file).then(
      (info) => info.size,
      () => 0,
    );
    let separator = "";
    if (size > 0) {
      const text = await readFile(file);
      if (text[text.length - 1] !== 0x0a) separator = "\n";
    }
    await appendFile(file, `${separator}${name} ${key.type} ${key.data.toString("base64")}\n`, {
      mode: 0o600,
    });
  });
  const settled = next.catch(() => undefined);
  appending.set(file, settled);
  void settled.then(() => {
    if (appending.get(file) === settled) appending.delete(file);
  });
  return next;
}
