/**
 * The four-symbol badge, in every combination of lifecycle × outcome ×
 * critical × forever (as the original's display test builds them), in
 * Unicode and in ASCII; then the same badges reached by a real windowed run.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { type AbstractJob, Job, PureScheduler } from "asyncjobs";
import { DONE, IDLE, RUNNING, SCHEDULED } from "../src/jobs/state.js";
import { ASCII_SYMBOLS, UNICODE_SYMBOLS } from "../src/presentation/symbols.js";
import { captureText } from "./presentation-capture.js";
import { gatedJob, ticks } from "./support.js";

const STATES = { idle: IDLE, scheduled: SCHEDULED, running: RUNNING, done: DONE } as const;
type StateName = keyof typeof STATES;

/** What each position shows, written out from the legend rather than computed like the code. */
const EXPECTED = {
  unicode: {
    critical: ["⚠", " "],
    lifecycle: { idle: "⚐", scheduled: "⚑", running: "↺", done: "☓" },
    raised: "★",
    fine: "☉",
    noOutcome: " ",
    forever: ["∞", " "],
  },
  ascii: {
    critical: ["!", " "],
    lifecycle: { idle: ">", scheduled: ".", running: "o", done: "x" },
    raised: ":(",
    fine: ":)",
    noOutcome: "  ",
    forever: ["8", " "],
  },
} as const;

/** A job put in the given state by hand, as the original's display test does with fake tasks. */
function jobIn(state: StateName, raised: boolean, critical: boolean, forever: boolean) {
  const job = new Job(() => 0, {
    label: `${state} raised=${raised} critical=${critical} forever=${forever}`,
    critical,
    forever,
  });
  job._state = STATES[state];
  job._raised = raised;
  job._outcome = raised ? new Error("boom") : 0;
  return job;
}

function expectedBadge(
  kind: "unicode" | "ascii",
  state: StateName,
  raised: boolean,
  critical: boolean,
  forever: boolean,
): string {
  const symbols = EXPECTED[kind];
  // An exception is only known (and shown) once the job is done.
  let outcome: string = symbols.noOutcome;
  if (state === "done" && raised) outcome = symbols.raised;
  else if (state === "running" || state === "done") outcome = symbols.fine;
  return [
    symbols.critical[critical ? 0 : 1],
    outcome,
    symbols.lifecycle[state],
    symbols.forever[forever ? 0 : 1],
  ].join(" ");
}

const saved = process.env.ASYNCJOBS_ASCII;
afterEach(() => {
  if (saved === undefined) delete process.env.ASYNCJOBS_ASCII;
  else process.env.ASYNCJOBS_ASCII = saved;
});

describe("the status badge", () => {
  for (const kind of ["unicode", "ascii"] as const) {
    describe(kind, () => {
      beforeEach(() => {
        process.env.ASYNCJOBS_ASCII = kind === "ascii" ? "1" : "0";
      });

      it("shows every combination of lifecycle × outcome × critical × forever", async () => {
        const jobs: [AbstractJob, string][] = [];
        for (const state of Object.keys(STATES) as StateName[]) {
          for (const raised of [true, false]) {
            for (const critical of [true, false]) {
              for (const forever of [true, false]) {
                const job = jobIn(state, raised, critical, forever);
                const badge = expectedBadge(kind, state, raised, critical, forever);
                assert.equal(job.reprShort(), badge, String(job.label));
                assert.equal(badge.length, kind === "ascii" ? 8 : 7);
                jobs.push([job, badge]);
              }
            }
          }
        }
        assert.equal(jobs.length, 32);
        // A listing of all of them shows each badge after its id, chained by requirements.
        for (let index = 1; index < jobs.length; index++)
          jobs[index]![0].requires(jobs[index - 1]![0]);
        const scheduler = new PureScheduler(...jobs.map(([job]) => job));
        const text = await captureText(() => scheduler.list());
        const lines = text.trimEnd().split("\n");
        assert.equal(lines.length, 32);
        jobs.forEach(([job, badge], index) => {
          const id = String(index + 1).padStart(2, "0");
          assert.equal(job.reprId(), id);
          assert.ok(lines[index]!.startsWith(`${id} ${badge} <Job \``), lines[index]);
        });
      });

      it("names exceptions of critical and non-critical jobs apart", () => {
        assert.equal(
          jobIn("done", true, true, false).reprResult(),
          "!! CRIT. EXC. => Error:boom!!",
        );
        assert.equal(
          jobIn("done", true, false, false).reprResult(),
          "!! exception => Error:boom!!",
        );
        assert.equal(jobIn("done", false, true, false).reprResult(), "[[ -> 0]]");
        for (const state of ["idle", "scheduled", "running"] as const) {
          assert.equal(jobIn(state, false, true, false).reprResult(), "[not done]");
        }
      });
    });
  }

  it("uses the original's symbols, plus one each for skipped, cancelled and resumed jobs", () => {
    const {
      skipped: unicodeSkipped,
      cancelled: unicodeCancelled,
      resumed: unicodeResumed,
      ...unicode
    } = UNICODE_SYMBOLS;
    const {
      skipped: asciiSkipped,
      cancelled: asciiCancelled,
      resumed: asciiResumed,
      ...ascii
    } = ASCII_SYMBOLS;
    assert.deepEqual(
      Object.values(unicode).join(""),
      ["⚠", "★", "☉", "⚐", "⚑", "↺", "☓", "∞"].join(""),
    );
    assert.deepEqual(
      Object.values(ascii).join(" "),
      ["!", ":(", ":)", ">", ".", "o", "x", "8"].join(" "),
    );
    assert.equal(unicodeSkipped, "⊘");
    assert.equal(asciiSkipped, "-");
    assert.equal(unicodeCancelled, "⊗");
    assert.equal(asciiCancelled, "/");
    assert.equal(unicodeResumed, "↷");
    assert.equal(asciiResumed, "=");
  });

  it("follows a real windowed run: idle, scheduled, running, done, raised", async () => {
    process.env.ASYNCJOBS_ASCII = "0";
    const first = gatedJob<string>("first");
    // blocker holds the other slot, and keeps the run going while after runs:
    // once every non-forever job is done, the run ends and starts nothing more.
    const blocker = gatedJob<string>("blocker");
    const second = gatedJob<string>("second", { critical: false });
    // after requires both, so that which job takes the slot next never depends on queue order.
    const after = gatedJob<string>("after", { required: [first.job, second.job], forever: true });
    const scheduler = new PureScheduler(first.job, blocker.job, second.job, after.job, {
      jobsWindow: 2,
    });
    assert.equal(first.job.reprShort(), "⚠   ⚐  ");
    const run = scheduler.run();
    await first.started;
    await blocker.started;
    // first and blocker hold both slots: second waits in the window, after waits for both.
    assert.equal(first.job.reprShort(), "⚠ ☉ ↺  ");
    assert.equal(second.job.reprShort(), "    ⚑  ");
    assert.equal(after.job.reprShort(), "⚠   ⚐ ∞");
    first.open("one");
    await second.started;
    assert.equal(first.job.reprShort(), "⚠ ☉ ☓  ");
    second.fail(new TypeError("bad"));
    await after.started;
    assert.equal(second.job.reprShort(), "  ★ ☓  ");
    assert.equal(second.job.reprResult(), "!! exception => TypeError:bad!!");
    assert.equal(after.job.reprShort(), "⚠ ☉ ↺ ∞");
    blocker.open("done");
    assert.equal(await run, true);
    await ticks();
    // The forever job was cancelled: never done, and shown as cancelled.
    assert.equal(after.job.reprShort(), "⚠ ☉ ⊗ ∞");
    assert.equal(after.job.isCancelled(), true);
  });
});
