/**
 * Options of remote jobs that would let a workflow's values escape into the
 * remote shell, or timers fire at once: refused where they are given, before
 * anything connects. No server is needed.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SshInventory, SshJob, SshNode } from "@asyncjobs/ssh";
import { cli } from "./ssh/remote.js";

/** Past what a Node timer can wait (2^31 - 1 ms): such a timer fires after 1 ms. */
const TOO_LONG = 2 ** 31;

describe("remote job options", () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "asyncjobs-ssh-options-"));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("refuses durations a timer cannot wait, naming the option", () => {
    for (const name of ["connectTimeout", "keepalive"] as const) {
      assert.throws(
        () => new SshNode("h", { [name]: TOO_LONG }),
        (error: unknown) => {
          assert.ok(error instanceof RangeError);
          assert.match(
            error.message,
            new RegExp(`SshNode\\(\\): option "${name}" must be at most 2147483647 ms`),
          );
          return true;
        },
      );
      assert.doesNotThrow(() => new SshNode("h", { [name]: TOO_LONG - 1 }));
    }
    const node = new SshNode("h");
    for (const name of ["timeout", "killGrace"] as const) {
      assert.throws(
        () => new SshJob(node, "true", { [name]: TOO_LONG }),
        new RegExp(`SshJob\\(\\): option "${name}" must be at most`),
      );
    }
    const inventory = new SshInventory({
      hosts: { slow: { host: "h", connectTimeout: TOO_LONG } },
    });
    assert.throws(() => inventory.node("slow"), /option "connectTimeout" must be at most/);
  });

  it("takes the host-key policy and known_hosts files from an inventory", async () => {
    const file = join(dir, "hosts.yaml");
    await writeFile(
      file,
      "defaults: { knownHosts: keys/known_hosts }\nhosts:\n  a: { host: h, hostKeyPolicy: strict }\n  b: { host: h }\n",
    );
    const inventory = SshInventory.readFile(file);
    assert.equal(inventory.node("a").hostKeyPolicy, "strict");
    assert.deepEqual(inventory.node("a").knownHosts, [join(dir, "keys", "known_hosts")]);
    assert.equal(inventory.node("b").hostKeyPolicy, "accept-new");
    assert.notEqual(inventory.node("a"), inventory.node("b"));
    assert.throws(
      () => new SshInventory({ hosts: { c: { host: "h", hostKeyPolicy: "no" as never } } }),
      /host "c": hostKeyPolicy must be one of accept-new, strict, off, got a string \("no"\)/,
    );
  });

  it("refuses remote env names that are not shell variable names", async () => {
    for (const name of ["A;touch /tmp/asyncjobs-pwned", "1A", "A-B", "A B", ""]) {
      const workflow = join(dir, "env.yaml");
      await writeFile(
        workflow,
        `jobs:\n  - id: remote\n    on: 192.0.2.1\n    env: { ${JSON.stringify(name)}: x, OK_NAME: y }\n    run: echo hi\n`,
      );
      const { code, stderr } = await cli("check", workflow);
      assert.notEqual(code, 0);
      assert.ok(
        stderr.includes(`job remote: env: ${JSON.stringify(name)} is not a variable name`),
        stderr,
      );
    }
  });
});
