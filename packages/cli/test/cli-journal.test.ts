/**
 * The run journal from the command line: every run recorded under
 * `.asyncjobs/` beside the workflow, `run --resume` after a SIGKILL, a
 * changed job, a torn journal and a service; `runs` and `show`; two runs at
 * once. Each job appends its name to a log file, which says what ran.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, truncateSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseJournal } from "@asyncjobs/node";
import { cli, startCli, waitForOutput } from "./cli-program.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
let top = "";

/** A folder of its own for one test: the workflow, its log, its journal. */
async function workspace(name: string, yaml: (dir: string) => string) {
  const dir = join(top, name);
  await rm(dir, { recursive: true, force: true });
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  const file = join(dir, "flow.yaml");
  const write = (text: string) => writeFile(file, text);
  await write(yaml(dir));
  const log = join(dir, "log");
  const journalDir = join(dir, ".asyncjobs", "flow.yaml");
  return {
    dir,
    file,
    write,
    /** The names the jobs logged since the last call. */
    ran(): string[] {
      if (!existsSync(log)) return [];
      const lines = readFileSync(log, "utf8").split("\n").filter(Boolean);
      const seen = lines.slice(this.seen);
      this.seen = lines.length;
      return seen.sort();
    },
    seen: 0,
    runFiles(): string[] {
      return existsSync(journalDir)
        ? readdirSync(journalDir)
            .sort()
            .map((name) => join(journalDir, name))
        : [];
    },
  };
}

/** A job that logs its name (and prints `value` as its captured result). */
function job(
  name: string,
  extra = "",
  command = `echo ${name} >> log; echo ${name}-result`,
): string {
  return `  - id: ${name}\n    run: ${JSON.stringify(command)}\n    capture: true\n${extra}`;
}

before(async () => {
  top = await mkdtemp(join(tmpdir(), "asyncjobs-journal-"));
});

after(async () => {
  await rm(top, { recursive: true, force: true });
});

describe("asyncjobs run --resume", () => {
  test("after a SIGKILL mid-run, runs only the jobs that had not succeeded, with the others' results kept", async () => {
    const space = await workspace(
      "killed",
      (dir) => `shell: true
cwd: ${dir}
jobs:
${job("a")}
${job("b", "    requires: a\n")}
${job("slow", "    requires: b\n", "echo slow >> log; echo waiting >&2; while [ ! -f fast ]; do sleep 0.05; done; echo slow-result")}
${job("d", "    requires: slow\n")}
${job("e")}
`,
    );
    const first = startCli(["run", space.file, "--plain", "--verbose"]);
    // Printed once "slow" has logged its name and waits.
    await waitForOutput(first, /\[slow\] waiting/);
    // e ends on its own; wait for its line too, so that what ran is known.
    await waitForOutput(first, /done\s+e/);
    first.child.kill("SIGKILL");
    const killed = await first.done;
    assert.equal(killed.signal, "SIGKILL");
    // The killed run's journal ends without a run-end record.
    const [killedFile] = space.runFiles();
    const records = parseJournal(readFileSync(killedFile!, "utf8")).records;
    assert.equal(records.at(-1)?.type === "run-end", false);
    await writeFile(join(space.dir, "fast"), "");
    // The orphaned "slow" command of the killed run ends now that "fast" exists.
    assert.deepEqual(space.ran(), ["a", "b", "e", "slow"]);

    const second = await cli("run", space.file, "--resume", "--plain");
    assert.equal(second.code, 0, second.stderr + second.stdout);
    assert.match(second.stdout, /resuming from run /);
    assert.deepEqual(space.ran(), ["d", "slow"]);
    assert.match(second.stdout, /resumed\s+a → a-result/);
    assert.match(second.stdout, /resumed\s+b → b-result/);
    assert.match(second.stdout, /resumed\s+e → e-result/);
    assert.match(second.stdout, /success, 5 jobs done in .* \(3 resumed\)/);
    const shown = await cli("show", space.file);
    assert.match(shown.stdout, /⚠ ☉ ↷\s+<a> \[\[ -> a-result\]\]/);
    assert.match(shown.stdout, /⚠ ☉ ☓\s+<d> \[\[ -> d-result\]\]/);
    assert.match(shown.stdout, /5 jobs: 2 done, 3 resumed/);
  });

  test("a changed command reruns that job and everything downstream of it, and nothing else", async () => {
    const yaml = (b: string) => (dir: string) =>
      `shell: true
cwd: ${dir}
jobs:
${job("a")}
${job("b", "    requires: a\n", `echo ${b} >> log; echo ${b}-result`)}
${job("c", "    requires: b\n")}
${job("d", "    requires: a\n")}
${job("e")}
`;
    const space = await workspace("changed", yaml("b"));
    assert.equal((await cli("run", space.file, "--plain")).code, 0);
    assert.deepEqual(space.ran(), ["a", "b", "c", "d", "e"]);
    await space.write(yaml("b2")(space.dir));
    const again = await cli("run", space.file, "--resume", "--plain");
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(space.ran(), ["b2", "c"]);
    // And once more: nothing changed, nothing runs.
    assert.equal((await cli("run", space.file, "--resume", "--plain")).code, 0);
    assert.deepEqual(space.ran(), []);
  });

  test("resumes from a journal torn mid-line, rerunning the job whose end was torn", async () => {
    const space = await workspace(
      "torn",
      (dir) => `shell: true
cwd: ${dir}
jobs:
${job("a")}
${job("b", "    requires: a\n")}
`,
    );
    assert.equal((await cli("run", space.file, "--plain")).code, 0);
    space.ran();
    const [file] = space.runFiles();
    const text = readFileSync(file!, "utf8");
    // Cut the file in the middle of b's end record (and drop the run's end).
    const at = text.indexOf('"key":"b","outcome":"done"');
    truncateSync(file!, Buffer.byteLength(text.slice(0, at + 10)));
    const listed = await cli("runs", space.file);
    assert.match(listed.stdout, /unfinished\s+2 jobs: 1 done, 1 not run/);
    const again = await cli("run", space.file, "--resume", "--plain");
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(space.ran(), ["b"]);
  });

  test("always starts services again", async () => {
    const space = await workspace(
      "service",
      (dir) => `shell: true
cwd: ${dir}
jobs:
  - id: server
    run: echo server >> log; echo listening; while true; do sleep 0.05; done
    forever: true
    readyWhen: listening
${job("client", "    requires: server\n")}
`,
    );
    assert.equal((await cli("run", space.file, "--plain")).code, 0);
    assert.deepEqual(space.ran(), ["client", "server"]);
    const again = await cli("run", space.file, "--resume", "--plain");
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(space.ran(), ["server"]);
    assert.match(again.stdout, /resumed\s+client/);
  });

  test("with no journal yet, runs everything and says so", async () => {
    const space = await workspace(
      "fresh",
      (dir) => `shell: true\ncwd: ${dir}\njobs:\n${job("a")}\n`,
    );
    const outcome = await cli("run", space.file, "--resume", "--plain");
    assert.equal(outcome.code, 0);
    assert.match(
      outcome.stdout,
      /no earlier run of .*flow\.yaml in its journal: running every job/,
    );
    assert.deepEqual(space.ran(), ["a"]);
  });
});

describe("asyncjobs runs and show", () => {
  test("print what the journal holds: each run's outcome and counts, a run's listing and failed output", async () => {
    const space = await workspace(
      "looking-back",
      (dir) => `shell: true
cwd: ${dir}
jobs:
${job("a")}
${job("b", "    requires: a\n", "echo b >> log; echo 'first words' >&2; echo 'last words' >&2; test -f fixed")}
${job("c", "    requires: b\n")}
`,
    );
    assert.equal((await cli("runs", space.file)).stdout.includes("no run recorded yet"), true);
    assert.equal((await cli("run", space.file, "--plain")).code, 1);
    await writeFile(join(space.dir, "fixed"), "");
    assert.equal((await cli("run", space.file, "--resume", "--plain")).code, 0);

    const runs = await cli("runs", space.file);
    assert.equal(runs.code, 0);
    const lines = runs.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /flow\.yaml: 2 runs in /);
    assert.match(lines[1]!, /^#\s+run\s+started\s+took\s+outcome\s+jobs$/);
    assert.match(
      lines[2]!,
      /^1\s+\d{8}-\d{6}-\d{3}-\d+-[0-9a-f]{4}\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S+\s+failed\s+3 jobs: 1 done, 1 failed, 1 not run$/,
    );
    assert.match(lines[3]!, /^2\s+\S+\s+.*\s+success\s+3 jobs: 2 done, 1 resumed$/);

    const first = await cli("show", space.file, "1");
    assert.equal(first.code, 0);
    assert.match(
      first.stdout,
      /^run 1 of .*flow\.yaml \(\S+\), started .*, took .*: failed \(a CRITICAL job has raised an exception\)\n/,
    );
    assert.match(first.stdout, /\n1 ⚠ ☉ ☓\s+<a> \[\[ -> a-result\]\]\n/);
    assert.match(
      first.stdout,
      /\n2 ⚠ ★ ☓\s+<b> !! CRIT\. EXC\. => CommandError: .*!! requires=\{1\}\n/,
    );
    assert.match(first.stdout, /\n3 ⚠\s+⚐\s+<c> \[not done\] requires=\{2\}\n/);
    assert.match(
      first.stdout,
      /\nb failed: CommandError: .*\n {2}\| first words\n {2}\| last words\n/,
    );

    const last = await cli("show", space.file);
    assert.match(last.stdout, /^run 2 of /);
    assert.match(last.stdout, /\n1 ⚠ ☉ ↷\s+<a> \[\[ -> a-result\]\]\n/);
    const byId = await cli("show", space.file, lines[3]!.split(/\s+/)[1]!);
    assert.equal(byId.stdout, last.stdout);
    const missing = await cli("show", space.file, "7");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no run number 7; the journal holds runs 1 to 2/);
  });

  test("two runs of one workflow at once each keep a journal of their own, whole", async () => {
    const space = await workspace(
      "together",
      (dir) => `shell: true
cwd: ${dir}
jobs:
${job("a")}
  - id: meet
    requires: a
    run: "touch here.$$; while [ $(ls here.* | wc -l) -lt 2 ]; do sleep 0.02; done; echo meet >> log"
${job("c", "    requires: meet\n")}
`,
    );
    const [one, two] = await Promise.all([
      cli("run", space.file, "--plain"),
      cli("run", space.file, "--plain"),
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    const files = space.runFiles();
    assert.equal(files.length, 2);
    for (const file of files) {
      const { records, torn } = parseJournal(readFileSync(file, "utf8"));
      assert.equal(torn, false);
      assert.deepEqual(
        records.map((record) => record.type + ("key" in record ? ` ${record.key}` : "")),
        [
          "run-start",
          "job-start a",
          "job-end a",
          "job-start meet",
          "job-end meet",
          "job-start c",
          "job-end c",
          "run-end",
        ],
      );
    }
  });
});

describe("asyncjobs run on a workflow module whose jobs cannot be told apart", () => {
  test("runs without a journal, says why, and refuses --resume", async () => {
    // Inside the repository, so that the module finds the packages.
    const dir = join(ROOT, "tmp", `journal-module-${process.pid}`);
    const { mkdir } = await import("node:fs/promises");
    await mkdir(dir, { recursive: true });
    try {
      const file = join(dir, "flow.mjs");
      await writeFile(
        file,
        'import { Job, Scheduler } from "asyncjobs";\n' +
          'export default new Scheduler(new Job(() => 1), new Job(() => 2, { label: "x" }));\n',
      );
      const plain = await cli("run", file, "--plain");
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(
        plain.stderr,
        /this run is not journaled: job "Job\[anonymous \(\.\.\.\)\]" has neither a key nor a label/,
      );
      assert.equal(existsSync(join(dir, ".asyncjobs")), false);
      const resumed = await cli("run", file, "--resume", "--plain");
      assert.equal(resumed.code, 2);
      assert.match(resumed.stderr, /cannot resume: job .* has neither a key nor a label/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
