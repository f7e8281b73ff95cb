/**
 * docs/journal.md shows a real transcript of a run, a fix and a resume of
 * examples/resume-workflow.yaml. This runs it again and compares, timings,
 * dates and run ids aside. `UPDATE_DOCS=1` writes the fresh transcript into
 * the page instead.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CLI } from "./cli-program.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PAGE = join(ROOT, "docs", "journal.md");
const START = "<!-- resume-transcript:start -->";
const END = "<!-- resume-transcript:end -->";

/** Node's arguments for the command line, usable from any folder. */
const program = CLI.map((arg) =>
  arg === "tsx"
    ? import.meta.resolve("tsx")
    : arg.startsWith("-") || isAbsolute(arg)
      ? arg
      : join(ROOT, arg),
);

/** Runs the commands of the transcript in a fresh folder; returns the transcript. */
function transcript(): string {
  const dir = mkdtempSync(join(tmpdir(), "asyncjobs-resume-doc-"));
  try {
    copyFileSync(join(ROOT, "examples", "resume-workflow.yaml"), join(dir, "ci.yaml"));
    let text = "";
    const statuses: (number | null)[] = [];
    const run = (...args: string[]): void => {
      const result = spawnSync(process.execPath, [...program, ...args], {
        cwd: dir,
        encoding: "utf8",
        // From another folder, tsx finds the sources through the repository's paths.
        env: {
          ...process.env,
          NO_COLOR: "1",
          ASYNCJOBS_ASCII: "0",
          TSX_TSCONFIG_PATH: join(ROOT, "tsconfig.json"),
        },
      });
      statuses.push(result.status);
      text += `$ asyncjobs ${args.join(" ")}\n${result.stdout}${result.stderr}`;
    };
    run("run", "ci.yaml", "--plain", "--quiet");
    writeFileSync(join(dir, "tests-fixed"), "");
    text += "$ touch tests-fixed\n";
    run("run", "ci.yaml", "--resume", "--plain", "--quiet");
    run("runs", "ci.yaml");
    run("show", "ci.yaml", "2");
    assert.deepEqual(statuses, [1, 0, 0, 0], text);
    return text;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The transcript without what changes from one run to the next. */
function normalise(text: string): string {
  return text
    .replace(/\d{8}-\d{6}-\d{3}-\d+-[0-9a-f]{4}/g, "RUN-ID")
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, "DATE")
    .replace(/^\d{3}\.\d{3} /gm, "TIME ")
    .replace(/\b\d+(\.\d+)?(ms|s)\b/g, "DURATION")
    .replace(/ +/g, " ")
    .trimEnd();
}

function pageBlock(page: string): string {
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  assert.ok(start >= 0 && end > start, `docs/journal.md lacks ${START} ... ${END}`);
  return page
    .slice(start + START.length, end)
    .replace(/^\s*```text\n/, "")
    .replace(/```\s*$/, "");
}

describe("docs/journal.md", () => {
  it("shows the transcript that examples/resume-workflow.yaml gives", () => {
    const fresh = transcript();
    const page = readFileSync(PAGE, "utf8");
    if (process.env.UPDATE_DOCS === "1") {
      const start = page.indexOf(START);
      const end = page.indexOf(END);
      writeFileSync(
        PAGE,
        `${page.slice(0, start + START.length)}\n\`\`\`text\n${fresh}\`\`\`\n${page.slice(end)}`,
      );
      return;
    }
    assert.equal(normalise(pageBlock(page)), normalise(fresh));
  });
});
