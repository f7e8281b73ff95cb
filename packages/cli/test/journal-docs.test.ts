/**
 * docs/journal.md shows a real transcript of a run, a fix and a resume of
 * examples/resume-workflow.yaml, kept in docs/listings/resume-transcript.txt
 * (docs.test.ts checks that the page shows that file). This runs it again
 * and compares, timings, dates and run ids aside. `UPDATE_DOCS=1` writes
 * the fresh transcript into the file instead.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CLI } from "./cli-program.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const LISTING = join(ROOT, "docs", "listings", "resume-transcript.txt");

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

describe("docs/journal.md", () => {
  it("shows the transcript that examples/resume-workflow.yaml gives", () => {
    const fresh = transcript();
    if (process.env.UPDATE_DOCS === "1") {
      writeFileSync(LISTING, fresh);
      return;
    }
    assert.equal(normalise(readFileSync(LISTING, "utf8")), normalise(fresh));
  });
});
