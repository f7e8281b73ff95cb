/**
 * The command line stopped by a signal: SIGTERM, SIGHUP (the terminal
 * closed) and SIGQUIT cancel the run as Ctrl-C does, kill the programs, give
 * the terminal back and exit with 128 + the signal's number. Also: timeouts
 * too long for a timer are refused, and a slow reader of --verbose output
 * slows the programs down rather than filling memory.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { vanished } from "../../node/test/processes.js";
import { CLI, startCli, waitForOutput } from "./cli-program.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
let dir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "asyncjobs-signals-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Two programs that print their pids and wait; one ignores SIGTERM. */
const TWO_PROGRAMS = [
  "jobs:",
  "  - id: waits",
  `    run: [node, -e, "console.log('pid ' + process.pid); setInterval(() => {}, 1000)"]`,
  "  - id: stubborn",
  `    run: [node, -e, "process.on('SIGTERM', () => {}); console.log('pid ' + process.pid); setInterval(() => {}, 1000)"]`,
  "",
].join("\n");

describe("asyncjobs run stopped by a signal", { concurrency: true }, () => {
  for (const signal of ["SIGTERM", "SIGHUP", "SIGQUIT"] as const) {
    test(`${signal} cancels the run, kills the programs, exits ${128 + constants.signals[signal]}`, {
      timeout: 60_000,
    }, async () => {
      const file = join(dir, `${signal}.yaml`);
      await writeFile(file, TWO_PROGRAMS);
      const started = startCli(["run", "--verbose", file]);
      const { child, done } = started;
      const [, first] = await waitForOutput(started, /\[waits\] pid (\d+)/);
      const [, second] = await waitForOutput(started, /\[stubborn\] pid (\d+)/);
      child.kill(signal);
      const outcome = await done;
      assert.equal(outcome.signal, null, "the command line ended by itself");
      assert.equal(outcome.code, 128 + constants.signals[signal], outcome.stderr);
      assert.match(outcome.stdout, /cancelled {1}waits/);
      assert.match(outcome.stdout, new RegExp(`ABORTED: .*\\(${signal}\\)`));
      assert.equal(await vanished(Number(first)), true, "the first program is gone");
      assert.equal(await vanished(Number(second)), true, "the one ignoring SIGTERM is gone");
    });
  }

  test("a timeout longer than a timer can wait is refused, not cut to 1 ms", async () => {
    const file = join(dir, "long.yaml");
    await writeFile(file, "jobs:\n  - run: [node, -e, '0']\n");
    const flag = await startCli(["run", "--timeout", "600h", file]).done;
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--timeout must be at most 596h31m/);
    const inFile = join(dir, "long-in-file.yaml");
    await writeFile(inFile, "timeout: 600h\njobs:\n  - run: [node, -e, '0']\n");
    const key = await startCli(["run", inFile]).done;
    assert.equal(key.code, 2);
    assert.match(key.stderr, /1:10: a timeout must be at most 596h31m/);
    const fine = await startCli(["run", "--timeout", "596h", file]).done;
    assert.equal(fine.code, 0, fine.stderr);
  });

  test("a slow reader of --verbose output slows the programs down, memory stays bounded", {
    timeout: 120_000,
  }, async () => {
    const file = join(dir, "flood.yaml");
    const program =
      "const b = Buffer.from('y'.repeat(999) + '\\n'); let n = 0; const go = () => { while (n < 50000) { n++; if (!process.stdout.write(b)) return process.stdout.once('drain', go); } }; go();";
    await writeFile(
      file,
      `jobs:\n  - id: flood\n    run: [node, -e, ${JSON.stringify(program)}]\n`,
    );
    const child = spawn(process.execPath, [...CLI, "run", "--plain", "--verbose", file], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    let lines = 0;
    let peak = 0;
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
      // The command line's peak resident memory so far (VmHWM), while it lives.
      const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
      const hwm = Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1] ?? 0) * 1024;
      peak = Math.max(peak, hwm);
      await delay(2); // A slow reader.
    }
    assert.equal(await exited, 0);
    assert.ok(lines >= 50_000, `${lines} lines`);
    if (process.platform === "linux") {
      assert.ok(peak > 0);
      assert.ok(peak < 180 * 1024 * 1024, `peak RSS ${peak} bytes`);
    }
  });
});

/** Installs nothing: the terminal test runs where tmux is. */
const tmux = spawnSync("tmux", ["-V"]).status === 0;

describe("on a terminal", { skip: tmux ? false : "tmux is not installed" }, () => {
  test("SIGQUIT gives the cursor back", { timeout: 60_000 }, async () => {
    const socket = `asyncjobs-signals-${process.pid}`;
    const config = join(dir, "tmux.conf");
    await writeFile(config, "set -g remain-on-exit on\n");
    const run = (...args: string[]): string => {
      const result = spawnSync("tmux", ["-L", socket, "-f", config, ...args], {
        encoding: "utf8",
      });
      if (result.status !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr}`);
      return result.stdout;
    };
    const file = join(dir, "tty.yaml");
    await writeFile(
      file,
      `jobs:\n  - id: waits\n    run: [node, -e, "console.log('pid ' + process.pid); setInterval(() => {}, 1000)"]\n`,
    );
    const status = join(dir, "tty.status");
    const program = [process.execPath, ...CLI, "run", file].map((word) => `'${word}'`).join(" ");
    try {
      // The shell stays after the program, so that the pane (and its cursor state) lives on.
      const command = `${program}; echo $? > '${status}'; sleep 60`;
      run("new-session", "-d", "-s", "quit", "-x", "100", "-y", "30", "-c", ROOT, command);
      let cli = 0;
      const end = Date.now() + 30_000;
      // The program's pid: the child of the pane's shell that runs node.
      while (cli === 0) {
        assert.ok(Date.now() < end, "the command line started");
        const shell = Number(run("display", "-p", "-t", "quit", "#{pane_pid}").trim());
        const children = await readFile(`/proc/${shell}/task/${shell}/children`, "utf8").catch(
          () => "",
        );
        const hidden = run("display", "-p", "-t", "quit", "#{cursor_flag}").trim() === "0";
        const first = Number(children.trim().split(" ")[0] ?? 0);
        if (hidden && first > 0) cli = first;
        else await delay(50);
      }
      process.kill(cli, "SIGQUIT");
      let written = "";
      while (!written.endsWith("\n")) {
        assert.ok(Date.now() < end, "the command line exited");
        written = await readFile(status, "utf8").catch(() => "");
        await delay(50);
      }
      assert.equal(Number(written), 128 + constants.signals.SIGQUIT);
      assert.equal(run("display", "-p", "-t", "quit", "#{cursor_flag}").trim(), "1");
    } finally {
      spawnSync("tmux", ["-L", socket, "kill-server"]);
    }
  });

  test("closing the terminal (SIGHUP from the kernel) leaves no program running", {
    timeout: 60_000,
  }, async () => {
    const socket = `asyncjobs-hangup-${process.pid}`;
    const run = (...args: string[]): string => {
      const result = spawnSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], {
        encoding: "utf8",
      });
      if (result.status !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr}`);
      return result.stdout;
    };
    const file = join(dir, "hangup.yaml");
    await writeFile(file, TWO_PROGRAMS);
    const program = [process.execPath, ...CLI, "run", "--plain", "--verbose", file]
      .map((word) => `'${word}'`)
      .join(" ");
    try {
      run("new-session", "-d", "-s", "hup", "-x", "100", "-y", "30", "-c", ROOT, program);
      const end = Date.now() + 30_000;
      let pids: number[] = [];
      while (pids.length < 2) {
        assert.ok(Date.now() < end, "the programs started");
        const screen = run("capture-pane", "-p", "-S", "-", "-t", "hup");
        pids = [...screen.matchAll(/\] pid (\d+)/g)].map((match) => Number(match[1]));
        if (pids.length < 2) await delay(50);
      }
      // The terminal goes away: the kernel sends SIGHUP to what runs in it.
      run("kill-server");
      for (const pid of pids) assert.equal(await vanished(pid), true, `program ${pid} is gone`);
    } finally {
      spawnSync("tmux", ["-L", socket, "kill-server"]);
    }
  });
});
