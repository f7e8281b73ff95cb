/**
 * Pull against an SFTP server that lies on purpose (ssh2's Server,
 * in-process on 127.0.0.1): names that climb out of the destination,
 * setuid bits, a folder that contains itself, and links left in the
 * destination. Nothing may be written outside the destination.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { Pull, SshJob, SshNode, SshTransferError } from "@asyncjobs/ssh";
import ssh2 from "ssh2";
import { makeTestKeys, type TestKeys } from "./ssh/keys.js";

const { STATUS_CODE } = ssh2.utils.sftp;

/** What the server claims is at a path. */
type Fake =
  | { kind: "dir"; mode: number; entries: readonly string[] }
  | { kind: "file"; mode: number; content: string };

describe("Pull from a lying server", { timeout: 60_000 }, () => {
  let keys: TestKeys;
  let server: ssh2.Server;
  let port: number;
  let root: string;
  /** The server's answers, set by each test: what a (normalised) path is. */
  let lookup: (path: string) => Fake | undefined;
  /** The server's canonical path of a path. */
  let realpathOf: (path: string) => string;

  before(async () => {
    keys = await makeTestKeys();
    server = new ssh2.Server({ hostKeys: [await readFile(keys.hostKey)] }, (client) => {
      client.on("authentication", (context) => context.accept());
      client.on("error", () => undefined);
      client.on("session", (acceptSession) => {
        acceptSession().on("sftp", (acceptSftp) => serve(acceptSftp()));
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

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "asyncjobs-pull-"));
    realpathOf = (path) => `/home/${posix.normalize(path)}`;
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function serve(sftp: ssh2.SFTPWrapper): void {
    const handles = new Map<string, { path: string; listed: boolean }>();
    let next = 0;
    const attrsOf = (fake: Fake) => ({
      mode: (fake.kind === "dir" ? 0o040000 : 0o100000) | fake.mode,
      uid: 0,
      gid: 0,
      size: fake.kind === "file" ? Buffer.byteLength(fake.content) : 4096,
      atime: 1_700_000_000,
      mtime: 1_700_000_000,
    });
    const found = (reqid: number, path: string): Fake | undefined => {
      const fake = lookup(posix.normalize(path));
      if (fake === undefined) sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
      return fake;
    };
    const open = (reqid: number, path: string): void => {
      const handle = String(next++);
      handles.set(handle, { path, listed: false });
      sftp.handle(reqid, Buffer.from(handle));
    };
    sftp.on("REALPATH", (reqid, path) => {
      sftp.name(reqid, [
        { filename: realpathOf(path), longname: "", attrs: {} as ssh2.Attributes },
      ]);
    });
    for (const request of ["STAT", "LSTAT"] as const) {
      sftp.on(request, (reqid: number, path: string) => {
        const fake = found(reqid, path);
        if (fake !== undefined) sftp.attrs(reqid, attrsOf(fake));
      });
    }
    sftp.on("OPENDIR", (reqid, path) => {
      if (found(reqid, path)?.kind === "dir") open(reqid, path);
    });
    sftp.on("READDIR", (reqid, handle) => {
      const state = handles.get(handle.toString())!;
      const fake = lookup(posix.normalize(state.path));
      if (state.listed || fake?.kind !== "dir") {
        sftp.status(reqid, STATUS_CODE.EOF);
        return;
      }
      state.listed = true;
      sftp.name(
        reqid,
        fake.entries.map((filename) => ({
          filename,
          longname: filename,
          attrs: attrsOf({ kind: "file", mode: 0o644, content: "" }),
        })),
      );
    });
    sftp.on("OPEN", (reqid, path) => {
      if (found(reqid, path)?.kind === "file") open(reqid, path);
    });
    sftp.on("FSTAT", (reqid, handle) => {
      const fake = lookup(posix.normalize(handles.get(handle.toString())!.path));
      sftp.attrs(reqid, attrsOf(fake!));
    });
    sftp.on("READ", (reqid, handle, offset, length) => {
      const fake = lookup(posix.normalize(handles.get(handle.toString())!.path));
      const content = Buffer.from(fake?.kind === "file" ? fake.content : "");
      if (offset >= content.length) sftp.status(reqid, STATUS_CODE.EOF);
      else sftp.data(reqid, content.subarray(offset, offset + length));
    });
    sftp.on("CLOSE", (reqid, handle) => {
      handles.delete(handle.toString());
      sftp.status(reqid, STATUS_CODE.OK);
    });
  }

  const node = (): SshNode =>
    new SshNode(`127.0.0.1:${port}`, { keyFile: keys.userKey, knownHosts: keys.knownHosts });
  const pull = (source: string, destination: string): Promise<unknown> =>
    new SshJob(node(), new Pull(source, destination)).standaloneRun();
  /** Every path below `dir`, relative, sorted. */
  const tree = async (dir: string): Promise<string[]> =>
    ((await readdir(dir, { recursive: true })) as string[]).sort();

  it("refuses names that are not plain names, writing nothing outside", async () => {
    const destination = join(root, "a", "b", "dest");
    await mkdir(destination, { recursive: true });
    for (const bad of ["../../escaped", "sub/escaped", "/tmp/escaped", "x\\escaped", "nul\0x"]) {
      lookup = (path) =>
        path === "tree"
          ? { kind: "dir", mode: 0o755, entries: ["fine", bad] }
          : { kind: "file", mode: 0o644, content: "pwned\n" };
      await assert.rejects(pull("tree", destination), (error: unknown) => {
        assert.ok(error instanceof SshTransferError, String(error));
        assert.ok(error.message.includes(`refusing the entry ${JSON.stringify(bad)}`));
        return true;
      });
    }
    // Only what the listing put before the bad name, inside the destination.
    assert.deepEqual(await tree(root), [
      "a",
      "a/b",
      "a/b/dest",
      "a/b/dest/tree",
      "a/b/dest/tree/fine",
    ]);
  });

  it("skips the . and .. entries of a listing", async () => {
    lookup = (path) =>
      path === "tree"
        ? { kind: "dir", mode: 0o755, entries: [".", "..", "ok"] }
        : { kind: "file", mode: 0o644, content: "fine\n" };
    const destination = join(root, "dest");
    await pull("tree", destination);
    assert.deepEqual(await tree(root), ["dest", "dest/ok"]);
  });

  it("drops setuid, setgid and sticky bits, and applies the umask", async () => {
    lookup = (path) =>
      path === "tree"
        ? { kind: "dir", mode: 0o3777, entries: ["tool"] }
        : { kind: "file", mode: 0o6777, content: "#!/bin/sh\n" };
    const previous = process.umask(0o027);
    try {
      await pull("tree", join(root, "dest"));
    } finally {
      process.umask(previous);
    }
    assert.equal((await stat(join(root, "dest"))).mode & 0o7777, 0o750);
    assert.equal((await stat(join(root, "dest", "tool"))).mode & 0o7777, 0o750);
  });

  it("stops a symbolic link loop at the first repeat", async () => {
    // tree/loop is tree again, as a link to "." would make it.
    lookup = (path) =>
      path.split("/").every((part, index) => (index === 0 ? part === "tree" : part === "loop"))
        ? { kind: "dir", mode: 0o755, entries: ["file", "loop"] }
        : { kind: "file", mode: 0o644, content: "x\n" };
    realpathOf = (path) => `/home/${posix.normalize(path).replace(/(\/loop)+$/, "")}`;
    await assert.rejects(pull("tree", join(root, "dest")), (error: unknown) => {
      assert.ok(error instanceof SshTransferError);
      assert.match(error.message, /symbolic link loop: tree\/loop is tree again/);
      return true;
    });
    assert.deepEqual(await tree(root), ["dest", "dest/file"]);
  });

  it("never writes through a symbolic link found in the destination", async () => {
    const outside = join(root, "outside");
    await mkdir(outside);
    await writeFile(join(outside, "victim"), "precious\n");
    lookup = (path) =>
      path === "tree"
        ? { kind: "dir", mode: 0o755, entries: ["link"] }
        : path === "tree/link"
          ? { kind: "dir", mode: 0o755, entries: ["victim"] }
          : { kind: "file", mode: 0o644, content: "pwned\n" };
    // A link left below the destination, where the server's folder goes.
    const destination = join(root, "dest");
    await mkdir(join(destination, "tree"), { recursive: true });
    await symlink(outside, join(destination, "tree", "link"));
    await assert.rejects(
      pull("tree", `${destination}/`),
      /refusing to write through the symbolic link/,
    );
    // And a link where a file goes.
    await rm(join(destination, "tree", "link"));
    await symlink(join(outside, "victim"), join(destination, "tree", "link"));
    lookup = (path) =>
      path === "tree"
        ? { kind: "dir", mode: 0o755, entries: ["link"] }
        : { kind: "file", mode: 0o644, content: "pwned\n" };
    await assert.rejects(
      pull("tree", `${destination}/`),
      /refusing to write through the symbolic link/,
    );
    assert.equal(await readFile(join(outside, "victim"), "utf8"), "precious\n");
  });
});
