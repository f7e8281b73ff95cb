/**
 * Workflow files, mutated: the example workflows of examples/ (in YAML and
 * as JSON) and the malformed files of workflow-trust.test.ts, cut, spliced
 * and sprinkled with what YAML and JSON give meaning to. Whatever comes out,
 * the loader answers with a report (a WorkflowError, which the command line
 * prints and exits 2 for) or with a workflow that builds; never another
 * error, a stack trace, a control character on the terminal, or a report of
 * unbounded size. Most cases run in this process; a sample runs the real
 * command line.
 *
 * `ASYNCJOBS_PROPERTY_RUNS` scales it (two mutations per property run, 400
 * by default); `ASYNCJOBS_PROPERTY_SEED` replays.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { parse } from "yaml";
import { propertyParameters, propertyRuns } from "../../core/test/support/property-config.js";
import { hasControl, WorkflowError } from "../src/diagnostics.js";
import { buildWorkflow, parseWorkflow } from "../src/workflow-file.js";
import { cli } from "./cli-program.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const EXAMPLES = join(ROOT, "examples");

/** A seed file: its name (the extension picks the parser) and text. */
interface Seed {
  name: string;
  text: string;
}

function chain(count: number, cyclic: boolean): string {
  const lines = ["jobs:"];
  for (let index = 0; index < count; index++) {
    lines.push(`  - id: j${index}`, `    run: echo ${index}`);
    if (index + 1 < count || cyclic) lines.push(`    requires: j${(index + 1) % count}`);
  }
  return `${lines.join("\n")}\n`;
}

function aliasBomb(): string {
  const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  let previous = "a";
  for (const name of "bcdefghi") {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`);
    previous = name;
  }
  return `${lines.join("\n")}\njobs:\n  - id: x\n    run: echo\n`;
}

function seeds(): Seed[] {
  const found: Seed[] = [];
  for (const name of readdirSync(EXAMPLES).sort()) {
    if (!name.endsWith(".yaml")) continue;
    const text = readFileSync(join(EXAMPLES, name), "utf8");
    found.push({ name, text });
    found.push({
      name: name.replace(/\.yaml$/, ".json"),
      text: JSON.stringify(parse(text), null, 2),
    });
  }
  // Malformed on purpose, for the documentation.
  for (const name of readdirSync(join(EXAMPLES, "malformed")).sort()) {
    found.push({
      name: `malformed/${name}`,
      text: readFileSync(join(EXAMPLES, "malformed", name), "utf8"),
    });
  }
  found.push(
    { name: "cycle.yaml", text: chain(40, true) },
    { name: "reverse-chain.yaml", text: chain(40, false) },
    { name: "blank.yaml", text: 'jobs:\n  - id: a\n    run: "   "\n' },
    {
      name: "timeout.yaml",
      text: `timeout: ${"9".repeat(400)}h\njobs:\n  - id: a\n    run: echo\n`,
    },
    { name: "bomb.yaml", text: aliasBomb() },
    {
      name: "escapes.yaml",
      text: 'jobs:\n  - id: "a\\e[31m"\n    run: echo\n    requires: "\\e]0;x\\a"\n  - id: b\x1b[2J\n    run: [x]\n',
    },
    {
      name: "typos.yaml",
      text: chain(30, false).replaceAll("requires: j", "requires: jb"),
    },
  );
  return found;
}

/** What YAML and JSON give meaning to, and what the checks look for. */
const TOKENS = [
  ":",
  ": ",
  "- ",
  "-",
  "[",
  "]",
  "{",
  "}",
  ",",
  "&a ",
  "*a",
  "<<: *a",
  "!!str ",
  "!!binary ",
  "!custom ",
  "? ",
  "|",
  ">",
  "#",
  "---\n",
  "...\n",
  "%YAML 1.1\n",
  '"',
  "'",
  "\\",
  "\\u",
  "\t",
  "\n",
  "\r\n",
  "  ",
  "\x1b[2J",
  "\u202e",
  "\u0000",
  "\ufeff",
  "9".repeat(400),
  "h",
  "1e400",
  "-1",
  "0.5",
  "null",
  "true",
  "~",
  ".inf",
  "__proto__",
  "constructor",
  "jobs:",
  "jobs: []",
  "run: ",
  "id: ",
  "requires: ",
  "requires: [a, a]",
  "timeout: ",
  "window: ",
  "weight: 1000",
  "pool: p",
  "pools: {p: 1}",
  "retry: {retries: 2, delay: 1h}",
  "trigger: oneFailed",
  "shell: true",
  "on: host",
  "via: [a, b]",
  "readyWhen: x",
  "forever: true",
  '"run": ',
  '"jobs": [',
  '"requires": "j0"',
];

type Mutation =
  | { kind: "delete"; at: number; length: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "duplicate"; at: number; length: number; to: number }
  | { kind: "line"; from: number; to: number }
  | { kind: "indent"; line: number; by: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...TOKENS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 8, unit: "binary" }) },
    ),
  }),
  fc.record({
    kind: fc.constant("duplicate" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 200 }),
    to: fc.nat(),
  }),
  fc.record({ kind: fc.constant("line" as const), from: fc.nat(), to: fc.nat() }),
  fc.record({
    kind: fc.constant("indent" as const),
    line: fc.nat(),
    by: fc.integer({ min: -4, max: 4 }),
  }),
);

function mutate(text: string, change: Mutation): string {
  const size = Math.max(1, text.length);
  switch (change.kind) {
    case "delete": {
      const at = change.at % size;
      return text.slice(0, at) + text.slice(at + change.length);
    }
    case "insert": {
      const at = change.at % (text.length + 1);
      return text.slice(0, at) + change.text + text.slice(at);
    }
    case "duplicate": {
      const at = change.at % size;
      const piece = text.slice(at, at + change.length);
      const to = change.to % (text.length + 1);
      return text.slice(0, to) + piece + text.slice(to);
    }
    case "line": {
      const lines = text.split("\n");
      lines[change.to % lines.length] = lines[change.from % lines.length]!;
      return lines.join("\n");
    }
    case "indent": {
      const lines = text.split("\n");
      const index = change.line % lines.length;
      const line = lines[index]!;
      lines[index] =
        change.by >= 0
          ? " ".repeat(change.by) + line
          : line.replace(new RegExp(`^ {0,${-change.by}}`), "");
      return lines.join("\n");
    }
  }
}

const SEEDS = seeds();

/** A seed, mutated one to five times. */
const mutatedFile: fc.Arbitrary<Seed> = fc
  .tuple(fc.nat({ max: SEEDS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 5 }))
  .map(([index, changes]) => {
    const seed = SEEDS[index]!;
    return { name: seed.name, text: changes.reduce(mutate, seed.text) };
  });

/** The largest report allowed: a hundred mistakes with their code frames, and a little more. */
const REPORT_LIMIT = 100 * 3 * 200 + 1000;

interface Verdict {
  valid: boolean;
  report: string;
}

/** Loads a file as the command line does, in this process; fails on anything but a report or a workflow. */
async function verdict(seed: Seed): Promise<Verdict> {
  // In examples/, so that hosts: finds the inventory beside it.
  const file = join(EXAMPLES, seed.name);
  try {
    const workflow = parseWorkflow(file, seed.text);
    const scheduler = await buildWorkflow(workflow);
    // What the checks accepted, the core must accept too.
    assert.equal(scheduler.checkCycles(), true, "a workflow that passed the checks has a cycle");
    return { valid: true, report: "" };
  } catch (error) {
    if (!(error instanceof WorkflowError)) {
      throw new Error(`not a report but ${(error as Error).stack}`);
    }
    const report = error.report();
    assert.doesNotMatch(report, /\n\s+at /, "a stack trace in the report");
    assert.equal(hasControl(report), false, `a control character in ${JSON.stringify(report)}`);
    assert.ok(report.length <= REPORT_LIMIT, `a report of ${report.length} characters`);
    return { valid: false, report };
  }
}

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "asyncjobs-fuzz-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("mutated workflow files", () => {
  test("every seed is what it should be: the examples valid, the malformed files reported", async () => {
    for (const seed of SEEDS) {
      // The inventory is not a workflow; broken-workflow.yaml shows a report.
      const expected =
        !/^(malformed\/|(ssh-hosts|broken-workflow|cycle|blank|timeout|bomb|escapes|typos)\.)/.test(
          seed.name,
        );
      assert.equal((await verdict(seed)).valid, expected, seed.name);
    }
  });

  test(`${propertyRuns * 2} mutations: a report or a workflow, never a crash`, async (context) => {
    let valid = 0;
    let invalid = 0;
    await fc.assert(
      fc.asyncProperty(mutatedFile, mutatedFile, async (first, second) => {
        for (const file of [first, second]) {
          if ((await verdict(file)).valid) valid++;
          else invalid++;
        }
      }),
      propertyParameters(),
    );
    context.diagnostic(`${valid + invalid} mutated files: ${invalid} reported, ${valid} valid`);
    assert.ok(invalid > 0);
  });

  test("a sample through the real command line: exit 2 and a report for each invalid file", async (context) => {
    const count = Math.min(40, Math.max(8, Math.round(propertyRuns / 25)));
    const sample = fc.sample(mutatedFile, {
      numRuns: count,
      seed: (propertyParameters().seed ?? 0) + 1,
    });
    // The cases of workflow-trust.test.ts, as they are, go through it too.
    sample.push(...SEEDS.filter((seed) => !/^(ci|service|ssh|broken)-/.test(seed.name)));
    let reported = 0;
    const outcomes: string[] = [];
    // Two at a time: a small machine runs the other tests too.
    for (let index = 0; index < sample.length; index += 2) {
      await Promise.all(
        sample.slice(index, index + 2).map(async (seed, offset) => {
          const expected = await verdict(seed);
          const file = join(dir, `${index + offset}-${seed.name.replace("/", "-")}`);
          await writeFile(file, seed.text);
          const { code, stderr } = await cli("check", file);
          outcomes.push(`${seed.name}: ${code}`);
          assert.doesNotMatch(stderr, /\n\s+at /, `a stack trace for ${seed.name}: ${stderr}`);
          assert.equal(hasControl(stderr), false);
          if (expected.valid) {
            // Valid in examples/ may still miss its hosts inventory elsewhere.
            assert.ok(code === 0 || code === 2, `${seed.name}: exit ${code}`);
          } else {
            assert.equal(code, 2, `${seed.name}: exit ${code}\n${stderr}`);
            reported++;
          }
        }),
      );
    }
    context.diagnostic(
      `${sample.length} files through the command line: ${reported} reported with exit 2, 0 stack traces`,
    );
  });
});
