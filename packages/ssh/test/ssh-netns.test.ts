/**
 * Remote jobs across hosts of their own: network namespaces linked by veth
 * pairs, each running an sshd, some reachable only through others. Skipped
 * (with the reason) where namespaces cannot be made: not root, no `ip`.
 */
import assert from "node:assert/strict";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  captureFormatter,
  fanOut,
  SshConnectionError,
  SshJob,
  SshNode,
  type SshNodeOptions,
} from "@asyncjobs/ssh";
import { PureScheduler } from "asyncjobs";
import { makeTestKeys, type TestKeys } from "./ssh/keys.js";
import { type LabHost, NetLab, netnsUnavailable } from "./ssh/netns.js";
import { pollUntil } from "./ssh/processes.js";
import { cli, pgrep, runExample, uniqueSeconds } from "./ssh/remote.js";
import { Sshd, sshdUnavailable } from "./ssh/sshd.js";

const reason = sshdUnavailable() ?? (await netnsUnavailable());
if (reason !== undefined) console.log(`# skipping the network namespace tests: ${reason}`);

const PORT = 2222;

describe("SshJob across network namespaces", { skip: reason ?? false, timeout: 60_000 }, () => {
  let keys: TestKeys;
  let lab: NetLab;
  const servers: Sshd[] = [];
  // a and d hang off this machine; b only off a, c only off b.
  let a: LabHost;
  let b: LabHost;
  let c: LabHost;
  let d: LabHost;
  let e: LabHost;
  let f: LabHost;

  before(async () => {
    keys = await makeTestKeys();
    lab = await NetLab.create();
    a = await lab.add();
    b = await lab.add(a);
    c = await lab.add(b);
    d = await lab.add();
    e = await lab.add(a);
    f = await lab.add(a);
    servers.push(
      ...(await Promise.all(
        [a, b, c, d, e, f].map((host) =>
          Sshd.start({ keys, address: host.address, port: PORT, netns: host.netns }),
        ),
      )),
    );
  });

  after(async () => {
    await SshNode.closeAll();
    await Promise.all(servers.map((server) => server.stop()));
    await lab?.destroy();
    await keys?.remove();
  });

  const nodeOf = (host: LabHost, options: SshNodeOptions = {}): SshNode =>
    new SshNode(`${host.address}:${PORT}`, {
      keyFile: keys.userKey,
      knownHosts: keys.knownHosts,
      ...options,
    });

  /** The chain of nodes from this machine to `host`, each the gateway of the next. */
  const chainTo = (host: LabHost): SshNode => {
    const gateway = host.parent === undefined ? undefined : chainTo(host.parent);
    return nodeOf(host, { gateway });
  };

  it("reaches a host only through its gateway", async () => {
    const direct = nodeOf(b, { connectTimeout: 2000 });
    await assert.rejects(new SshJob(direct, "true").standaloneRun(), (error: unknown) => {
      assert.ok(error instanceof SshConnectionError);
      assert.equal(error.failure, "unreachable");
      return true;
    });
    const behind = chainTo(b);
    const job = new SshJob(behind, "echo $SSH_CONNECTION", { formatter: captureFormatter() });
    const [client, , server] = String(await job.standaloneRun()).split(" ");
    assert.equal(client, b.parentAddress); // the gateway's side of the link
    assert.equal(server, b.address);
  });

  it("runs through a two-hop gateway chain, and cancels there too", async () => {
    const target = chainTo(c);
    assert.match(
      target.target,
      new RegExp(`${c.address}:${PORT} via .*${b.address}.* via .*${a.address}`),
    );
    const hello = new SshJob(target, "echo $SSH_CONNECTION", { formatter: captureFormatter() });
    const [client, , server] = String(await hello.standaloneRun()).split(" ");
    assert.deepEqual([client, server], [c.parentAddress, c.address]);

    const seconds = uniqueSeconds();
    const job = new SshJob(target, `sleep ${seconds}`);
    const controller = new AbortController();
    const running = new PureScheduler(job).run({ signal: controller.signal });
    await pollUntil(
      "the remote sleep to start",
      async () => (await pgrep(`sleep ${seconds}`, c.netns)).length > 0,
    );
    controller.abort(new Error("stop"));
    assert.equal(await running, false);
    await pollUntil(
      "the remote sleep to be gone",
      async () => (await pgrep(seconds, c.netns)).length === 0,
    );
  });

  it("times out on a host that is down instead of hanging", async () => {
    const down = new SshNode(`${a.vacantAddress}:${PORT}`, {
      keyFile: keys.userKey,
      knownHosts: keys.knownHosts,
      connectTimeout: 800,
    });
    await assert.rejects(new SshJob(down, "true").standaloneRun(), (error: unknown) => {
      assert.ok(error instanceof SshConnectionError);
      assert.equal(error.failure, "timeout");
      assert.match(error.message, new RegExp(`${a.vacantAddress.replaceAll(".", "\\.")}:${PORT}`));
      return true;
    });
  });

  it("re-opens the whole chain after the first gateway drops its connections", async () => {
    const target = chainTo(c);
    const first = new SshJob(target, "echo one", { formatter: captureFormatter() });
    assert.equal(await first.standaloneRun(), "one");
    await servers[0]!.dropConnections(); // a's sshd: every tunnel through it goes
    await pollUntil("the chain to notice", () => !target.isConnected);
    const second = new SshJob(target, "echo two", { formatter: captureFormatter() });
    assert.equal(await second.standaloneRun(), "two");
    assert.equal(target.connectionCount, 2);
    assert.equal(target.gateway!.gateway!.connectionCount, 2);
  });

  it("fans out to hosts near and far", async () => {
    const nodes = [chainTo(a), chainTo(b), chainTo(c), chainTo(d)];
    const report = await fanOut(nodes, "hostname -I", { window: 2, formatter: captureFormatter() });
    assert.equal(report.ok, true, report.table());
    assert.deepEqual(
      report.rows.map((row) => String(row.result).trim().split(" ")),
      [a, b, c, d].map((host) => expectedAddresses(host)),
    );
  });

  it("runs the three-hosts example through its gateway", async () => {
    const { stdout } = await runExample("ssh-three-hosts", {
      GATEWAY: `${a.address}:${PORT}`,
      HOSTS: [b, e, f].map((host) => `${host.address}:${PORT}`).join(","),
      SSH_KEY: keys.userKey,
      // The example's nodes use ~/.ssh/known_hosts: a home of its own keeps the real one untouched.
      HOME: keys.dir,
    });
    const table = stdout.trimEnd().split("\n");
    assert.deepEqual(
      table.slice(1, 4).map((line) => line.split(/\s+/).slice(0, 3).join(" ")),
      ["node1 ok 0", "node2 ok 0", "node3 ok 0"],
    );
    assert.equal(table[4], "3/3 node(s) ok");
  });

  it("runs the example workflow on three hosts through a gateway", async () => {
    const dir = await mkdtemp(join(tmpdir(), "asyncjobs-ssh-workflow-"));
    try {
      await copyFile("examples/ssh-workflow.yaml", join(dir, "ssh-workflow.yaml"));
      const entry = (host: LabHost): string => `{ host: ${host.address}, port: ${PORT}, via: gw }`;
      await writeFile(
        join(dir, "ssh-hosts.yaml"),
        [
          `defaults: { key: ${keys.userKey}, knownHosts: ${keys.knownHosts} }`,
          "hosts:",
          `  gw: ${a.address}:${PORT}`,
          `  node1: ${entry(b)}`,
          `  node2: ${entry(e)}`,
          `  node3: ${entry(f)}`,
          "",
        ].join("\n"),
      );
      const { code, stdout, stderr } = await cli("run", "--plain", join(dir, "ssh-workflow.yaml"));
      assert.equal(code, 0, `${stdout}\n${stderr}`);
      for (const node of ["node1", "node2", "node3"]) {
        assert.match(stdout, new RegExp(`^\\[${node}\\] .*load average`, "m"));
      }
      assert.match(stdout, /asyncjobs: success, 7 jobs done/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  /** What `hostname -I` prints in a namespace: its own address, then those of its children's links. */
  function expectedAddresses(host: LabHost): string[] {
    const children = [a, b, c, d, e, f].filter((other) => other.parent === host);
    return [host.address, ...children.map((child) => child.parentAddress)];
  }
});
