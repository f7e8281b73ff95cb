/**
 * Test keys: a temporary folder holding host keys, a user key the test
 * servers accept, and a second user key they do not.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The keys of one test run, in a folder removed by {@link TestKeys.remove}. */
export interface TestKeys {
  /** The temporary folder everything lives in. */
  dir: string;
  /** The servers' host key (private part). */
  hostKey: string;
  /** A user key listed in {@link TestKeys.authorizedKeys}. */
  userKey: string;
  /** A valid user key that no server accepts. */
  wrongKey: string;
  /** The authorized_keys file listing the user key's public part. */
  authorizedKeys: string;
  /**
   * A known_hosts file of the folder (not created): the tests' nodes use it
   * so that they never touch the real ~/.ssh/known_hosts.
   */
  knownHosts: string;
  /** Removes the folder. */
  remove(): Promise<void>;
}

async function keygen(path: string, comment: string): Promise<void> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
}

/** Generates fresh keys into a new temporary folder. */
export async function makeTestKeys(prefix = "asyncjobs-ssh-"): Promise<TestKeys> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const hostKey = join(dir, "host_ed25519");
  const userKey = join(dir, "user_ed25519");
  const wrongKey = join(dir, "wrong_ed25519");
  await Promise.all([
    keygen(hostKey, "test host"),
    keygen(userKey, "test user"),
    keygen(wrongKey, "unknown user"),
  ]);
  const authorizedKeys = join(dir, "authorized_keys");
  await writeFile(authorizedKeys, await readFile(`${userKey}.pub`), { mode: 0o600 });
  return {
    dir,
    hostKey,
    userKey,
    wrongKey,
    authorizedKeys,
    knownHosts: join(dir, "known_hosts"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
