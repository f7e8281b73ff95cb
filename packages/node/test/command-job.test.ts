/**
 * CommandJob: programs run without a shell, output streamed line by line,
 * failures that carry the exit code and the last stderr lines, and no
 * process left behind after a timeout or a cancellation.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { CommandError, CommandJob, type OutputStream, splitCommandLine } from "@asyncjobs/node";
import { Scheduler } from "asyncjobs";
import { alive, vanished } from "./processes.js";

const node = process.execPath;

/** A program that ignores SIGTERM, starts a child that ignores it too, prints both pids, and waits. */
const STUBBORN = [
  "process.on('SIGTERM', () => {});",
  "const c = require('node:child_process').spawn(process.execPath,",
  "  ['-e', 'process.on(\"SIGTERM\", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
  "console.log(JSON.stringify({ leader: process.pid, child: c.pid }));",
  "setInterval(() => {}, 1000);",
].join("\n");

/** Whether pgrep (when installed) sees a live process (not a zombie) in the group. */
function pgrepFindsGroup(pgid: number): boolean | undefined {
  const result = spawnSync("pgrep", ["-g", String(pgid)], { encoding: "utf8" });
  if (result.error) return undefined;
  return result.stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .some((line) => alive(Number(line)));
}

/** Collects output lines. */
function sink(): {
  lines: [OutputStream, string][];
  output: (line: string, stream: OutputStream) => void;
} {
  const lines: [OutputStream, string][] = [];
  return { lines, output: (line, stream) => lines.push([stream, line]) };
}

after(() => CommandJob.killAll());

describe("CommandJob", { concurrency: true }, () => {
  test("runs a program without a shell and streams its lines to the output", async () => {
    const { lines, output } = sink();
    const job = new CommandJob(
      [node, "-e", "console.log('one'); console.error('two'); process.stdout.write('three')"],
      { label: "p", output },
    );
    assert.equal(await job.standaloneRun(), 0);
    assert.deepEqual(
      lines.filter(([stream]) => stream === "stdout"),
      [
        ["stdout", "one"],
        ["stdout", "three"],
      ],
    );
    assert.deepEqual(
      lines.filter(([stream]) => stream === "stderr"),
      [["stderr", "two"]],
    );
  });

  test("splits a command line with quotes and expands nothing", async () => {
    const script = "console.log(JSON.stringify(process.argv.slice(1)))";
    const job = new CommandJob(`${node} -e "${script}" 'a b' "c \\"d\\"" '$HOME'`, {
      capture: true,
      output: () => {},
    });
    assert.deepEqual(JSON.parse(String(await job.standaloneRun())), ["a b", 'c "d"', "$HOME"]);
    assert.deepEqual(splitCommandLine(`git commit -m "first commit"`), [
      "git",
      "commit",
      "-m",
      "first commit",
    ]);
  });

  test("refuses shell syntax without shell: true, and runs it with", async () => {
    assert.throws(() => new CommandJob("ls | wc -l"), /shell: true/);
    const job = new CommandJob("echo hello | tr a-z A-Z", {
      shell: true,
      capture: true,
      output: () => {},
    });
    assert.equal(await job.standaloneRun(), "HELLO");
  });

  test("fails with the exit code and the last lines of stderr", async () => {
    const job = new CommandJob(
      [node, "-e", "for (let i = 1; i <= 12; i++) console.error('line ' + i); process.exit(3)"],
      { label: "failing", output: () => {}, tailLines: 3 },
    );
    const error = await job.standaloneRun().then(
      () => assert.fail("should have failed"),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof CommandError);
    assert.equal(error.failure, "exit");
    assert.equal(error.exitCode, 3);
    assert.deepEqual(error.stderr, ["line 10", "line 11", "line 12"]);
    assert.match(error.message, /exited with code 3/);
    assert.match(String(error.stack), /stderr \| line 12/);
    assert.equal(job.raisedException(), error);
  });

  test("fails clearly when the program does not exist", async () => {
    const job = new CommandJob(["surely-no-such-program-here", "x"], { output: () => {} });
    await assert.rejects(job.standaloneRun(), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(error.failure, "spawn");
      assert.match(error.message, /not found/);
      return true;
    });
  });

  test("runs in the given directory with the given environment", async () => {
    const dir = await mkdtemp(join(tmpdir(), "asyncjobs-cwd-"));
    try {
      const job = new CommandJob(
        [node, "-e", "console.log(process.cwd() + '|' + process.env.ASYNCJOBS_TEST_VAR)"],
        { cwd: dir, env: { ASYNCJOBS_TEST_VAR: "set" }, capture: true, output: () => {} },
      );
      assert.equal(await job.standaloneRun(), `${await realpath(dir)}|set`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a timeout terminates the program and its children, even those ignoring SIGTERM", async () => {
    let pids: { leader: number; child: number } | undefined;
    const job = new CommandJob([node, "-e", STUBBORN], {
      // Long enough for the program to start and print, even on a busy machine.
      timeout: 3000,
      killGrace: 300,
      output: (line) => {
        if (line.startsWith("{")) pids = JSON.parse(line) as typeof pids;
      },
    });
    await assert.rejects(job.standaloneRun(), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(error.failure, "timeout");
      return true;
    });
    await job.shutdown();
    assert.ok(pids, "the program printed its pids");
    assert.equal(await vanished(pids.leader), true, "the program is gone");
    assert.equal(await vanished(pids.child), true, "its child is gone");
    assert.notEqual(pgrepFindsGroup(pids.leader), true, "pgrep finds nothing in the group");
  });

  test("a cancelled job leaves no process behind", async () => {
    let pids: { leader: number; child: number } | undefined;
    let printed: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      printed = resolve;
    });
    const job = new CommandJob([node, "-e", STUBBORN], {
      label: "stubborn",
      killGrace: 300,
      output: (line) => {
        if (line.startsWith("{")) {
          pids = JSON.parse(line) as typeof pids;
          printed();
        }
      },
    });
    const controller = new AbortController();
    const scheduler = new Scheduler(job, { critical: false, shutdownTimeout: null });
    const run = scheduler.run({ signal: controller.signal });
    await started;
    controller.abort(new Error("stop"));
    assert.equal(await run, false);
    assert.equal(job.isCancelled(), true);
    assert.ok(pids);
    assert.equal(await vanished(pids.leader), true, "the program is gone");
    assert.equal(await vanished(pids.child), true, "its child is gone");
    assert.notEqual(pgrepFindsGroup(pids.leader), true, "pgrep finds nothing in the group");
  });

  test("the default output prefixes each line with the label", async () => {
    const script = [
      "import { CommandJob } from '@asyncjobs/node';",
      "await new CommandJob([process.execPath, '-e', 'console.log(1); console.error(2)'],",
      "  { label: 'lbl' }).standaloneRun();",
    ].join("\n");
    const { stdout, stderr } = await promisify(execFile)(
      node,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8" },
    );
    assert.equal(stdout, "[lbl] 1\n");
    assert.equal(stderr, "[lbl] 2\n");
  });

  test("rejects bad options where they are given", () => {
    assert.throws(() => new CommandJob([]), /empty/);
    assert.throws(() => new CommandJob("x", { timeout: -1 }), /timeout/);
    // @ts-expect-error: not an option
    assert.throws(() => new CommandJob("x", { colour: true }), /unknown option "colour"/);
    assert.equal(CommandJob.isCommandJob(new CommandJob("x")), true);
    assert.equal(CommandJob.isCommandJob({}), false);
  });
});
