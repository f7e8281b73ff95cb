/**
 * The live view of `asyncjobs run` on a real terminal: the command runs in a
 * tmux pane, and the tests read what is on screen. Ctrl-C is typed as keys.
 * Skipped, with a message, where tmux cannot be had.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { CLI } from "./cli-program.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const SOCKET = `asyncjobs-test-${process.pid}`;
const DEADLINE_MS = 30_000;
let dir = "";
let config = "";

/** Installs tmux when it is missing and this is a Debian-like machine where we are root. */
function tmuxAvailable(): boolean {
  const has = (): boolean => spawnSync("tmux", ["-V"]).status === 0;
  if (has()) return true;
  const root = process.getuid?.() === 0;
  if (root && spawnSync("sh", ["-c", "command -v apt-get"]).status === 0) {
    spawnSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq tmux"], {
      stdio: "ignore",
    });
  }
  return has();
}

const available = tmuxAvailable();
const skip = available ? false : "tmux is not installed and cannot be installed here";

function tmux(...args: string[]): string {
  const result = spawnSync("tmux", ["-L", SOCKET, "-f", config, ...args], {
    encoding: "utf8",
    env: { ...process.env, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
  });
  if (result.status !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr}`);
  return result.stdout;
}

/** Where the shell around the program in pane `name` writes its exit status. */
function statusFile(name: string): string {
  return join(dir, `${name}.status`);
}

/**
 * Starts `asyncjobs ARGS` in a new 100x30 pane named `name`. The shell
 * around it writes its exit status to a file: read from the screen, it
 * could be lost when tmux closes a pane whose last output it has not read.
 */
function startPane(name: string, args: string[]): void {
  const program = [process.execPath, ...CLI, ...args].map((word) => `'${word}'`).join(" ");
  const command = `${program}; echo $? > '${statusFile(name)}'`;
  tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", "-c", ROOT, command);
}

/** The screen of the pane, with its scrollback. */
function screen(name: string): string {
  return tmux("capture-pane", "-p", "-S", "-", "-t", name);
}

/** Polls the pane until `check` holds; fails with the screen after the deadline. */
async function waitForScreen(name: string, check: (text: string) => boolean, what: string) {
  const end = Date.now() + DEADLINE_MS;
  for (;;) {
    const text = screen(name);
    if (check(text)) return text;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; the screen:\n${text}`);
    await delay(50);
  }
}

/** Waits for the program to exit; resolves with its exit status. */
async function exitStatus(name: string): Promise<number> {
  const end = Date.now() + DEADLINE_MS;
  for (;;) {
    const written = await readFile(statusFile(name), "utf8").catch(() => "");
    if (written.endsWith("\n")) return Number(written);
    if (Date.now() > end) {
      assert.fail(`timed out waiting for the exit status; the screen:\n${screen(name)}`);
    }
    await delay(50);
  }
}

async function gone(pid: number): Promise<boolean> {
  const end = Date.now() + DEADLINE_MS;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > end) return false;
    await delay(50);
  }
}

/** Runs a workflow of `jobs` lines in pane `name`; resolves with the pid its first program prints. */
async function startAndReadPid(name: string, jobs: string[]): Promise<number> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, ["jobs:", ...jobs, ""].join("\n"));
  startPane(name, ["run", file]);
  const during = await waitForScreen(name, (text) => /pid \d+/.test(text), "the program's pid");
  return Number(during.match(/pid (\d+)/)?.[1]);
}

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "asyncjobs-tty-"));
  config = join(dir, "tmux.conf");
  await writeFile(config, "set -g remain-on-exit on\nset -g history-limit 5000\n");
  // One server for all the panes, started before the tests run side by side.
  if (available) tmux("new-session", "-d", "-s", "idle", "-x", "20", "-y", "5", "cat");
});

after(async () => {
  if (available) spawnSync("tmux", ["-L", SOCKET, "kill-server"]);
  await rm(dir, { recursive: true, force: true });
});

describe("asyncjobs run on a terminal", { skip, concurrency: true }, () => {
  test("redraws a table of the jobs in place, then prints the summary", async () => {
    const gate = join(dir, "gate");
    const file = join(dir, "live.yaml");
    await writeFile(
      file,
      [
        "window: 2",
        "shell: true",
        "jobs:",
        "  - id: setup",
        '    run: echo "setting up"; echo "set up"',
        "  - id: waiter",
        "    label: wait for the gate",
        `    run: echo "waiting at the gate"; while [ ! -e '${gate}' ]; do sleep 0.05; done; echo "through"`,
        "    requires: setup",
        "  - id: last",
        "    run: echo finished",
        "    requires: waiter",
        "",
      ].join("\n"),
    );
    startPane("live", ["run", file]);
    const during = await waitForScreen(
      "live",
      (text) => text.includes("waiting at the gate"),
      "the running job's last output line",
    );
    assert.match(during, /asyncjobs run .*live\.yaml · window 2/);
    assert.match(during, /⚠ ☉ ☓ {3}setup .*set up/);
    assert.match(during, /⚠ ☉ ↺ {3}wait for the gate .*waiting at the gate/);
    assert.match(during, /⚠ {3}⚐ {3}last .*waits for wait for the gate/);
    assert.match(during, /1 done · 1 running · 1 idle · /);

    await writeFile(gate, "");
    assert.equal(await exitStatus("live"), 0);
    const final = screen("live");
    assert.match(final, /⚠ ☉ ☓ {3}last /);
    assert.match(final, /3 done · 0 running · 0 idle · /);
    assert.match(final, /asyncjobs: success, 3 jobs done in /);
    assert.equal(count(final, "asyncjobs run "), 1, `drawn in place, not scrolled:\n${final}`);
  });

  test("Ctrl-C cancels the run: programs terminated, debrief, exit 130", async () => {
    const pid = await startAndReadPid("cancel", [
      "  - id: waits",
      `    run: [node, -e, "console.log('pid ' + process.pid); setInterval(() => {}, 1000)"]`,
      "  - id: next",
      "    run: [node, -e, '0']",
      "    requires: waits",
    ]);
    tmux("send-keys", "-t", "cancel", "C-c");
    assert.equal(await exitStatus("cancel"), 130);
    const final = screen("cancel");
    assert.match(final, /waits .*cancelled/);
    assert.match(final, /the run failed after .*: ABORTED: interrupted \(Ctrl-C\)/);
    assert.match(final, /<CommandJob `next`> \[not done\]/, "the debrief lists the jobs");
    assert.equal(await gone(pid), true, "the program is gone");
  });

  test("a second Ctrl-C exits at once, killing what still runs", async () => {
    const pid = await startAndReadPid("twice", [
      "  - id: stubborn",
      `    run: [node, -e, "process.on('SIGTERM', () => console.log('ignoring TERM')); console.log('pid ' + process.pid); setInterval(() => {}, 1000)"]`,
    ]);
    tmux("send-keys", "-t", "twice", "C-c");
    await waitForScreen(
      "twice",
      (text) => text.includes("Ctrl-C again to exit at once"),
      "cancelling",
    );
    tmux("send-keys", "-t", "twice", "C-c");
    assert.equal(await exitStatus("twice"), 130);
    assert.match(screen("twice"), /interrupted again: exiting at once/);
    assert.equal(await gone(pid), true, "the stubborn program was killed");
  });
});
