/**
 * The command line when its output is not a terminal: every subcommand, the
 * report of a broken workflow file, the exit statuses, one plain line per
 * event, and an interrupt that cancels the run and leaves no process behind.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { vanished } from "../../node/test/processes.js";
import { cli, startCli, waitForOutput } from "./cli-program.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
let dir = "";

async function fixture(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const GOOD = `
window: 2
shell: true
jobs:
  - id: first
    run: echo "first line"; echo "first done"
  - id: second
    label: the second
    run: echo second
    requires: first
  - id: group
    requires: first
    jobs:
      - id: inner
        run: [node, -e, "console.log(6 * 7)"]
        shell: false
        capture: true
`;

const BROKEN = `window: two
jobs:
  - id: build
    run: make all
    requries: lint
  - id: lint
    run: [npx, biome]
    requires: [test, buidl]
  - id: test
    run: echo test
    requires: lint
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "asyncjobs-cli-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("asyncjobs on pipes", { concurrency: true }, () => {
  test("--help lists every command and option; help COMMAND and --version", async () => {
    const help = await cli("--help");
    assert.equal(help.code, 0);
    for (const word of [
      "run FILE",
      "list FILE",
      "check FILE",
      "graph FILE",
      "--window",
      "--timeout",
    ]) {
      assert.ok(help.stdout.includes(word), `--help mentions ${word}`);
    }
    for (const word of ["--verbose", "--ascii", "--dry-run", "Exit status", "Ctrl-C", "jobs:"]) {
      assert.ok(help.stdout.includes(word), `--help mentions ${word}`);
    }
    const runHelp = await cli("help", "run");
    assert.match(runHelp.stdout, /^Usage: asyncjobs run FILE/);
  });

  test("usage mistakes exit 2 and say what is wrong", async () => {
    const none = await cli();
    assert.equal(none.code, 2);
    assert.match(none.stderr, /missing a command/);
    const timeout = await cli("run", "x.yaml", "--timeout", "30");
    assert.equal(timeout.code, 2);
    assert.match(timeout.stderr, /--timeout expects a duration with a unit/);
    const missing = await cli("run", join(dir, "nowhere.yaml"));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the file/);
  });

  test("check reports every mistake of a broken file with its line and column, and runs nothing", async () => {
    const file = await fixture("broken.yaml", BROKEN);
    const checked = await cli("check", file);
    assert.equal(checked.code, 2);
    const report = checked.stderr;
    assert.ok(report.includes(`${file}:1:9: expected a number of jobs`), report);
    assert.ok(
      report.includes(`${file}:5:5: unknown key "requries" in a job (did you mean "requires"?)`),
    );
    assert.ok(report.includes(`${file}:8:22: unknown requirement "buidl"`));
    assert.ok(report.includes(`(did you mean "build"?)`));
    assert.ok(report.includes(`${file}:11:5: cycle in requires: test → lint → test`));
    assert.match(report, /\n {2}5 \| {5}requries: lint\n {4}\| {5}\^{8}\n/);
    assert.match(report, /4 mistakes found; nothing was run\./);
    const run = await cli("run", file);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
  });

  test("check accepts a valid file, YAML or JSON", async () => {
    const yaml = await cli("check", await fixture("good.yaml", GOOD));
    assert.equal(yaml.code, 0);
    assert.match(yaml.stdout, /valid, 3 jobs in 2 schedulers, no cycle/);
    const wrong = await fixture(
      "wrong.json",
      '{\n  "jobs": [\n    { "id": "a", "run": 12 }\n  ]\n}\n',
    );
    const refused = await cli("check", wrong);
    assert.equal(refused.code, 2);
    assert.ok(refused.stderr.includes(`${wrong}:3:25: expected a command line`), refused.stderr);
  });

  test("list and run --dry-run show the jobs in order and run nothing", async () => {
    const marker = join(dir, "dry-run-marker");
    const file = await fixture(
      "dry.yaml",
      `jobs:\n  - id: touch\n    run: [node, -e, "require('fs').writeFileSync('${marker}', '')"]\n  - id: after\n    run: [node, -e, "0"]\n    requires: touch\n`,
    );
    const listed = await cli("list", file);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, /1 ⚠ {3}⚐ {3}<CommandJob `touch`>/);
    assert.match(listed.stdout, /2 ⚠ {3}⚐ {3}<CommandJob `after`> \[not done\] requires=\{1\}/);
    const dry = await cli("run", "--dry-run", file);
    assert.equal(dry.code, 0);
    assert.equal(dry.stdout, listed.stdout);
    assert.equal(existsSync(marker), false);
  });

  test("run prints one plain line per event, and exits 0 on success", async () => {
    const run = await cli("run", "--verbose", await fixture("run.yaml", GOOD));
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout
      .trimEnd()
      .split("\n")
      .filter((line) => !line.startsWith("["));
    const events = lines.map((line) => line.replace(/^\d{3}\.\d{3} /, "").replace(/ \(.*?\)/, ""));
    assert.deepEqual(events.slice(0, 2), ["started   first", "done      first"]);
    assert.ok(events.includes("started   the second"));
    assert.ok(events.includes("done      group/inner → 42"), events.join("\n"));
    assert.ok(events.includes("done      group"));
    assert.match(lines.at(-1)!, /^asyncjobs: success, 3 jobs done in /);
    assert.match(run.stdout, /^\[first\] first line$/m, "--verbose prints the commands' output");
  });

  test("without a terminal, run prints what the commands print, each line after its job's label", async () => {
    const run = await cli("run", await fixture("output.yaml", GOOD));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\[first\] first line$/m);
    assert.match(run.stdout, /^\[first\] first done$/m);
    assert.match(run.stdout, /^\[the second\] second$/m);
    assert.match(run.stdout, /^\[group\/inner\] 42$/m);
    // A job's lines come after it started.
    const lines = run.stdout.split("\n");
    const started = lines.findIndex((line) => / started {3}first$/.test(line));
    assert.ok(started >= 0 && started < lines.indexOf("[first] first line"), run.stdout);
  });

  test("docs/cli.md shows the plain output of examples/ci-workflow.yaml as it is", async () => {
    // Times, durations and Node's version vary; so does the interleaving of
    // concurrent jobs: the lines are compared as sorted lists.
    const normalize = (text: string): string[] =>
      text
        .trimEnd()
        .split("\n")
        .map((line) =>
          line
            .replace(/^\d{3}\.\d{3} /, "")
            .replace(/ \(\d+(\.\d+)?m?s\)/, "")
            .replace(/ in \d+(\.\d+)?m?s /, " in ")
            .replace(/v\d+\.\d+\.\d+/g, "vX"),
        )
        .sort();
    const doc = await readFile(join(ROOT, "docs/cli.md"), "utf8");
    const shown =
      /```text\n\$ npx asyncjobs run examples\/ci-workflow\.yaml \| cat\n([\s\S]*?)```/.exec(
        doc,
      )?.[1];
    assert.ok(shown, "docs/cli.md has the plain output of ci-workflow.yaml");
    const run = await cli("run", "examples/ci-workflow.yaml");
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(normalize(shown), normalize(run.stdout));
  });

  test("--quiet leaves the commands' output out of the plain lines", async () => {
    const run = await cli("run", "--quiet", await fixture("quiet.yaml", GOOD));
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /^\[/m);
    assert.match(run.stdout, /started {3}first/);
    assert.match(run.stdout, /asyncjobs: success, 3 jobs done in /);
    const both = await cli("run", "-q", "-v", await fixture("both.yaml", GOOD));
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--quiet and --verbose contradict/);
    const list = await cli("list", "--quiet", await fixture("list-quiet.yaml", GOOD));
    assert.equal(list.code, 2);
    assert.match(list.stderr, /option --quiet does not apply to list/);
  });

  test("a failed run exits 1 and prints the debrief with the last stderr lines", async () => {
    const file = await fixture(
      "fail.yaml",
      `jobs:\n  - id: ok\n    run: [node, -e, "0"]\n  - id: bad\n    run: [node, -e, "console.error('it broke'); process.exit(4)"]\n    requires: ok\n  - id: never\n    run: [node, -e, "0"]\n    requires: bad\n`,
    );
    const run = await cli("run", file);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /FAILED {4}bad .*exited with code 4 \| it broke/);
    assert.match(
      run.stdout,
      /asyncjobs: the run failed after .*: a CRITICAL job has raised an exception/,
    );
    assert.match(run.stdout, /stderr \| it broke/);
    assert.ok(!/started {3}never/.test(run.stdout));
  });

  test("--timeout stops the run, exits 1, and leaves no process behind", async () => {
    const file = await fixture(
      "slow.yaml",
      `jobs:\n  - id: slow\n    run: [node, -e, "console.log('pid ' + process.pid); setInterval(() => {}, 1000)"]\n`,
    );
    // Long enough for the program to start and print its pid, even on a busy machine.
    const run = await cli("run", "--verbose", "--timeout", "3s", file);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /TIMED OUT after 3000 ms/);
    const pid = Number(run.stdout.match(/\[slow\] pid (\d+)/)?.[1]);
    assert.ok(pid > 0);
    assert.equal(await vanished(pid), true);
  });

  test("an interrupt cancels the run cleanly: programs terminated, debrief, exit 130", async () => {
    const file = await fixture(
      "forever.yaml",
      `jobs:\n  - id: waits\n    run: [node, -e, "console.log('pid ' + process.pid); setInterval(() => {}, 1000)"]\n  - id: next\n    run: [node, -e, "0"]\n    requires: waits\n`,
    );
    const started = startCli(["run", "--verbose", file]);
    const { child, done } = started;
    const [, pid] = await waitForOutput(started, /\[waits\] pid (\d+)/);
    child.kill("SIGINT");
    const outcome = await done;
    assert.equal(outcome.code, 130);
    assert.match(outcome.stdout, /interrupted: cancelling the run/);
    assert.match(outcome.stdout, /cancelled {1}waits/);
    assert.match(outcome.stdout, /ABORTED: interrupted \(SIGINT\)/);
    // The debrief says what the event lines said: cancelled, not running.
    assert.match(outcome.stdout, /^\d ⚠ ☉ ⊗ {3}<CommandJob `waits`> \[not done\]$/m);
    assert.match(
      outcome.stdout,
      /total of 2 job\(s\): none is done, none is ongoing, 1 is idle \(or scheduled but not running\), 1 is cancelled$/m,
    );
    assert.equal(await vanished(Number(pid)), true);
  });

  test("graph writes DOT, Mermaid and pictures", async () => {
    const file = await fixture("graph.yaml", GOOD);
    const dot = await cli("graph", file);
    assert.equal(dot.code, 0);
    assert.match(dot.stdout, /^digraph asynciojobs\{/);
    assert.match(dot.stdout, /cluster_/);
    const mmd = await cli("graph", file, "-o", join(dir, "g.mmd"));
    assert.equal(mmd.code, 0);
    assert.match(await readFile(join(dir, "g.mmd"), "utf8"), /^flowchart TD/);
    const bad = await cli("graph", file, "-o", join(dir, "g.gif"));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /must end in \.svg, \.png, \.dot or \.mmd/);
  });

  test("graph renders SVG", async () => {
    const svg = await cli("graph", await fixture("svg.yaml", GOOD), "-o", join(dir, "g.svg"));
    assert.equal(svg.code, 0, svg.stderr);
    assert.match(svg.stdout, /wrote .*g\.svg/);
    assert.match(await readFile(join(dir, "g.svg"), "utf8"), /<svg/);
  });

  test("runs a TypeScript workflow module without a build step", async () => {
    const run = await cli("run", "examples/release-workflow.ts");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /done {6}changelog .*→ release \d+\.\d+\.\d+/);
    assert.match(run.stdout, /done {6}artefacts\/tarball/);
    const module = await fixture("none.mjs", "export const x = 1;\n");
    const refused = await cli("run", module);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /no default export/);
  });
});
