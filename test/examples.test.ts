/**
 * The tutorial examples under examples/ run as real scripts and print what
 * the original's tutorial prints. Times are checked loosely (sleeps never end
 * early; a busy machine may make them end late), order strictly.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../", import.meta.url));

/** Runs an example; returns its lines, with `at(text)` the seconds of the first line containing text. */
async function example(name: string) {
  const { stdout } = await run(process.execPath, ["--import", "tsx", `examples/${name}.ts`], {
    cwd: root,
    timeout: 30_000,
    env: { ...process.env, ASYNCJOBS_ASCII: "0" },
  });
  const lines = stdout.trimEnd().split("\n");
  const find = (text: string): string => {
    const line = lines.find((candidate) => candidate.includes(text));
    assert.ok(line, `no line with ${JSON.stringify(text)} in:\n${stdout}`);
    return line;
  };
  const at = (text: string): number => {
    const match = /^(\d{3}\.\d{3}) /.exec(find(text));
    assert.ok(match, `no time on the line with ${JSON.stringify(text)}`);
    return Number(match[1]);
  };
  const index = (text: string): number => lines.findIndex((line) => line.includes(text));
  return { stdout, lines, find, at, index };
}

/** `value` is at least `low` (less a millisecond of rounding) and not absurdly late. */
function roughly(value: number, low: number, slack = 1.5): void {
  assert.ok(value >= low - 0.002, `${value} s should be at least ${low} s`);
  assert.ok(value <= low + slack, `${value} s should be near ${low} s`);
}

describe("tutorial examples", () => {
  it("(A) runs three independent jobs in parallel", async () => {
    const out = await example("a-parallel");
    for (const ms of [100, 200, 250]) roughly(out.at(`-> in_out(${ms})`), 0, 0.3);
    roughly(out.at("<- in_out(100)"), 0.1);
    roughly(out.at("<- in_out(200)"), 0.2);
    roughly(out.at("<- in_out(250)"), 0.25);
    assert.match(out.find("run() ->"), /true$/);
    assert.match(out.find("results:"), /results: 100 200 250$/);
    assert.match(out.find("<Job `a3`>"), /☓ {3}<Job `a3`> \[\[ -> 250\]\]$/);
  });

  for (const name of ["b-requirements", "b-sequence"]) {
    it(`(${name === "b-sequence" ? "B'" : "B"}) runs b2 after b1, b3 beside them`, async () => {
      const out = await example(name);
      roughly(out.at("-> b1"), 0, 0.3);
      roughly(out.at("-> b3"), 0, 0.3);
      assert.ok(out.at("-> b2") >= out.at("<- b1"));
      roughly(out.at("<- b1"), 0.1);
      roughly(out.at("<- b2"), 0.3);
      roughly(out.at("<- b3"), 0.25);
      assert.ok(out.index("<- b1") < out.index("-> b2"));
      assert.match(out.find("<Job `b2`>"), /requires=\{1\}$/);
    });
  }

  it("(C) ends when the posters are done and cancels the monitor", async () => {
    const out = await example("c-forever-monitor");
    assert.ok(out.index("c1 is done") < out.index("c2 is done"));
    assert.ok(out.index("c2 is done") < out.index("c3 is done"));
    assert.match(out.find("run() ->"), /true$/);
    assert.match(out.find("monitor cancelled"), /true$/);
    assert.match(out.find("<Job `monitor`>"), /⊗ ∞ <Job `monitor`> \[not done\]$/);
  });

  it("(D) times out after 250 ms: false when not critical, TimeoutError when critical", async () => {
    const out = await example("d-timeout");
    const relaxed = out.find("non-critical run()");
    assert.match(relaxed, /-> false: TIMED OUT after 250 ms$/);
    roughly(out.at("non-critical run()"), 0.25);
    assert.match(out.find("rejected with TimeoutError"), /true$/);
    assert.match(out.find("why():"), /TIMED OUT after 250 ms$/);
    assert.equal(out.lines.filter((line) => line.includes("tick 1")).length, 2);
  });

  it("(E) runs end after a non-critical failure, and resolves true", async () => {
    const out = await example("e-non-critical");
    assert.ok(out.index("-> boom") < out.index("-> end"));
    roughly(out.at("-> end"), 0.3);
    assert.match(out.find("run() ->"), /true$/);
    assert.match(out.find("<Job `boom`>"), /!! exception => Error:boom!!/);
  });

  it("(F) stops at a critical failure: end never starts, false", async () => {
    const out = await example("f-critical");
    assert.equal(out.index("-> end"), -1);
    assert.match(out.find("run() ->"), /false: a CRITICAL job has raised an exception$/);
    assert.match(out.find("end started"), /false$/);
    assert.match(out.find("<Job `boom`>"), /!! CRIT\. EXC\. => Error:boom!!/);
  });

  it("(G) runs eight 500 ms jobs four at a time in about 1 s", async () => {
    const out = await example("g-window");
    assert.match(out.find("at most"), /at most 4 jobs ran at once/);
    roughly(out.at("run() ->"), 1.0);
    for (const late of ["-> g5", "-> g6", "-> g7", "-> g8"]) roughly(out.at(late), 0.5);
  });

  it("(H) runs a nested diamond between two jobs, in order", async () => {
    const out = await example("h-nested");
    const order = [
      "<- main-start",
      "-> subj1",
      "<- subj1",
      "-> subj2",
      "-> subj3",
      "-> subj4",
      "-> main-end",
    ];
    const positions = order.map((text) => out.index(text));
    assert.ok(positions.every((position) => position >= 0));
    assert.ok(out.index("<- main-start") < out.index("-> subj1"));
    assert.ok(out.index("<- subj1") < Math.min(out.index("-> subj2"), out.index("-> subj3")));
    assert.ok(Math.max(out.index("<- subj2"), out.index("<- subj3")) < out.index("-> subj4"));
    assert.ok(out.index("<- subj4") < out.index("-> main-end"));
    roughly(out.at("-> subj3") - out.at("-> subj2"), 0, 0.3);
    assert.match(out.find("run() ->"), /true$/);
    assert.match(out.find("--end--"), /--end--/);
  });

  it("(I) retries a flaky job, runs the alert of a failure, skips the report", async () => {
    const out = await example("i-retries-and-triggers");
    assert.ok(out.index("attempt 1") < out.index("attempt 2"));
    assert.ok(out.index("attempt 2") < out.index("attempt 3"));
    assert.ok(out.at("attempt 2") - out.at("attempt 1") >= 0.049, "waits before a retry");
    assert.match(out.find("download:"), /1\.2 MB after 3 attempts$/);
    assert.match(out.find("report skipped"), /true$/);
    assert.equal(out.index("report: all good"), -1);
    assert.ok(out.index("alert:") > 0);
    assert.match(out.find("<Job `download`>"), /\(3 attempts\)/);
    assert.match(out.find("<Job `report`>"), /⊘/);
  });

  it("(J) starts clients once the service is ready, and stops it at the end", async () => {
    const out = await example("j-service");
    assert.ok(out.index("server listening") < out.index("GET /home"));
    assert.ok(out.index("GET /about") < out.index("summary:"));
    assert.match(out.find("slow request timed out"), /true$/);
    assert.match(out.find("server cancelled"), /true$/);
    assert.ok(out.index("server stopped") > 0);
    assert.match(out.find("run() ->"), /true$/);
  });

  it("(K) keeps weights within the window and the pool within its limit", async () => {
    const out = await example("k-weights-and-pools");
    assert.match(out.find("at most"), /at most 2 jobs used the db pool at once$/);
    assert.ok(out.index("<- lint") < out.index("-> backup"), "backup waits for a slot");
    assert.match(out.find("run() ->"), /true$/);
  });

  it("the demo runs a pipeline with a window, a failure and nesting, and exits 0", async () => {
    const out = await example("demo");
    assert.match(out.find("run() resolved"), /resolved true/);
    assert.ok(out.find("RAISED").includes("notify chat"));
    assert.ok(
      out.index("DONE 03") < out.index("STARTING 04"),
      "the third download waits for a slot",
    );
    assert.ok(out.index("DONE 06") < out.index("STARTING 10"), "publish waits for the build");
  });
});
