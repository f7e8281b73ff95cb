/**
 * CommandJob against what it runs: an argument list stays a list through a
 * shell, a timeout or a cancellation settles the job and reaches processes
 * that left the program's session, output of any size costs bounded memory,
 * and bad arguments are refused before anything changes.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { CommandError, CommandJob } from "@asyncjobs/node";
import { Scheduler } from "asyncjobs";
import { LineSplitter, MAX_LINE_BYTES } from "../../node/src/output-lines.js";
import { alive, vanished } from "../../node/test/processes.js";
import { buildWorkflow, readWorkflowFile } from "../src/workflow-file.js";

const node = process.execPath;
const ROOT = new URL("../../../", import.meta.url).pathname;
const linux = process.platform === "linux";
let dir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "asyncjobs-trust-"));
});

after(async () => {
  CommandJob.killAll();
  await rm(dir, { recursive: true, force: true });
});

/** Runs a TypeScript module's text in a child Node; resolves with its stdout. */
async function runScript(script: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    node,
    ["--import", "tsx", "--input-type=module", "-e", script],
    { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

describe("an argument list through a shell", { concurrency: true }, () => {
  test("each argument is quoted: none is read as shell syntax", async () => {
    const marker = join(dir, "marker-api");
    const job = new CommandJob(["wc", "-c", `r; touch '${marker}' #`], {
      shell: true,
      cwd: dir,
      output: () => {},
    });
    // wc is asked to count a file of that odd name, which does not exist.
    await assert.rejects(job.standaloneRun(), (error: unknown) => {
      assert.ok(CommandError.isCommandError(error));
      assert.equal(error.failure, "exit");
      return true;
    });
    assert.equal(existsSync(marker), false, "the touch did not run");
  });

  test("arguments reach the program exactly, whatever they hold", async () => {
    const args = ["a b", "it's", "$HOME", "`id`", "*", "x\ny", "", "FOO=bar"];
    const job = new CommandJob(["printf", "%s|", ...args], { shell: true, capture: true });
    assert.equal(await job.standaloneRun(), `${args.join("|")}|`);
    // The first word too: an assignment-like program name is not an assignment.
    const odd = new CommandJob(["FOO=bar", "x"], { shell: true, output: () => {} });
    await assert.rejects(odd.standaloneRun(), /exited with code 127/);
  });

  test("in a YAML workflow, run: [..] with shell: true", async () => {
    const marker = join(dir, "marker-yaml");
    const file = join(dir, "quoted.yaml");
    await writeFile(
      file,
      [
        "shell: true",
        "critical: false",
        "jobs:",
        "  - id: count",
        "    critical: false",
        `    run: [wc, -c, "r; touch '${marker}' #"]`,
        "",
      ].join("\n"),
    );
    const scheduler = await buildWorkflow(await readWorkflowFile(file));
    const [job] = [...scheduler.jobs] as CommandJob[];
    assert.ok(job && CommandJob.isCommandJob(job));
    job.output = () => {};
    // The failure is the job's own; the run's outcome says nothing more here.
    await scheduler.run().catch(() => false);
    assert.ok(CommandError.isCommandError(job.raisedException()));
    assert.equal(existsSync(marker), false, "the touch did not run");
  });
});

/**
 * A job and the pid its program prints first: `pid` resolves once it is
 * printed, `printed()` says whether it was (after the run, without waiting).
 */
function startPrinting(
  command: string,
  options: { timeout?: number; killGrace?: number },
): { job: CommandJob; pid: Promise<number>; printed: () => number } {
  let seen = 0;
  let onPrinted: (pid: number) => void = () => {};
  const pid = new Promise<number>((resolve) => {
    onPrinted = resolve;
  });
  const job = new CommandJob(command, {
    shell: true,
    ...options,
    output: (line) => {
      if (seen === 0 && /^\d+$/.test(line)) {
        seen = Number(line);
        onPrinted(seen);
      }
    },
  });
  return {
    job,
    pid,
    printed: () => {
      assert.ok(seen > 0, "the program printed the pid before its timeout");
      return seen;
    },
  };
}

describe("processes that leave the session", { concurrency: true, skip: !linux }, () => {
  test("a timeout settles the job and kills a setsid grandchild", { timeout: 60_000 }, async () => {
    const { job, printed } = startPrinting(
      "setsid sh -c 'echo $$; exec sleep 120' & sleep 120",
      // Long enough for the program to start and print, even on a busy machine.
      { timeout: 3000, killGrace: 1000 },
    );
    await assert.rejects(job.standaloneRun(), (error: unknown) => {
      assert.ok(CommandError.isCommandError(error));
      assert.equal(error.failure, "timeout");
      return true;
    });
    await job.shutdown();
    assert.equal(await vanished(printed()), true, "the grandchild in its own session is gone");
  });

  test("a cancellation reaches a daemon re-parented to init (setsid --fork)", {
    timeout: 60_000,
  }, async () => {
    const { job, pid } = startPrinting("setsid -f sh -c 'echo $$; exec sleep 120'; sleep 120", {
      killGrace: 1000,
    });
    const controller = new AbortController();
    const scheduler = new Scheduler(job, { critical: false, shutdownTimeout: null });
    const run = scheduler.run({ signal: controller.signal });
    const daemon = await pid;
    controller.abort(new Error("stop"));
    assert.equal(await run, false);
    assert.equal(job.isCancelled(), true);
    assert.equal(await vanished(daemon), true, "the daemon is gone");
  });

  test("a cancellation reaches a daemon started by a nested asyncjobs", {
    timeout: 60_000,
  }, async () => {
    // A program that runs a command job itself, and is killed before it can
    // clean up: the daemon its job started carries both tokens.
    const inner = [
      "import { CommandJob } from '@asyncjobs/node';",
      "await new CommandJob(`setsid -f sh -c 'echo $$; exec sleep 120'; sleep 120`,",
      "  { shell: true, label: 'inner' }).standaloneRun();",
    ].join("\n");
    let printed: (pid: number) => void = () => {};
    const pid = new Promise<number>((resolve) => {
      printed = resolve;
    });
    const job = new CommandJob([node, "--import", "tsx", "--input-type=module", "-e", inner], {
      cwd: ROOT,
      killGrace: 1000,
      output: (line) => {
        const match = line.match(/^\[inner\] (\d+)$/);
        if (match) printed(Number(match[1]));
      },
    });
    const controller = new AbortController();
    const scheduler = new Scheduler(job, { critical: false, shutdownTimeout: null });
    const run = scheduler.run({ signal: controller.signal });
    const daemon = await pid;
    controller.abort(new Error("stop"));
    assert.equal(await run, false);
    assert.equal(await vanished(daemon), true, "the daemon of the nested run is gone");
  });

  test("one out of reach (new session, cleared environment) holding the pipes does not hold the job", {
    timeout: 60_000,
  }, async () => {
    const { job, pid, printed } = startPrinting(
      "setsid -f env -i sh -c 'echo $$; exec sleep 120'; sleep 120",
      { timeout: 3000, killGrace: 500 },
    );
    try {
      await assert.rejects(job.standaloneRun(), (error: unknown) => {
        assert.ok(CommandError.isCommandError(error));
        assert.equal(error.failure, "timeout");
        return true;
      });
      await job.shutdown();
      // As docs/security.md says: out of reach, it survives the job.
      assert.equal(alive(printed()), true, "the process out of reach still runs");
    } finally {
      const daemon = await Promise.race([pid, Promise.resolve(0)]);
      if (daemon > 0 && alive(daemon)) process.kill(daemon, "SIGKILL");
    }
  });
});

describe("output of any size", { concurrency: true }, () => {
  test("a line longer than the limit is cut, with how much was dropped", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line), 8);
    splitter.push(Buffer.from("short\r\nabcdefghij"));
    splitter.push(Buffer.from("klmn\nééééé\nlast"));
    splitter.end();
    assert.deepEqual(lines, [
      "short",
      "abcdefgh… [truncated 6 bytes]",
      // 10 bytes: cut before the fifth é rather than inside it.
      "éééé… [truncated 2 bytes]",
      "last",
    ]);
  });

  test("one 20 MB line without a newline: one cut line, bounded memory", {
    timeout: 120_000,
  }, async () => {
    const size = 20 * 1024 * 1024;
    const script = `
      import { CommandJob } from "@asyncjobs/node";
      const lines = [];
      const program = "const b = Buffer.alloc(1 << 20, 'x'); for (let i = 0; i < 20; i++) process.stdout.write(b); process.stdout.write('\\\\rdone');";
      await new CommandJob([process.execPath, "-e", program], { output: (line) => lines.push(line) }).standaloneRun();
      console.log(JSON.stringify({
        count: lines.length,
        length: lines[0].length,
        end: lines[0].slice(-40),
        maxRss: process.resourceUsage().maxRSS * 1024,
      }));
    `;
    const outcome = JSON.parse(await runScript(script)) as {
      count: number;
      length: number;
      end: string;
      maxRss: number;
    };
    assert.equal(outcome.count, 1);
    assert.match(outcome.end, new RegExp(`… \\[truncated ${size + 5 - MAX_LINE_BYTES} bytes\\]$`));
    assert.ok(outcome.length < MAX_LINE_BYTES + 100, `a line of ${outcome.length} characters`);
    assert.ok(outcome.maxRss < 200 * 1024 * 1024, `peak RSS ${outcome.maxRss} bytes`);
  });

  test("a slow reader of the default output slows the program down instead of filling memory", {
    timeout: 120_000,
  }, async () => {
    // 50 MB of lines to stdout, read slowly; how much waits in this process's
    // stdout buffer is sampled all along.
    const script = `
      import { CommandJob } from "@asyncjobs/node";
      const program = "const b = Buffer.from('y'.repeat(999) + '\\\\n'); let n = 0; const go = () => { while (n < 50000) { n++; if (!process.stdout.write(b)) return process.stdout.once('drain', go); } }; go();";
      let buffered = 0;
      const sample = setInterval(() => { buffered = Math.max(buffered, process.stdout.writableLength); }, 2);
      await new CommandJob([process.execPath, "-e", program], { label: "p" }).standaloneRun();
      clearInterval(sample);
      process.stderr.write(JSON.stringify({ buffered, maxRss: process.resourceUsage().maxRSS * 1024 }));
    `;
    const child = spawn(node, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    let bytes = 0;
    let lines = 0;
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
      await delay(2); // A slow reader.
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(lines, 50_000, "every line came through");
    assert.equal(bytes, 50_000 * (4 + 1000));
    const { buffered, maxRss } = JSON.parse(stderr) as { buffered: number; maxRss: number };
    assert.ok(buffered < 4 * 1024 * 1024, `${buffered} bytes waited in the stdout buffer`);
    assert.ok(maxRss < 300 * 1024 * 1024, `peak RSS ${maxRss} bytes`);
  });
});

describe("arguments checked before anything changes", () => {
  test("options must be an object", () => {
    // @ts-expect-error: not options
    assert.throws(() => new CommandJob("true", 5), {
      name: "TypeError",
      message: /CommandJob\(\): options must be a plain object, got the number 5/,
    });
    // @ts-expect-error: not options
    assert.throws(() => new CommandJob("true", null), {
      name: "TypeError",
      message: /options must be a plain object, got null/,
    });
  });

  test("a job refused leaves its scheduler as it was", () => {
    const scheduler = new Scheduler();
    assert.throws(() => new CommandJob("true", { scheduler, timeout: -1 }), /"timeout"/);
    // @ts-expect-error: a bad output
    assert.throws(() => new CommandJob("true", { scheduler, output: 3 }), /"output"/);
    assert.throws(() => new CommandJob("a | b", { scheduler }), /shell/);
    assert.equal(scheduler.jobs.size, 0);
    new CommandJob("true", { scheduler });
    assert.equal(scheduler.jobs.size, 1);
  });
});

describe("durations beyond 2^31 − 1 ms", () => {
  test("a timeout or kill grace a timer cannot wait is refused, naming the option", () => {
    // Node would fire such a timer after 1 ms, killing the program at once.
    const month = 30 * 24 * 3600 * 1000;
    assert.throws(() => new CommandJob("true", { timeout: month }), {
      name: "RangeError",
      message: /CommandJob\(\): option "timeout" must be at most 2147483647 ms/,
    });
    assert.throws(() => new CommandJob("true", { killGrace: month }), {
      name: "RangeError",
      message: /option "killGrace" must be at most/,
    });
    assert.equal(new CommandJob("true", { timeout: 2 ** 31 - 1 }).timeout, 2 ** 31 - 1);
  });
});
