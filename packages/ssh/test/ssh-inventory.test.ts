/**
 * Hosts inventories: names to nodes, defaults, gateway routes, and one
 * shared node per host and route. No server is needed: nodes connect only
 * when a job runs on them.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SshInventory } from "@asyncjobs/ssh";

describe("SshInventory", () => {
  const inventory = new SshInventory({
    defaults: { user: "root" },
    hosts: {
      gw: "alice@gateway.example.org:2222",
      inner: { host: "10.0.0.9", via: "gw" },
      node1: { host: "10.0.0.1", via: "gw" },
      node2: { host: "10.0.0.2", port: 2200, via: ["gw", "inner"] },
      self: { via: "self" },
    },
  });

  it("resolves names and targets, with the defaults", () => {
    const gw = inventory.node("gw");
    assert.deepEqual(
      [gw.username, gw.host, gw.port, gw.label],
      ["alice", "gateway.example.org", 2222, "gw"],
    );
    const raw = inventory.node("bob@198.51.100.7");
    assert.deepEqual(
      [raw.username, raw.host, raw.port, raw.gateway],
      ["bob", "198.51.100.7", 22, undefined],
    );
    assert.equal(inventory.node("198.51.100.8").username, "root");
  });

  it("gives the same node for the same host and route, so jobs share one connection", () => {
    assert.equal(inventory.node("node1"), inventory.node("node1"));
    assert.equal(inventory.node("node1").gateway, inventory.node("gw"));
    assert.notEqual(inventory.node("node1", []), inventory.node("node1"));
    assert.equal(inventory.node("node1", []).gateway, undefined);
  });

  it("follows via: lists nearest first, and a job's via: over the host's", () => {
    const node2 = inventory.node("node2");
    assert.equal(
      node2.target,
      "root@10.0.0.2:2200 via root@10.0.0.9:22 via alice@gateway.example.org:2222",
    );
    assert.equal(node2.gateway?.gateway, inventory.node("gw"));
    const direct = inventory.node("node2", "198.51.100.1");
    assert.equal(direct.target, "root@10.0.0.2:2200 via root@198.51.100.1:22");
  });

  it("refuses gateway loops, unknown keys and bad targets", () => {
    assert.throws(() => inventory.node("self"), /gateway loop: self -> self/);
    assert.throws(
      () => new SshInventory({ hosts: { a: { hots: "x" } as never } }),
      /unknown key "hots"/,
    );
    assert.throws(() => inventory.node("not a target"), /not an SSH target/);
  });

  it("reads YAML files, with key paths relative to the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "asyncjobs-inventory-"));
    try {
      const file = join(dir, "hosts.yaml");
      await writeFile(
        file,
        "defaults:\n  key: keys/id\nhosts:\n  web: { host: 192.0.2.80, user: www }\n",
      );
      const read = SshInventory.readFile(file);
      assert.deepEqual(read.names, ["web"]);
      assert.equal(read.node("web").target, "www@192.0.2.80:22");
      await writeFile(file, "hosts: [1, 2]\n");
      assert.throws(() => SshInventory.readFile(file), /hosts: expected a mapping/);
      assert.throws(
        () => SshInventory.readFile(join(dir, "missing.yaml")),
        /cannot read the hosts inventory/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
