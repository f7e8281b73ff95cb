/**
 * Remote jobs against real OpenSSH servers on loopback: authentication,
 * failures, session limits, cancellation, transfers, reconnection,
 * formatters, fan-out and gateways.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { homedir, tmpdir, userInfo } from "node:os";
import { basename, join, relative } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import {
  captureFormatter,
  fanOut,
  fileFormatter,
  Pull,
  Push,
  prefixedFormatter,
  Run,
  RunScript,
  RunString,
  SshCommandError,
  SshConnectionError,
  SshJob,
  SshNode,
  type SshNodeOptions,
  SshTimeoutError,
} from "@asyncjobs/ssh";
import { PureScheduler, TimeoutError } from "asyncjobs";
import { makeTestKeys, type TestKeys } from "./ssh/keys.js";
import { pollUntil } from "./ssh/processes.js";
import { pgrep, runExample, silentServer, uniqueSeconds } from "./ssh/remote.js";
import { Sshd, sshdUnavailable } from "./ssh/sshd.js";

const missing = sshdUnavailable();
// In CI the server is installed by .ci/run: a missing one is a failure there.
const skip = missing !== undefined && process.env.CI === undefined ? missing : false;

describe("SshJob on loopback servers", { skip, timeout: 60_000 }, () => {
  let keys: TestKeys;
  let server: Sshd;
  let limited: Sshd;
  let scratch: string;

  before(async () => {
    keys = await makeTestKeys();
    scratch = await mkdtemp(join(tmpdir(), "asyncjobs-ssh-files-"));
    [server, limited] = await Promise.all([
      Sshd.start({ keys }),
      Sshd.start({ keys, maxSessions: 2 }),
    ]);
  });

  after(async () => {
    await SshNode.closeAll();
    await Promise.all([server?.stop(), limited?.stop()]);
    await keys?.remove();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const nodeOf = (sshd: Sshd, options: SshNodeOptions = {}): SshNode =>
    new SshNode(`127.0.0.1:${sshd.port}`, {
      keyFile: keys.userKey,
      knownHosts: keys.knownHosts,
      ...options,
    });

  it("logs in with a key and streams output line by line, prefixed with the host", async () => {
    const node = nodeOf(server);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    stdout.on("data", (chunk: Buffer) => out.push(chunk.toString()));
    stderr.on("data", (chunk: Buffer) => err.push(chunk.toString()));
    const job = new SshJob(node, ["echo one; echo two", "echo oops >&2; printf 'no newline'"], {
      formatter: prefixedFormatter({ stdout, stderr }),
    });
    assert.equal(await new PureScheduler(job).run(), true);
    assert.equal(job.result(), 0);
    const label = `127.0.0.1:${server.port}`;
    assert.equal(out.join(""), `[${label}] one\n[${label}] two\n[${label}] no newline\n`);
    assert.equal(err.join(""), `[${label}] oops\n`);
    assert.equal(node.connectionCount, 1);
  });

  it("captures standard output as the job's result, arguments quoted as given", async () => {
    const node = nodeOf(server);
    const job = new SshJob(node, new Run(["printf", "%s|", "a b", "it's", "$HOME", ""]), {
      formatter: captureFormatter(),
    });
    assert.equal(await job.standaloneRun(), "a b|it's|$HOME||");
  });

  it("runs command lines with the login shell, as ssh does", async () => {
    const node = nodeOf(server);
    const job = new SshJob(node, "echo $0", { formatter: captureFormatter() });
    assert.equal(await job.standaloneRun(), basename(userInfo().shell ?? "sh"));
    // For an account whose login shell is not a POSIX one, a node can name one.
    const viaSh = nodeOf(server, { shell: "/bin/sh" });
    const other = new SshJob(viaSh, "echo $0", { formatter: captureFormatter() });
    assert.equal(await other.standaloneRun(), "/bin/sh");
  });

  it("fails on a non-zero exit, naming host, command, exit code and stderr", async () => {
    const node = nodeOf(server);
    const marker = join(scratch, "not-reached");
    const job = new SshJob(
      node,
      ["echo first problem >&2; echo last words >&2; exit 3", `touch ${marker}`],
      {
        formatter: captureFormatter({ stderr: "discard" }),
      },
    );
    await assert.rejects(job.standaloneRun(), (error: unknown) => {
      assert.ok(error instanceof SshCommandError);
      assert.equal(error.exitCode, 3);
      assert.deepEqual(error.stderr, ["first problem", "last words"]);
      assert.match(error.message, new RegExp(`root@127\\.0\\.0\\.1:${server.port}`));
      assert.match(error.message, /exit 3/);
      assert.match(error.message, /exited with code 3/);
      assert.match(error.message, /last words/);
      return true;
    });
    await assert.rejects(stat(marker), { code: "ENOENT" });
    const allowed = new SshJob(node, new Run("exit 3", { allowedExits: [3] }));
    assert.equal(await allowed.standaloneRun(), 3);
  });

  it("reports a wrong key as an authentication failure naming the host", async () => {
    const node = nodeOf(server, { keyFile: keys.wrongKey });
    await assert.rejects(new SshJob(node, "true").standaloneRun(), (error: unknown) => {
      assert.ok(error instanceof SshConnectionError);
      assert.equal(error.failure, "auth");
      assert.match(
        error.message,
        new RegExp(`127\\.0\\.0\\.1:${server.port}: authentication failed`),
      );
      assert.match(error.message, /wrong_ed25519/);
      return true;
    });
  });

  it("fails fast on a refused port and within the timeout on a host that never answers", async () => {
    const hanging = await silentServer();
    try {
      const refused = new SshNode("127.0.0.1:1", {
        keyFile: keys.userKey,
        knownHosts: keys.knownHosts,
      });
      await assert.rejects(new SshJob(refused, "true").standaloneRun(), (error: unknown) => {
        assert.ok(error instanceof SshConnectionError);
        assert.equal(error.failure, "refused");
        assert.match(error.message, /127\.0\.0\.1:1: connection refused/);
        return true;
      });
      const silent = new SshNode(`127.0.0.1:${hanging.port}`, {
        keyFile: keys.userKey,
        knownHosts: keys.knownHosts,
        connectTimeout: 300,
      });
      await assert.rejects(new SshJob(silent, "true").standaloneRun(), (error: unknown) => {
        assert.ok(error instanceof SshConnectionError);
        assert.equal(error.failure, "timeout");
        assert.match(
          error.message,
          new RegExp(`127\\.0\\.0\\.1:${hanging.port}: could not connect`),
        );
        return true;
      });
      assert.equal(silent.isConnected, false);
    } finally {
      await hanging.close();
    }
  });

  it("queues more concurrent commands than the server's MaxSessions instead of failing", async () => {
    const node = nodeOf(limited); // maxSessions 10 on our side, 2 on the server
    const jobs = Array.from(
      { length: 8 },
      (_, index) =>
        new SshJob(node, `sleep 0.2; echo job ${index}`, { formatter: captureFormatter() }),
    );
    assert.equal(await new PureScheduler(...jobs).run(), true);
    assert.deepEqual(
      jobs.map((job) => job.result()),
      jobs.map((_, index) => `job ${index}`),
    );
    assert.equal(node.channelLimit, 2);
    assert.equal(node.connectionCount, 1);
    assert.equal(node.activeChannels, 0);
  });

  it("terminates the remote command when the job is cancelled", async () => {
    const node = nodeOf(server);
    const seconds = uniqueSeconds();
    const job = new SshJob(node, `echo started; sleep ${seconds}; echo never`, {
      formatter: captureFormatter(),
    });
    const scheduler = new PureScheduler(job);
    const controller = new AbortController();
    const running = scheduler.run({ signal: controller.signal });
    await pollUntil(
      "the remote sleep to start",
      async () => (await pgrep(`sleep ${seconds}`)).length > 0,
    );
    controller.abort(new Error("stop"));
    assert.equal(await running, false);
    assert.equal(job.isCancelled(), true);
    await pollUntil("the remote sleep to be gone", async () => (await pgrep(seconds)).length === 0);
    await job.shutdown();
    assert.equal(node.activeChannels, 0);
  });

  it("terminates the remote command when the job's timeout expires", async () => {
    const node = nodeOf(server);
    await node.connect(); // so that the timeout is spent running the command
    const seconds = uniqueSeconds();
    const started = join(scratch, `started-${seconds}`);
    const job = new SshJob(node, `touch ${started}; sleep ${seconds}`, {
      timeout: 3000,
      critical: false,
    });
    await new PureScheduler(job).run();
    // A TimeoutError, as any job's own timeout, that names the node.
    const error = job.raisedException();
    assert.ok(error instanceof TimeoutError, String(error));
    assert.ok(error instanceof SshTimeoutError);
    assert.equal(error.target, node.target);
    assert.match(error.message, /^root@127\.0\.0\.1:\d+: job ".*" timed out after 3000 ms$/);
    await stat(started); // it did start
    await pollUntil("the remote sleep to be gone", async () => (await pgrep(seconds)).length === 0);
  });

  it("pushes then pulls a folder, keeping content, modes and times", async () => {
    const node = nodeOf(server);
    const local = join(scratch, "tree");
    await mkdir(join(local, "sub", "deeper"), { recursive: true });
    await writeFile(join(local, "big.bin"), randomBytes(700_000));
    await writeFile(join(local, "sub", "run.sh"), "#!/bin/sh\necho hi\n");
    await writeFile(join(local, "sub", "deeper", "empty"), "");
    await writeFile(join(local, "secret"), "s3cret");
    await chmod(join(local, "big.bin"), 0o640);
    await chmod(join(local, "sub", "run.sh"), 0o755);
    await chmod(join(local, "secret"), 0o600);
    await chmod(join(local, "sub", "deeper"), 0o750);
    const remote = join(scratch, "remote");
    const back = join(scratch, "back");
    const job = new SshJob(node, [new Push(local, remote), new Pull(remote, back)]);
    assert.equal(await job.standaloneRun(), 0);
    const before = await snapshot(local);
    assert.deepEqual(await snapshot(remote), before);
    assert.deepEqual(await snapshot(back), before);
    assert.equal(before.length, 6);
  });

  it("runs script text and local scripts with arguments, small and large", async () => {
    const node = nodeOf(server);
    const script = join(scratch, "script.sh");
    await writeFile(script, '#!/bin/sh\necho "script $# args: $*"\n');
    await chmod(script, 0o755);
    const padding = `# ${"x".repeat(100)}\n`.repeat(600); // past the inline limit: sent over SFTP
    const job = new SshJob(
      node,
      [
        new RunString('echo "string $1 and $2"', { args: ["one", "two words"] }),
        new RunString(`#!/bin/sh\n${padding}echo "big script $1"\n`, { args: ["ran"] }),
        new RunString("echo $0 >/dev/null; echo interpreted", { interpreter: "sh -e" }),
        new RunScript(script, { args: ["a", "b c"] }),
      ],
      { formatter: captureFormatter() },
    );
    assert.equal(
      await job.standaloneRun(),
      "string one and two words\nbig script ran\ninterpreted\nscript 2 args: a b c",
    );
    const staged = await readdir(join(homedir(), ".asyncjobs")).catch(() => []);
    assert.deepEqual(
      staged.filter((name) => name.endsWith("-script")),
      [],
    );
  });

  it("re-opens a dropped connection for the next job", async () => {
    const node = nodeOf(server);
    const first = new SshJob(node, "echo before", { formatter: captureFormatter() });
    assert.equal(await first.standaloneRun(), "before");
    assert.equal(node.connectionCount, 1);
    await server.dropConnections();
    const second = new SshJob(node, "echo after", { formatter: captureFormatter() });
    assert.equal(await second.standaloneRun(), "after");
    assert.equal(node.connectionCount, 2);
  });

  it("writes one file per host with the file formatter", async () => {
    const dir = join(scratch, "logs");
    const node = nodeOf(server, { label: "web1" });
    const formatter = fileFormatter(dir);
    await new SshJob(node, "echo out; echo err >&2", { formatter }).standaloneRun();
    await new SshJob(node, "echo again", { formatter }).standaloneRun();
    assert.equal(await readFile(join(dir, "web1.out"), "utf8"), "out\nstderr: err\nagain\n");
  });

  it("fans out to several nodes under a window, with a per-host table", async () => {
    const nodes = [
      nodeOf(server, { label: "alpha" }),
      nodeOf(limited, { label: "beta" }),
      new SshNode("127.0.0.1:1", {
        keyFile: keys.userKey,
        knownHosts: keys.knownHosts,
        label: "gamma",
      }),
    ];
    const report = await fanOut(nodes, "echo hello from $0 >/dev/null; echo hi", {
      window: 2,
      formatter: captureFormatter(),
    });
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.rows.map((row) => [row.node.label, row.status, row.result]),
      [
        ["alpha", "ok", "hi"],
        ["beta", "ok", "hi"],
        ["gamma", "unreachable", undefined],
      ],
    );
    const table = report.table().split("\n");
    assert.match(table[0]!, /^node\s+status\s+exit\s+time\s+output \/ error$/);
    assert.match(table[1]!, /^alpha\s+ok\s+0\s+\d+\.\d\ds\s+hi$/);
    assert.match(table[3]!, /^gamma\s+unreachable\s+-\s+.*connection refused$/);
    assert.equal(table[4], "2/3 node(s) ok");
  });

  it("goes through a chain of two gateways", async () => {
    const first = nodeOf(server);
    const second = nodeOf(limited, { gateway: first });
    const target = nodeOf(server, { gateway: second, label: "behind" });
    const job = new SshJob(target, "echo through", { formatter: captureFormatter() });
    assert.equal(await job.standaloneRun(), "through");
    assert.match(target.target, / via root@127\.0\.0\.1:\d+ via root@127\.0\.0\.1:\d+$/);
    assert.deepEqual(
      [first.connectionCount, second.connectionCount, target.connectionCount],
      [1, 1, 1],
    );
    await SshNode.closeAll();
    assert.deepEqual(
      [first.isConnected, second.isConnected, target.isConnected],
      [false, false, false],
    );
  });

  it("runs the README example against a local sshd", async () => {
    const { stdout } = await runExample("ssh-local", {
      SSH_TARGET: `127.0.0.1:${server.port}`,
      SSH_KEY: keys.userKey,
      // The example's node uses ~/.ssh/known_hosts: a home of its own keeps the real one untouched.
      HOME: keys.dir,
    });
    assert.match(stdout, /^\[127\.0\.0\.1:\d+\] hello from /m);
    assert.match(stdout, /ssh-local\.ts has \d+ lines$/m);
    assert.match(stdout, /^ok: true; kernel: Linux /m);
  });
});

/** Every file and folder below `root`: relative path, mode, mtime (s) and content hash. */
async function snapshot(root: string): Promise<string[]> {
  const rows: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const info = await stat(path);
      const mode = (info.mode & 0o7777).toString(8);
      const time = Math.floor(info.mtimeMs / 1000);
      if (info.isDirectory()) {
        rows.push(`${relative(root, path)}/ ${mode} ${time}`);
        await walk(path);
      } else {
        const hash = createHash("sha256")
          .update(await readFile(path))
          .digest("hex");
        rows.push(`${relative(root, path)} ${mode} ${time} ${hash}`);
      }
    }
  };
  await walk(root);
  return rows;
}
