/**
 * The command line runs workflow jobs on remote hosts: on: and via: per job
 * or group, hosts named in an inventory file, against real sshd servers on
 * loopback.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTestKeys, type TestKeys } from "../../ssh/test/ssh/keys.js";
import { cli } from "../../ssh/test/ssh/remote.js";
import { Sshd, sshdUnavailable } from "../../ssh/test/ssh/sshd.js";

const missing = sshdUnavailable();
const skip = missing !== undefined && process.env.CI === undefined ? missing : false;

describe("asyncjobs run with on: and via:", { skip, timeout: 60_000 }, () => {
  let keys: TestKeys;
  let gateway: Sshd;
  let web: Sshd;
  let dir: string;

  before(async () => {
    keys = await makeTestKeys();
    dir = await mkdtemp(join(tmpdir(), "asyncjobs-ssh-cli-"));
    [gateway, web] = await Promise.all([Sshd.start({ keys }), Sshd.start({ keys })]);
    await writeFile(
      join(dir, "hosts.yaml"),
      [
        "defaults:",
        `  key: ${keys.userKey}`,
        `  knownHosts: ${keys.knownHosts}`,
        "hosts:",
        `  gw: 127.0.0.1:${gateway.port}`,
        `  web: { host: 127.0.0.1, port: ${web.port}, via: gw }`,
        "",
      ].join("\n"),
    );
  });

  after(async () => {
    await Promise.all([gateway?.stop(), web?.stop()]);
    await keys?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs jobs on inventory hosts, through their gateway, beside local ones", async () => {
    const workflow = join(dir, "remote.yaml");
    await writeFile(
      workflow,
      [
        "hosts: hosts.yaml",
        "jobs:",
        "  - id: web",
        "    on: web",
        `    env: { GREETING: hello, TRICKY: "it's $(echo no) \\"q\\" \`x\`" }`,
        "    run: echo $GREETING from web | tr a-z A-Z; printf '%s\\n' \"$TRICKY\"",
        "  - id: group",
        "    requires: web",
        `    on: 127.0.0.1:${gateway.port}`,
        "    jobs:",
        "      - id: remote-argv",
        "        run: [printf, '%s|', a b, c]",
        "      - id: here",
        "        on: local",
        "        run: echo local",
        "",
      ].join("\n"),
    );
    const { code, stdout, stderr } = await cli("run", "--plain", workflow);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /^\[web\] HELLO FROM WEB$/m);
    // Values reach the remote shell as they are, never read as code.
    assert.ok(stdout.includes('[web] it\'s $(echo no) "q" `x`\n'), stdout);
    assert.match(stdout, /^\[127\.0\.0\.1:\d+\] a b\|c\|$/m);
    assert.match(stdout, /asyncjobs: success, 3 jobs done/);
  });

  it("checks host keys as the inventory says: strict refuses a host known_hosts lacks", async () => {
    await writeFile(
      join(dir, "strict.yaml"),
      [
        "defaults:",
        `  key: ${keys.userKey}`,
        "  hostKeyPolicy: strict",
        "  knownHosts: empty_known_hosts",
        "hosts:",
        `  web: 127.0.0.1:${web.port}`,
        "",
      ].join("\n"),
    );
    const workflow = join(dir, "strict-workflow.yaml");
    await writeFile(
      workflow,
      "hosts: strict.yaml\njobs:\n  - id: web\n    on: web\n    run: echo in\n",
    );
    const refused = await cli("run", "--plain", workflow);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stdout,
      new RegExp(
        `no host key is known for \\[127\\.0\\.0\\.1\\]:${web.port} and hostKeyPolicy is "strict"`,
      ),
    );
    assert.doesNotMatch(refused.stdout, /^\[web\] in$/m);
  });

  it("reports an unknown host, and a command failing there, naming the host", async () => {
    const unknown = join(dir, "unknown.yaml");
    await writeFile(unknown, "hosts: hosts.yaml\njobs:\n  - on: nowhere here\n    run: echo hi\n");
    const refused = await cli("check", unknown);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /not an SSH target: "nowhere here"/);

    const failing = join(dir, "failing.yaml");
    await writeFile(
      failing,
      "hosts: hosts.yaml\njobs:\n  - id: bad\n    on: web\n    run: echo oops >&2; exit 4\n",
    );
    const failed = await cli("run", "--plain", failing);
    assert.equal(failed.code, 1);
    assert.match(
      failed.stdout,
      new RegExp(`root@127\\.0\\.0\\.1:${web.port} via .*exited with code 4`),
    );
  });
});
