/**
 * Property-based tests of the scheduling rules, on random graphs and on a
 * virtual clock (see test/support): thousands of runs take seconds, and a
 * failing case replays from its seed.
 *
 * Cases per property: ASYNCJOBS_PROPERTY_RUNS (default 200; `npm run
 * test:stress` runs 10 000). Seed: ASYNCJOBS_PROPERTY_SEED.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AbstractJob, PureScheduler, Scheduler } from "asyncjobs";
import fc from "fast-check";
import { propertyParameters, propertyRuns } from "./support/property-config.js";
import {
  type CaseSpec,
  caseArbitrary,
  isForever,
  type JobSpec,
  type NodeSpec,
  type Profile,
  requirementIndices,
  runCase,
} from "./support/scheduling-model.js";
import { gatedJob, quickJob } from "./support.js";

describe("scheduling invariants on random graphs", () => {
  it("every run keeps the rules, whatever the graph, the outcomes and the timing", async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(caseArbitrary(), async (spec) => {
        for (const report of await runCase(spec)) {
          const reason = String(report.endReason);
          seen.set(reason, (seen.get(reason) ?? 0) + 1);
        }
      }),
      propertyParameters(),
    );
    // The generator must keep reaching every way a run can end.
    if (propertyRuns >= 100) {
      for (const reason of ["fine", "critical", "timeout", "aborted"]) {
        assert.ok((seen.get(reason) ?? 0) > 0, `no run ended ${reason}: ${[...seen]}`);
      }
    }
  });

  it("trigger rules, skips, retries, per-job timeouts, weights and pools keep the rules too", async () => {
    const seen = new Map<string, number>();
    const count = (key: string, n = 1): void => {
      seen.set(key, (seen.get(key) ?? 0) + n);
    };
    await fc.assert(
      fc.asyncProperty(caseArbitrary({ extras: true }), async (spec) => {
        for (const report of await runCase(spec)) {
          count(String(report.endReason));
          for (const [key, n] of Object.entries(report.stats)) count(key, n);
        }
      }),
      propertyParameters(),
    );
    // The generator must keep reaching every path the options open.
    if (propertyRuns >= 100) {
      for (const key of ["fine", "critical", "skipped", "retried", "timedOut", "poolsFull"]) {
        assert.ok((seen.get(key) ?? 0) > 0, `never seen: ${key} in ${[...seen]}`);
      }
    }
  });

  it("without failures, a run resolves true and lasts exactly as long as its longest chain", async () => {
    await fc.assert(
      fc.asyncProperty(
        caseArbitrary({ failures: false, timeouts: false, aborts: false, windows: false }),
        async (spec) => {
          const reports = await runCase(spec);
          reports.forEach((report, run) => {
            assert.equal(report.endReason, "fine");
            const predicted = new Map<string, number>();
            chainLength("top", spec.children, spec.profile, run, predicted);
            for (const [label, seen] of report.schedulers) {
              if (seen.endReason !== "fine") continue;
              assert.equal(
                seen.endedAt - seen.startedAt,
                predicted.get(label),
                `run #${run}: ${label} lasted ${seen.endedAt - seen.startedAt}`,
              );
            }
          });
        },
      ),
      propertyParameters(),
    );
  });

  it("a window is filled exactly, never exceeded, and sets the pace of a layered graph", async () => {
    await fc.assert(
      fc.asyncProperty(layeredArbitrary, async (layered) => {
        const { spec, widths, window, delay, nested } = layered;
        const [report] = await runCase(spec);
        const top = report!.schedulers.get("top")!;
        const limit = window || Number.POSITIVE_INFINITY;
        assert.equal(report!.endReason, "fine");
        assert.equal(top.maxRunning, Math.min(limit, Math.max(...widths)));
        if (nested === null) {
          const expected = widths.reduce((sum, width) => sum + rounds(width, limit) * delay, 0);
          assert.equal(top.endedAt - top.startedAt, expected);
        } else {
          const inner = report!.schedulers.get(nested.label)!;
          const innerLimit = nested.window || Number.POSITIVE_INFINITY;
          assert.equal(inner.maxRunning, Math.min(innerLimit, nested.width));
          assert.equal(inner.endedAt - inner.startedAt, rounds(nested.width, innerLimit) * delay);
        }
      }),
      propertyParameters(),
    );
  });
});

/** Labels of the jobs, at any depth, that `scheduler` reports as started. */
function startedLabels(scheduler: PureScheduler): string[] {
  const started: string[] = [];
  scheduler.events.addEventListener("job:started", (event) => started.push(event.job.label ?? ""));
  return started;
}

/** Runs `scheduler`, and aborts the run once `started` resolves. */
async function abortOnceStarted(
  scheduler: PureScheduler,
  started: Promise<unknown>,
): Promise<boolean> {
  const controller = new AbortController();
  const run = scheduler.run({ signal: controller.signal });
  await started;
  controller.abort("stop");
  return run;
}

describe("cases the properties found", () => {
  it("a job after a skipped entry job is made ready once", async () => {
    const lonely = quickJob("lonely", 1, { trigger: "oneFailed" });
    const after = quickJob("after", 2, { required: lonely });
    const scheduler = new PureScheduler(lonely, after);
    const started = startedLabels(scheduler);
    assert.equal(await scheduler.run(), true);
    assert.equal(lonely.isSkipped(), true);
    assert.deepEqual(started, ["after"]);
  });

  it("a pool slot given back at the end of a run starts no job of a nested scheduler", async () => {
    const holder = gatedJob("holder", { pool: "db" });
    const waiter = quickJob("waiter", 1, { pool: "db" });
    const inner = new Scheduler(waiter, { label: "inner" });
    const outer = new PureScheduler(holder.job, inner, { pools: { db: 1 } });
    const started = startedLabels(outer);
    assert.equal(await abortOnceStarted(outer, holder.started), false);
    assert.deepEqual(started.sort(), ["holder", "inner"]);
    assert.equal(waiter.isRunning(), false);
  });

  it("a pool slot given back by a cancelled nested scheduler starts no job of a sibling", async () => {
    const holder = gatedJob("holder", { pool: "db" });
    const waiter = quickJob("waiter", 1, { pool: "db" });
    const first = new Scheduler(holder.job, { label: "first" });
    const second = new Scheduler(waiter, { label: "second" });
    const outer = new PureScheduler(first, second, { pools: { db: 1 } });
    const started = startedLabels(outer);
    assert.equal(await abortOnceStarted(outer, holder.started), false);
    assert.deepEqual(started.sort(), ["first", "holder", "second"]);
    assert.equal(waiter.isRunning(), false);
  });

  it("a pool slot given back by a critical failure starts no job of the same run", async () => {
    const culprit = gatedJob("culprit", { pool: "db" });
    const waiter = quickJob("waiter", 1, { pool: "db" });
    const scheduler = new PureScheduler(culprit.job, waiter, { pools: { db: 1 } });
    const started = startedLabels(scheduler);
    const run = scheduler.run();
    await culprit.started;
    culprit.fail(new Error("boom"));
    assert.equal(await run, false);
    assert.equal(scheduler.failedCritical(), true);
    assert.deepEqual(started, ["culprit"]);
  });

  it("a skip that finishes the run starts no forever job", async () => {
    const first = quickJob("first", 1);
    const foreverJob = (label: string): AbstractJob =>
      gatedJob(label, { required: first, forever: true }).job;
    const before = foreverJob("forever-before");
    const skipped = quickJob("skipped", 1, { required: first, trigger: "oneFailed" });
    const after = foreverJob("forever-after");
    const scheduler = new PureScheduler(first, before, skipped, after);
    const started = startedLabels(scheduler);
    assert.equal(await scheduler.run(), true);
    assert.equal(skipped.isSkipped(), true);
    assert.deepEqual(started, ["first"]);
    assert.equal(before.isRunning(), false);
    assert.equal(after.isIdle(), true, "nothing is made ready after the end");
  });
});

/**
 * The predicted virtual duration of each scheduler under `label` when every
 * job resolves and nothing limits concurrency: each job starts when its last
 * requirement ends, and a scheduler ends with its last non-forever job (with
 * its last job if all are forever).
 */
function chainLength(
  label: string,
  children: NodeSpec[],
  profile: Profile,
  run: number,
  out: Map<string, number>,
): number {
  const ends: number[] = [];
  let end = 0;
  let endAll = 0;
  let finite = 0;
  children.forEach((node, index) => {
    const childLabel = label === "top" ? `${index}` : `${label}.${index}`;
    const start = Math.max(0, ...requirementIndices(node, index).map((at) => ends[at]!));
    const duration =
      node.kind === "job"
        ? durationOf(node, run)
        : chainLength(childLabel, node.children, profile, run, out);
    ends[index] = start + duration;
    endAll = Math.max(endAll, ends[index]!);
    if (!isForever(node, profile)) {
      finite++;
      end = Math.max(end, ends[index]!);
    }
  });
  const duration = finite > 0 ? end : endAll;
  out.set(label, duration);
  return duration;
}

function durationOf(node: JobSpec, run: number): number {
  const timing = node.behaviours[run]!.timing;
  return typeof timing === "number" ? timing : 0;
}

/** How many waves of `width` jobs a window of `limit` runs. */
function rounds(width: number, limit: number): number {
  return Math.ceil(width / Math.min(width, limit));
}

interface Layered {
  spec: CaseSpec;
  widths: number[];
  window: number;
  delay: number;
  nested: { label: string; width: number; window: number } | null;
}

const ALWAYS_FINE: Profile = { throws: 0, never: 0, critical: 1000, forever: 0, foreverEnds: 1000 };

function plainJob(delay: number, requires: number[]): JobSpec {
  return {
    kind: "job",
    criticalRoll: 0,
    foreverRoll: 999,
    picks: [],
    hub: false,
    requires,
    shutdown: "ok",
    behaviours: [
      {
        roll: 999,
        endsRoll: 0,
        thrown: "error",
        value: "object",
        timing: delay,
        ignoresSignal: false,
        readsSignalLate: false,
      },
    ],
  };
}

/** Layers of jobs, each job requiring every job of the layer before; maybe one nested scheduler in a layer. */
const layeredArbitrary: fc.Arbitrary<Layered> = fc
  .record({
    widths: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
    window: fc.integer({ min: 0, max: 8 }),
    delay: fc.integer({ min: 1, max: 10 }).map((n) => n * 2),
    nested: fc.option(
      fc.record({
        layer: fc.nat(),
        width: fc.integer({ min: 1, max: 30 }),
        window: fc.integer({ min: 0, max: 5 }),
      }),
      { nil: null },
    ),
  })
  .map(({ widths, window, delay, nested }) => {
    const children: NodeSpec[] = [];
    let previous: number[] = [];
    const nestedLayer = nested === null ? -1 : nested.layer % widths.length;
    let nestedInfo: Layered["nested"] = null;
    widths.forEach((width, layer) => {
      const current: number[] = [];
      for (let k = 0; k < width; k++) {
        current.push(children.length);
        if (layer === nestedLayer && k === 0 && nested !== null) {
          nestedInfo = { label: `${children.length}`, width: nested.width, window: nested.window };
          children.push({
            kind: "scheduler",
            criticalRoll: 0,
            foreverRoll: 999,
            picks: [],
            hub: false,
            requires: previous,
            window: nested.window,
            timeout: null,
            rotate: 0,
            children: Array.from({ length: nested.width }, () => plainJob(delay, [])),
          });
        } else {
          children.push(plainJob(delay, previous));
        }
      }
      previous = current;
    });
    const spec: CaseSpec = {
      top: "critical",
      window,
      timeout: null,
      rotate: 0,
      children,
      profile: ALWAYS_FINE,
      aborts: [null],
    };
    return { spec, widths, window, delay, nested: nestedInfo };
  });
