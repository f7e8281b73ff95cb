/**
 * Host keys are checked as OpenSSH's StrictHostKeyChecking=accept-new does,
 * against real sshd servers on loopback whose host key changes between two
 * connections. Every node here reads and writes a known_hosts file of a
 * temporary folder: the real ~/.ssh/known_hosts is never touched (a test
 * checks that too).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import {
  captureFormatter,
  SshHostKeyError,
  SshJob,
  SshNode,
  type SshNodeOptions,
} from "@asyncjobs/ssh";
import { makeTestKeys, type TestKeys } from "./ssh/keys.js";
import { Sshd, sshdUnavailable } from "./ssh/sshd.js";

const run = promisify(execFile);
const missing = sshdUnavailable();
const skip = missing !== undefined && process.env.CI === undefined ? missing : false;

/** `SHA256:…` of a public key file, as OpenSSH prints it. */
async function fingerprint(publicKeyFile: string): Promise<string> {
  const { stdout } = await run("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyFile]);
  return stdout.split(" ")[1]!;
}

/** A known_hosts line for `name` with the key of a public key file. */
async function knownLine(name: string, publicKeyFile: string): Promise<string> {
  const [type, base64] = (await readFile(publicKeyFile, "utf8")).split(" ");
  return `${name} ${type} ${base64}\n`;
}

/** What the real known_hosts file is now: its content and modification time, or "absent". */
async function realKnownHosts(): Promise<string> {
  const file = join(homedir(), ".ssh", "known_hosts");
  try {
    const info = await stat(file);
    return `${info.mtimeMs} ${await readFile(file, "utf8")}`;
  } catch {
    return "absent";
  }
}

describe("host keys", { skip, timeout: 60_000 }, () => {
  let keys: TestKeys;
  let otherHostKey: string;
  let realBefore: string;
  const servers: Sshd[] = [];
  let files = 0;

  before(async () => {
    realBefore = await realKnownHosts();
    keys = await makeTestKeys();
    otherHostKey = join(keys.dir, "other_host_ed25519");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherHostKey]);
  });

  after(async () => {
    await SshNode.closeAll();
    await Promise.all(servers.map((server) => server.stop()));
    await keys?.remove();
  });

  const start = async (hostKey: string, port?: number): Promise<Sshd> => {
    const server = await Sshd.start({ keys, hostKey, ...(port === undefined ? {} : { port }) });
    servers.push(server);
    return server;
  };
  /** A fresh known_hosts path in the test folder (not created). */
  const knownHostsFile = (): string => join(keys.dir, "ssh", `known_hosts-${++files}`);
  const nodeOf = (server: Sshd, options: SshNodeOptions): SshNode =>
    new SshNode(`127.0.0.1:${server.port}`, { keyFile: keys.userKey, ...options });
  const echo = (node: SshNode): Promise<unknown> =>
    new SshJob(node, "echo in", { formatter: captureFormatter() }).standaloneRun();

  it("records an unknown host by default, then refuses the key of a server replaced on the same port", async () => {
    const first = await start(keys.hostKey);
    const port = first.port;
    const name = `[127.0.0.1]:${port}`;
    const file = knownHostsFile();
    const node = nodeOf(first, { knownHosts: file });
    assert.equal(node.hostKeyPolicy, "accept-new");
    assert.equal(await echo(node), "in");
    // Recorded as ssh would: a file of mode 600, a line OpenSSH itself finds.
    assert.equal(await readFile(file, "utf8"), await knownLine(name, `${keys.hostKey}.pub`));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const found = await run("ssh-keygen", ["-F", name, "-f", file]);
    assert.match(found.stdout, /ssh-ed25519/);

    // The same server again, with another key: as after a man in the middle took its place.
    await first.stop();
    await start(otherHostKey, port);
    const [known, presented] = await Promise.all([
      fingerprint(`${keys.hostKey}.pub`),
      fingerprint(`${otherHostKey}.pub`),
    ]);
    const refused = (error: unknown): boolean => {
      assert.ok(error instanceof SshHostKeyError, String(error));
      assert.equal(error.failure, "host-key");
      assert.equal(error.problem, "changed");
      assert.equal(error.host, name);
      assert.deepEqual(error.presented, { type: "ssh-ed25519", fingerprint: presented });
      assert.match(error.message, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
      assert.ok(error.message.includes(`${name} presents the ED25519 key ${presented}`));
      assert.ok(error.message.includes(known), error.message);
      return true;
    };
    // The same node reconnecting, and a new node reading the same file.
    await assert.rejects(echo(node), refused);
    await assert.rejects(echo(nodeOf(first, { knownHosts: file })), (error: unknown) => {
      refused(error);
      assert.ok((error as SshHostKeyError).message.includes(`${file}:1`));
      return true;
    });
    // Even a node whose known_hosts says nothing: the first key is pinned for the process.
    await assert.rejects(echo(nodeOf(first, { knownHosts: knownHostsFile() })), (error) => {
      refused(error);
      assert.deepEqual(
        (error as SshHostKeyError).known.map((key) => [key.where, key.fingerprint]),
        [["pinned in this process", known]],
      );
      return true;
    });
    // Nothing was recorded for the new key.
    assert.equal(await readFile(file, "utf8"), await knownLine(name, `${keys.hostKey}.pub`));
    // "off" takes any key.
    assert.equal(await echo(nodeOf(first, { hostKeyPolicy: "off" })), "in");
  });

  it("refuses a key that differs from the one known_hosts pins", async () => {
    const server = await start(keys.hostKey);
    const name = `[127.0.0.1]:${server.port}`;
    const file = knownHostsFile();
    await run("mkdir", ["-p", join(keys.dir, "ssh")]);
    // A comment, another host, then this one with the other key.
    const content = `# pinned\nexample.org ${(await knownLine("x", `${otherHostKey}.pub`)).slice(2)}${await knownLine(name, `${otherHostKey}.pub`)}`;
    await writeFile(file, content);
    const other = await fingerprint(`${otherHostKey}.pub`);
    for (const hostKeyPolicy of ["accept-new", "strict"] as const) {
      await assert.rejects(
        echo(nodeOf(server, { knownHosts: file, hostKeyPolicy })),
        (error: unknown) => {
          assert.ok(error instanceof SshHostKeyError);
          assert.equal(error.problem, "changed");
          assert.deepEqual(error.known, [
            {
              where: `${file}:3`,
              type: "ssh-ed25519",
              fingerprint: other,
            },
          ]);
          assert.match(error.message, /ssh-keygen -R/);
          return true;
        },
      );
    }
    assert.equal(await readFile(file, "utf8"), content);

    // Known by a key of another type only: refused too, not taken as new.
    const ecdsa = join(keys.dir, "other_host_ecdsa");
    await run("ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-f", ecdsa]);
    await writeFile(file, await knownLine(name, `${ecdsa}.pub`));
    await assert.rejects(echo(nodeOf(server, { knownHosts: file })), (error: unknown) => {
      assert.ok(error instanceof SshHostKeyError);
      assert.equal(error.problem, "changed");
      assert.deepEqual(
        error.known.map((key) => key.type),
        ["ecdsa-sha2-nistp256"],
      );
      return true;
    });
    // A key marked @revoked is refused whatever host name the line has.
    await writeFile(file, await knownLine("@revoked *.example.org", `${keys.hostKey}.pub`));
    await assert.rejects(echo(nodeOf(server, { knownHosts: file })), (error: unknown) => {
      assert.ok(error instanceof SshHostKeyError);
      assert.equal(error.problem, "revoked");
      assert.ok(error.message.includes(`marked @revoked in ${file}:1`));
      return true;
    });
  });

  it("under strict, refuses an unknown host and accepts hashed and [host]:port entries", async () => {
    const [hashed, plain] = await Promise.all([start(keys.hostKey), start(keys.hostKey)]);
    const file = knownHostsFile();
    await assert.rejects(
      echo(nodeOf(hashed, { knownHosts: file, hostKeyPolicy: "strict" })),
      (error: unknown) => {
        assert.ok(error instanceof SshHostKeyError);
        assert.equal(error.problem, "unknown");
        assert.match(error.message, /no host key is known for \[127\.0\.0\.1\]:\d+/);
        assert.match(error.message, /ED25519 key SHA256:/);
        return true;
      },
    );
    await assert.rejects(stat(file), { code: "ENOENT" });

    // Hashed by OpenSSH itself (|1|salt|hash).
    await writeFile(file, await knownLine(`[127.0.0.1]:${hashed.port}`, `${keys.hostKey}.pub`));
    await run("ssh-keygen", ["-H", "-f", file]);
    assert.match(await readFile(file, "utf8"), /^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /);
    assert.equal(await echo(nodeOf(hashed, { knownHosts: file, hostKeyPolicy: "strict" })), "in");

    // Plain, with a wildcard in the pattern list and another file first.
    const second = knownHostsFile();
    await writeFile(
      second,
      await knownLine(`other,[127.0.0.?]:${plain.port}`, `${keys.hostKey}.pub`),
    );
    const node = nodeOf(plain, { knownHosts: [knownHostsFile(), second], hostKeyPolicy: "strict" });
    assert.equal(await echo(node), "in");
  });

  it("accepts a new key it cannot record, and says so with a warning", async () => {
    const server = await start(keys.hostKey);
    // Below a file: the folder cannot be made.
    const file = join(`${keys.hostKey}.pub`, "known_hosts");
    const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
    assert.equal(await echo(nodeOf(server, { knownHosts: file })), "in");
    const warning = (await warned) as Error & { code?: string };
    assert.equal(warning.code, "ASYNCJOBS_SSH_KNOWN_HOSTS");
    assert.ok(
      warning.message.includes(
        `could not record the ED25519 host key of [127.0.0.1]:${server.port} in ${file}`,
      ),
    );
  });

  it("refuses to connect when a known_hosts file cannot be read", async () => {
    // A folder where the file should be: not a file we could check against.
    const node = new SshNode("127.0.0.1:1", { keyFile: keys.userKey, knownHosts: keys.dir });
    await assert.rejects(node.connect(), (error: unknown) => {
      assert.ok(error instanceof SshHostKeyError);
      assert.equal(error.problem, "unreadable");
      assert.match(error.message, /cannot read known hosts: EISDIR/);
      return true;
    });
  });

  it("lets a function decide, with the key's type and fingerprint", async () => {
    const server = await start(keys.hostKey);
    const expected = await fingerprint(`${keys.hostKey}.pub`);
    const seen: string[] = [];
    const accepting = nodeOf(server, {
      hostKeyPolicy: async (key, node) => {
        seen.push(`${key.type} ${key.fingerprint} ${node.port}`);
        return key.fingerprint === expected;
      },
    });
    assert.equal(accepting.hostKeyPolicy, "custom");
    assert.deepEqual(accepting.knownHosts, []);
    assert.equal(await echo(accepting), "in");
    assert.deepEqual(seen, [`ssh-ed25519 ${expected} ${server.port}`]);
    const refusing = nodeOf(server, { hostKeyPolicy: () => false });
    await assert.rejects(echo(refusing), (error: unknown) => {
      assert.ok(error instanceof SshHostKeyError);
      assert.equal(error.problem, "refused");
      assert.ok(error.message.includes(expected));
      return true;
    });
    const failing = nodeOf(server, {
      hostKeyPolicy: () => {
        throw new Error("no idea");
      },
    });
    await assert.rejects(echo(failing), /refused by the node's hostKeyPolicy function.*no idea/);
  });

  it("checks its options before anything", () => {
    assert.throws(
      () => new SshNode("h", { hostKeyPolicy: "yes" as never }),
      /option "hostKeyPolicy" must be "accept-new", "strict", "off" or a function/,
    );
    assert.throws(() => new SshNode("h", { knownHosts: [] }), /option "knownHosts" is an empty/);
    assert.throws(() => new SshNode("h", { knownHosts: 3 as never }), /option "knownHosts"/);
    assert.deepEqual(new SshNode("h", { knownHosts: "~/kh" }).knownHosts, [join(homedir(), "kh")]);
    assert.deepEqual(new SshNode("h").knownHosts, [
      join(homedir(), ".ssh", "known_hosts"),
      "/etc/ssh/ssh_known_hosts",
    ]);
    assert.deepEqual(new SshNode("h", { hostKeyPolicy: "off" }).knownHosts, []);
  });

  it("never touched the real ~/.ssh/known_hosts", async () => {
    assert.equal(await realKnownHosts(), realBefore);
  });
});
