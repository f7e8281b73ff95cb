/**
 * Remote jobs against an in-process SSH server (ssh2's), which answers in
 * ways a real sshd does only now and then: a command's output, exit status
 * and close in the same burst as the channel's confirmation.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { captureFormatter, fanOut, Run, SshNode } from "@asyncjobs/ssh";
import ssh2 from "ssh2";
import { makeTestKeys, type TestKeys } from "./ssh/keys.js";

describe("SshJob against an instant server", () => {
  let keys: TestKeys;
  let server: ssh2.Server;
  let port: number;

  before(async () => {
    keys = await makeTestKeys();
    server = new ssh2.Server({ hostKeys: [await readFile(keys.hostKey)] }, (client) => {
      client.on("authentication", (context) => context.accept());
      client.on("error", () => undefined);
      client.on("session", (acceptSession) => {
        acceptSession().on("exec", (acceptExec) => {
          // Everything at once, right behind the confirmation of the exec request.
          const stream = acceptExec();
          stream.write("instant\n");
          stream.exit(7);
          stream.end();
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await SshNode.closeAll();
    await new Promise((resolve) => server.close(resolve));
    await keys.remove();
  });

  it("keeps the output and exit status of commands that end at once", async () => {
    const node = new SshNode(`127.0.0.1:${port}`, {
      keyFile: keys.userKey,
      knownHosts: keys.knownHosts,
    });
    const report = await fanOut(Array(60).fill(node), new Run("anything", { allowedExits: [7] }), {
      window: 20,
      formatter: captureFormatter({ stderr: "discard" }),
    });
    assert.deepEqual(
      new Set(report.rows.map((row) => `${row.status} ${row.exitCode} ${row.result ?? ""}`)),
      new Set(["ok 7 instant"]),
    );
    assert.equal(node.activeChannels, 0);
  });
});
