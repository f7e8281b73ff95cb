/**
 * estimateTimeLeft(): the longest chain of requirements, nested schedulers
 * included, or the work spread over the window, whichever is longer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AbstractJob, estimateTimeLeft, Job, Scheduler } from "asyncjobs";

const job = (label: string) => new Job(() => label, { label });

describe("estimateTimeLeft()", () => {
  it("follows the longest chain of requirements, through nested schedulers", () => {
    const a = job("a");
    const b = job("b");
    const c = job("c");
    const inner1 = job("inner1");
    const inner2 = job("inner2");
    inner2.requires(inner1);
    const nested = new Scheduler(inner1, inner2, { label: "nested" });
    b.requires(a);
    nested.requires(a);
    const scheduler = new Scheduler(a, b, c, nested);
    const left = new Map<AbstractJob, number>([
      [a, 100],
      [b, 50],
      [c, 120],
      [inner1, 30],
      [inner2, 40],
    ]);
    // a (100) then the nested scheduler's chain (30 + 40): 170, longer than b's 150 and c's 120.
    assert.equal(
      estimateTimeLeft(scheduler, (j) => left.get(j)),
      170,
    );
    // Jobs the caller knows nothing of count as nothing left.
    assert.equal(
      estimateTimeLeft(scheduler, (j) => (j === c ? 120 : undefined)),
      120,
    );
  });

  it("is no less than the work left spread over the window", () => {
    const jobs = Array.from({ length: 8 }, (_, i) => job(`j${i}`));
    const scheduler = new Scheduler(...jobs, { jobsWindow: 2 });
    // Eight independent jobs of 100 ms, two at a time: 400 ms, not the 100 ms of one chain.
    assert.equal(
      estimateTimeLeft(scheduler, () => 100),
      400,
    );
    scheduler.jobsWindow = 0;
    assert.equal(
      estimateTimeLeft(scheduler, () => 100),
      100,
    );
  });
});
