/**
 * A workflow file is trusted to say what to run, not to be well-formed: a
 * huge cycle, a huge chain, blank commands, endless durations, alias bombs,
 * ten thousand typos and escape sequences all get a report with positions
 * (and the command line's exit status 2), never a stack trace nor unbounded
 * work. Syntax errors are reported where the parser found them; JSON files
 * are read as JSON.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Job, Scheduler } from "asyncjobs";
import { hasControl, visible, WorkflowError } from "../src/diagnostics.js";
import { MAX_TIMEOUT_MS, parseDuration } from "../src/duration.js";
import { loadScheduler } from "../src/load-workflow.js";
import { buildWorkflow, parseWorkflow } from "../src/workflow-file.js";

/** The report of the mistakes in `source`, read as the file `name`; fails if it loads. */
function reportOf(name: string, source: string): { error: WorkflowError; report: string } {
  try {
    parseWorkflow(name, source);
  } catch (error) {
    assert.ok(error instanceof WorkflowError, `not a WorkflowError: ${(error as Error).stack}`);
    const report = error.report();
    assert.doesNotMatch(report, /\n\s+at /, "a stack trace in the report");
    return { error, report };
  }
  assert.fail(`${name} was accepted`);
}

/** `jobs:` of `count` commands, job i requiring `requires(i)`. */
function yamlJobs(count: number, requires: (index: number) => string | undefined): string {
  const lines = ["jobs:"];
  for (let index = 0; index < count; index++) {
    lines.push(`  - id: j${index}`, `    run: echo ${index}`);
    const required = requires(index);
    if (required !== undefined) lines.push(`    requires: ${required}`);
  }
  return `${lines.join("\n")}\n`;
}

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "asyncjobs-trust-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Loads `source` as the command line does (read, validate, build) from a file named `name`. */
async function load(name: string, source: string): Promise<Scheduler> {
  const file = join(dir, name);
  await writeFile(file, source);
  return (await loadScheduler({
    command: "check",
    file,
    verbose: false,
    ascii: false,
    plain: false,
    dryRun: false,
    details: false,
    quiet: false,
    resume: false,
  })) as Scheduler;
}

/** What loading `source` throws: a WorkflowError, and its report. */
async function loadFailure(name: string, source: string): Promise<string> {
  const error = await load(name, source).then(
    () => assert.fail(`${name} was accepted`),
    (error: unknown) => error,
  );
  assert.ok(error instanceof WorkflowError, `not a WorkflowError: ${(error as Error).stack}`);
  return error.report();
}

describe("a workflow file is not trusted to be well-formed", () => {
  test("a 10 000-job cycle is reported with its length, not a stack overflow", () => {
    const { error, report } = reportOf(
      "cycle.yaml",
      yamlJobs(10_000, (index) => `j${(index + 1) % 10_000}`),
    );
    assert.equal(error.diagnostics.length, 1);
    assert.match(
      report,
      /cycle\.yaml:\d+:5: cycle in requires: j\d+ → j\d+ → j\d+ → j\d+ → j\d+ → … → j\d+ → j\d+ \(a cycle of 10000 jobs\)\n/,
    );
  });

  test("a valid 10 000-job chain listed in reverse order loads, builds and runs in order", async () => {
    const count = 10_000;
    const workflow = parseWorkflow(
      "chain.yaml",
      yamlJobs(count, (index) => (index + 1 < count ? `j${index + 1}` : undefined)),
    );
    const scheduler = await buildWorkflow(workflow);
    assert.equal(scheduler.checkCycles(), true);
    const order = [...scheduler.topologicalOrder()].map((job) => job.label);
    assert.equal(order.length, count);
    assert.equal(order[0], `j${count - 1}`);
    assert.equal(order[count - 1], "j0");
  });

  test("the core checks a 10 000-job reverse chain and cycle built with the API iteratively", async () => {
    const count = 10_000;
    const finished: number[] = [];
    const jobs: Job[] = [];
    for (let index = 0; index < count; index++) {
      jobs.push(new Job(() => finished.push(index), { label: `j${index}` }));
    }
    for (let index = 0; index + 1 < count; index++) jobs[index]!.requires(jobs[index + 1]!);
    const scheduler = new Scheduler(...jobs, { critical: true });
    assert.equal(scheduler.checkCycles(), true);
    assert.equal(await scheduler.run(), true);
    assert.equal(finished.length, count);
    assert.equal(finished[0], count - 1);
    assert.equal(finished[count - 1], 0);
    const ring = jobs.map((_, index) => new Job(() => index, { label: `r${index}` }));
    for (const [index, job] of ring.entries()) job.requires(ring[(index + 1) % count]!);
    const cyclic = new Scheduler(...ring);
    assert.equal(cyclic.checkCycles(), false);
    assert.throws(() => [...cyclic.topologicalOrder()], /cycle/);
  });

  test("a 100 000-job cycle's message names its first jobs and its length, in a few lines", () => {
    const count = 100_000;
    const jobs = Array.from(
      { length: count },
      (_, index) => `{"id": "j${index}", "run": "echo", "requires": "j${(index + 1) % count}"}`,
    );
    const { report } = reportOf("cycle.json", `{"jobs": [\n${jobs.join(",\n")}\n]}\n`);
    assert.ok(report.length < 2000, `a report of ${report.length} characters`);
    assert.match(report, /\(a cycle of 100000 jobs\)/);
    assert.match(report, /1 mistake found/);
  });

  test('run: "   " is a mistake at its position, not a crash when the job is built', async () => {
    const report = await loadFailure("blank.yaml", 'jobs:\n  - id: a\n    run: "   "\n');
    assert.match(report, /blank\.yaml:3:10: the command is empty\n {2}3 \| {5}run: " {3}"\n/);
  });

  test("a duration too long for a timer is a mistake, not Infinity nor a timeout that fires at once", async () => {
    const digits = await loadFailure(
      "timeout.yaml",
      `timeout: ${"9".repeat(400)}h\njobs:\n  - id: a\n    run: echo\n`,
    );
    assert.match(digits, /timeout\.yaml:1:10: a timeout must be at most 596h31m/);
    assert.ok(digits.length < 1000, `a report of ${digits.length} characters`);
    const hours = await loadFailure(
      "hours.yaml",
      "jobs:\n  - id: a\n    run: echo\n    timeout: 1000h\n",
    );
    assert.match(hours, /hours\.yaml:4:14: a timeout must be at most 596h31m/);
    assert.equal(parseDuration("596h"), 596 * 3_600_000);
    const delay = await loadFailure(
      "delay.yaml",
      "jobs:\n  - id: a\n    run: echo\n    retry: { retries: 1, delay: 600h }\n",
    );
    assert.match(delay, /delay\.yaml:4:33: a delay must be at most 596h31m/);
    const limit = await load("limit.yaml", `timeout: ${MAX_TIMEOUT_MS}ms\njobs:\n  - run: echo\n`);
    assert.equal(limit.timeout, MAX_TIMEOUT_MS);
  });

  test("a billion-laughs alias bomb is refused at its first alias", () => {
    const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    let previous = "a";
    for (const name of "bcdefghi") {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`);
      previous = name;
    }
    lines.push("jobs:", "  - id: x", "    run: echo");
    const { report } = reportOf("bomb.yaml", `${lines.join("\n")}\n`);
    assert.match(report, /bomb\.yaml:2:8: the aliases \(\*name\) of this file expand too much/);
  });

  test("aliases a workflow uses for what they are for still work", () => {
    const workflow = parseWorkflow(
      "aliases.yaml",
      "jobs:\n  - id: a\n    run: &cmd [node, -e, '0']\n  - id: b\n    run: *cmd\n  - id: c\n    run: *cmd\n",
    );
    assert.deepEqual(workflow.spec.jobs[2]!.run, ["node", "-e", "0"]);
  });

  test("10 000 misspelled requirements are reported quickly, the first ones with a suggestion", {
    timeout: 60_000,
  }, () => {
    const { error, report } = reportOf(
      "typos.yaml",
      yamlJobs(10_000, (index) => `jb${index}`).replaceAll("id: j", "id: job"),
    );
    assert.equal(error.diagnostics.length, 10_000);
    assert.match(report, /unknown requirement "jb0": no job has this id \(did you mean "job0"\?\)/);
    assert.match(report, /… and 9900 more not shown\n/);
    assert.match(report, /10000 mistakes found; nothing was run\.\n$/);
  });

  test("escape sequences and other control characters from the file are shown escaped", () => {
    const source = [
      "jobs:",
      '  - id: "a\\e[31mred"',
      "    run: echo",
      '    requires: "\\e]0;pwned\\a"',
      '    "bad\\u202ekey": 1',
      "  - id: b\x1b[2J",
      "    run: [echo]",
      '    requires: "b\\x9b2J"',
      "  - id: c",
      "    run: echo",
      "    requires: nope\x1b[2J",
      "",
    ].join("\n");
    const { report } = reportOf("esc\x1b[1m.yaml", source);
    // Nothing that acts on a terminal: line breaks only.
    assert.equal(hasControl(report), false);
    assert.equal(hasControl("\x1b"), true);
    assert.match(report, /esc\\x1b\[1m\.yaml:4:15: unknown requirement "\\x1b\]0;pwned\\x07"/);
    assert.match(report, /unknown key "bad\\u202ekey" in a job/);
    assert.match(report, /unknown requirement "b\\x9b2J"/);
    // The code frame escapes the line too, and its caret still points at the mistake.
    assert.match(report, /11:15: unknown requirement "nope\\x1b\[2J"/);
    assert.match(report, / {2}11 \| {5}requires: nope\\x1b\[2J\n {5}\| {15}\^{11}\n/);
    assert.equal(visible("a\tb\nc\u2028"), "a\\tb\\nc\\u2028");
    assert.equal(visible("a\nb", true), "a\nb");
  });

  test("labels, ids and command lines from the file reach the views escaped", async () => {
    const workflow = parseWorkflow(
      "labels\x1b.yaml",
      [
        "jobs:",
        '  - label: "red\\e[31m"',
        "    run: echo",
        '  - id: "id\\e]0;title\\a"',
        '    run: "echo \\"\\e[2J\\""',
        '  - run: ["echo", "\\u202e"]',
        '  - id: "group\\e"',
        "    jobs:",
        "      - run: echo",
        "",
      ].join("\n"),
    );
    const scheduler = await buildWorkflow(workflow);
    // The top scheduler, whether iterateJobs() yields it or not, then its jobs.
    const jobs = new Set([scheduler, ...scheduler.iterateJobs({ scanSchedulers: true })]);
    const shown = [...jobs].map((job) => job.label ?? job.textLabel() ?? "");
    assert.deepEqual(shown, [
      "labels\\x1b.yaml",
      "red\\x1b[31m",
      "id\\x1b]0;title\\x07",
      "echo '\\u202e'",
      "group\\x1b",
      "echo",
    ]);
  });

  test("mistakes found while building the jobs are reported at the key at fault", async () => {
    const missing = await loadFailure(
      "inventory.yaml",
      "hosts: nowhere.yaml\njobs:\n  - run: echo\n",
    );
    assert.match(
      missing,
      /inventory\.yaml:1:8: .*nowhere\.yaml: cannot read the hosts inventory.*\n {2}1 \| hosts: nowhere\.yaml\n {4}\| {8}\^{12}\n/,
    );
    const target = await loadFailure(
      "target.yaml",
      'jobs:\n  - id: g\n    on: "bad host"\n    jobs:\n      - id: inner\n        run: echo\n',
    );
    assert.match(target, /target\.yaml:3:9: job inner: not an SSH target: "bad host"/);
  });

  test("a caret under an escaped line still points at the mistake", () => {
    const { report } = reportOf(
      "caret.yaml",
      'jobs:\n  - id: "\\e\\e"\n    run: echo\n    requires: [x\x1b, nope]\n',
    );
    const lines = report.split("\n");
    const at = lines.findIndex((line) => line.includes('unknown requirement "nope"'));
    const frame = lines[at + 1]!;
    const caret = lines[at + 2]!;
    assert.equal(frame.indexOf("nope"), caret.indexOf("^"));
    assert.match(caret, /\| +\^{4}$/);
  });

  test("a name a million characters long is cut short in messages and code frames", () => {
    const long = "x".repeat(1_000_000);
    const { report } = reportOf(
      "long.yaml",
      `jobs:\n  - id: a\n    run: echo\n    requires: ${long}\n`,
    );
    assert.ok(report.length < 1000, `a report of ${report.length} characters`);
    assert.match(report, /unknown requirement "x{60}…"/);
  });

  test("groups nested too deep for a stack are a mistake", () => {
    const depth = 2000;
    const json = `${'{"jobs": ['.repeat(depth)}{"run": "echo"}${"]}".repeat(depth)}`;
    const { report } = reportOf("deep.json", json);
    assert.match(report, /deep\.json:1:\d+: nested more than 200 levels deep/);
    const yaml = `jobs: ${"[".repeat(depth)}${"]".repeat(depth)}\n`;
    const deep = reportOf("deep.yaml", yaml);
    assert.ok(deep.error.diagnostics.length <= 10);
  });
});

describe("syntax errors are reported where the parser found them", () => {
  const cases: [string, string, RegExp][] = [
    [
      "a duplicate key on line 4",
      "jobs:\n  - id: a\n    run: echo\n    run: echo again\n",
      /dup\.yaml:4:5: Map keys must be unique\n {2}4 \| {5}run: echo again\n {4}\| {5}\^\n/,
    ],
    [
      "a tab as indentation",
      "jobs:\n  - id: a\n\trun: echo\n",
      /dup\.yaml:3:1: Tabs are not allowed as indentation\n {2}3 \| \\trun: echo\n {4}\| \^\^/,
    ],
    [
      "an unclosed [",
      "jobs:\n  - id: a\n    run: [echo, hi\n  - id: b\n    run: echo\n",
      /dup\.yaml:4:3: Flow sequence in block collection must be sufficiently indented and end with a \]\n {2}4 \| {3}- id: b\n {4}\| {3}\^/,
    ],
    [
      "a mis-indented requires:",
      "jobs:\n  - id: a\n    run: echo\n      requires: b\n",
      /dup\.yaml:3:10: Nested mappings are not allowed in compact mappings\n {2}3 \| {5}run: echo\n {4}\| {10}\^/,
    ],
    [
      "a second document",
      "jobs:\n  - run: echo\n---\njobs:\n  - run: echo\n",
      /dup\.yaml:3:1: a second YAML document starts here: a workflow file holds one\n {2}3 \| ---\n/,
    ],
  ];
  for (const [what, source, expected] of cases) {
    test(what, () => {
      const { report } = reportOf("dup.yaml", source);
      assert.match(report, expected);
      assert.doesNotMatch(report, /:1:1:/);
    });
  }
});

describe("a JSON workflow is read as JSON, with positions", () => {
  test("a valid file loads", () => {
    const workflow = parseWorkflow(
      "ok.json",
      '{\n  "window": 2,\n  "jobs": [\n    { "id": "a", "run": ["echo", "\\u0041"] },\n    { "id": "b", "run": "echo", "requires": "a" }\n  ]\n}\n',
    );
    assert.deepEqual(workflow.spec.jobs[0]!.run, ["echo", "A"]);
    assert.equal(workflow.spec.window, 2);
  });

  const cases: [string, string, RegExp][] = [
    [
      "a trailing comma",
      '{\n  "jobs": [\n    { "id": "a", "run": "echo" },\n  ]\n}\n',
      /bad\.json:3:33: a comma before "\]": JSON allows no trailing comma\n {2}3 \| {5}\{ "id": "a", "run": "echo" \},\n {4}\| {33}\^\n/,
    ],
    [
      "a comment",
      '{\n  // the jobs\n  "jobs": []\n}\n',
      /bad\.json:2:3: expected a key in double quotes, got a comment \(JSON has none\)/,
    ],
    [
      "single quotes",
      "{\"jobs\": [{'id': 'a'}]}",
      /bad\.json:1:12: expected a key in double quotes, got a single quote/,
    ],
    [
      "a duplicate key",
      '{\n  "jobs": [],\n  "jobs": []\n}\n',
      /bad\.json:3:3: duplicate key "jobs"\n {2}3 \| {3}"jobs": \[\]\n {4}\| {3}\^{6}\n/,
    ],
    ["a bare word", '{"jobs": [{"run": echo}]}', /bad\.json:1:19: expected a value/],
    [
      "an unterminated string",
      '{"jobs": [{"run": "echo}]}\n',
      /bad\.json:1:19: a string that does not end/,
    ],
    [
      "text after the value",
      '{"jobs": []} {}',
      /bad\.json:1:14: "\{" after the end of the JSON value/,
    ],
    ["an empty file", "", /bad\.json:1:1: expected a value .*, got the end of the file/],
  ];
  for (const [what, source, expected] of cases) {
    test(`${what} is a syntax error at its line and column`, () => {
      const { report } = reportOf("bad.json", source);
      assert.match(report, expected);
    });
  }

  test("schema mistakes are reported at the key or value at fault", () => {
    const { report } = reportOf(
      "schema.json",
      '{\n  "jobs": [\n    { "id": "a", "run": 12, "requries": "b" },\n    { "id": "b", "run": "x | y" }\n  ]\n}\n',
    );
    assert.match(report, /schema\.json:3:25: expected a command line/);
    assert.match(
      report,
      /schema\.json:3:29: unknown key "requries" in a job \(did you mean "requires"\?\)\n.*\n {4}\| {29}\^{10}\n/,
    );
    assert.match(report, /schema\.json:4:28: "\|" means something only to a shell/);
  });
});
