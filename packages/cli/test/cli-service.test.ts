/**
 * Workflow files with the options beyond the original, through the command
 * line with its plain output: a service started for the jobs that use it
 * (examples/service-workflow.yaml), retries, a pool, a trigger rule that
 * skips or runs a job, and every mistake in the new keys reported with its
 * line and column.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { CLI } from "./cli-program.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const EXAMPLE = "examples/service-workflow.yaml";
let dir = "";

/** Runs `asyncjobs ARGS`, output to pipes; resolves once it exits. */
function asyncjobs(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ASYNCJOBS_ASCII: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, out, err })));
}

/** The plain lines without their time stamps. */
function events(out: string): string[] {
  return out
    .split("\n")
    .filter((line) => /^\d{3}\.\d{3} /.test(line))
    .map((line) => line.slice(8));
}

/** Polls, with a generous deadline, until process `pid` is gone (a zombie counts as gone). */
async function gone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return true;
    }
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return true;
    if (Date.now() > deadline) return false;
    await delay(20);
  }
}

/** Port files the example's server leaves while it runs. */
function portFiles(): string[] {
  return readdirSync(tmpdir()).filter((name) => /^asyncjobs-service-\d+\.port$/.test(name));
}

/** The server's pid, from the line it prints when it listens (shown with --verbose). */
function serverPid(out: string): number {
  const match = /\[http server\] listening on http:\/\/127\.0\.0\.1:\d+ \(pid (\d+)\)/.exec(out);
  assert.ok(match, out);
  return Number(match[1]);
}

/** Writes a workflow file, one item per line, into the test's directory. */
async function fixture(name: string, lines: string[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "asyncjobs-service-test-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a service in a workflow file", { skip: process.platform !== "linux" }, () => {
  test(`${EXAMPLE}: requests once the server listens, the failure report skipped, the server stopped`, async () => {
    const before = portFiles();
    const run = await asyncjobs("run", EXAMPLE, "--verbose");
    assert.equal(run.code, 0, run.out + run.err);
    const lines = events(run.out);
    const at = (pattern: RegExp): number => {
      const index = lines.findIndex((line) => pattern.test(line));
      assert.ok(index >= 0, `${pattern} in\n${lines.join("\n")}`);
      return index;
    };
    const ready = at(/^ready {5}http server \(\d+(ms|\.\d+s)\)$/);
    const hello = at(/^started {3}GET \/hello$/);
    const status = at(/^started {3}GET \/status$/);
    assert.ok(ready < hello && ready < status, "the requests wait for the server");
    // The pool "clients" has one slot: the requests take turns.
    const first = Math.min(hello, status);
    const second = Math.max(hello, status);
    assert.ok(lines.slice(first, second).some((line) => line.startsWith("done ")));
    at(/^done {6}GET \/hello \(.+\) → GET \/hello: 200$/);
    at(/^done {6}GET \/status \(.+\) → GET \/status: 200$/);
    const skipped = at(/^skipped {3}report failure \(trigger oneFailed\)$/);
    const cancelled = at(/^cancelled http server \(.+\)$/);
    assert.ok(skipped < cancelled);
    assert.doesNotMatch(run.out, /started {3}report failure/);
    assert.match(run.out, /\nasyncjobs: success, 2 jobs done in \S+ \(1 skipped\)\n$/);
    assert.equal(await gone(serverPid(run.out)), true, "the server is gone");
    assert.deepEqual(portFiles(), before, "the server removed its port file");
  });

  test("a request that keeps failing: retried, then the failure report runs and fails the run", async () => {
    const text = readFileSync(join(ROOT, EXAMPLE), "utf8");
    assert.ok(text.includes("ROUTE: /status"));
    const file = join(dir, "failing.yaml");
    await writeFile(file, text.replace("ROUTE: /status", "ROUTE: /missing"));
    const run = await asyncjobs("run", file, "--verbose");
    assert.equal(run.code, 1, run.out + run.err);
    const lines = events(run.out);
    const retries = lines.filter((line) => line.startsWith("retrying"));
    assert.deepEqual(
      retries.map((line) => line.replace(/\(\S+, /, "(")),
      ["retrying  GET /status (attempt 2 of 3)", "retrying  GET /status (attempt 3 of 3)"],
    );
    assert.ok(
      lines.some((line) =>
        /^FAILED {4}GET \/status \(\S+, 3 attempts\) CommandError: exited with code 1/.test(line),
      ),
      lines.join("\n"),
    );
    assert.ok(lines.includes("started   report failure"), lines.join("\n"));
    assert.match(run.out, /\[report failure\] a request failed: the run fails/);
    assert.match(run.out, /asyncjobs: the run failed after \S+: a CRITICAL job has raised/);
    assert.equal(await gone(serverPid(run.out)), true, "the server is gone");
  });

  test("check accepts the example, and lists the new keys' mistakes with line and column", async () => {
    const valid = await asyncjobs("check", EXAMPLE);
    assert.equal(valid.code, 0, valid.err);
    assert.match(valid.out, /valid, 4 jobs, no cycle/);

    const file = await fixture("broken.yaml", [
      "window: 2", // 1
      "pools: { db: 0 }", // 2
      "jobs:", // 3
      "  - id: a", // 4
      "    run: [node, -e, '0']", // 5
      "    trigger: sometimes", // 6
      "    retry: { tries: 2, delay: 5 }", // 7
      "    weight: 3", // 8
      "    pool: bd", // 9
      "    timeout: 30", // 10
      "    pools: { x: 1 }", // 11
      "  - id: g", // 12
      "    readyWhen: listening", // 13
      "    retry: often", // 14
      "    jobs:", // 15
      "      - { id: c, run: [node, -e, '0'], weight: 0 }", // 16
    ]);
    const checked = await asyncjobs("check", file);
    assert.equal(checked.code, 2);
    const report = checked.err;
    const expect = (where: string, message: string): void => {
      assert.ok(report.includes(`${file}:${where}: ${message}`), `${where} ${message}\n${report}`);
    };
    expect("2:14", "expected a number of slots >= 1");
    expect("6:14", "expected one of allDone, allSuccess, oneFailed, noneFailed");
    expect("7:12", 'missing "retries": expected a number of retries');
    expect("7:14", 'unknown key "tries" in retry:');
    expect(
      "7:31",
      "expected a duration with a unit, like 500ms, 30s, 2m, 1h or 1m30s, got the number 5",
    );
    expect("8:13", "weight 3 is more than the window of 2 of its group: the job could never start");
    expect("9:11", 'unknown pool "bd": declare it under pools: in this group or one that holds it');
    expect("10:14", "expected a duration with a unit");
    expect("11:5", '"pools" applies to groups (jobs:), not to a command');
    expect("13:5", '"readyWhen" applies to commands (run:), not to a group');
    expect("14:12", "expected a number of retries, or a mapping with retries:");
    expect("16:48", "expected a number of window slots >= 1");
    assert.match(report, /unknown pool "bd".*\(did you mean "db"\?\)/);
    assert.match(report, /12 mistakes found; nothing was run\./);

    // A weight no pool can give, counting the slots an enclosing group holds in it.
    const pools = await fixture("pools.yaml", [
      "pools: { db: 2 }", // 1
      "jobs:", // 2
      "  - { id: a, run: [node, -e, '0'], pool: db, weight: 3 }", // 3
      "  - id: g", // 4
      "    pool: db", // 5
      "    weight: 2", // 6
      "    jobs:", // 7
      "      - { id: b, run: [node, -e, '0'], pool: db }", // 8
    ]);
    const full = await asyncjobs("check", pools);
    assert.equal(full.code, 2);
    assert.ok(
      full.err.includes(
        `${pools}:3:54: weight 3 is more than the 2 slots of pool "db": the job could never start`,
      ),
      full.err,
    );
    assert.ok(
      full.err.includes(
        `${pools}:8:46: weight 1, with 2 held by its enclosing groups, is more than the 2 slots of pool "db"`,
      ),
      full.err,
    );
  });
});
