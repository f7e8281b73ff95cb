import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AbstractJob, PureScheduler, Scheduler, Watch } from "asyncjobs";
import { captureOutput, gatedJob, quickJob } from "./support.js";

function labels(jobs: Iterable<AbstractJob>): string[] {
  return [...jobs].map((job) => job.label ?? "?");
}

/** a → b → d, a → c → d, e alone; plus a forever f requiring e. */
function diamond() {
  const a = quickJob("a", 1);
  const b = quickJob("b", 1, { required: a });
  const c = quickJob("c", 1, { required: a });
  const d = quickJob("d", 1, { required: [b, c] });
  const e = quickJob("e", 1);
  const f = quickJob("f", 1, { required: e, forever: true });
  const scheduler = new PureScheduler(d, c, b, a, e, f);
  return { a, b, c, d, e, f, scheduler };
}

describe("graph walks", () => {
  it("topologicalOrder() puts every job after its requirements", () => {
    const { scheduler } = diamond();
    const order = labels(scheduler.topologicalOrder());
    assert.equal(order.length, 6);
    const at = (label: string): number => order.indexOf(label);
    assert.ok(at("a") < at("b") && at("a") < at("c"));
    assert.ok(at("b") < at("d") && at("c") < at("d"));
    assert.ok(at("e") < at("f"));
  });

  it("topologicalOrder() throws naming a cycle; checkCycles() says false", () => {
    const { a, d, scheduler } = diamond();
    assert.equal(scheduler.checkCycles(), true);
    a.requires(d);
    assert.equal(scheduler.checkCycles(), false);
    assert.throws(() => [...scheduler.topologicalOrder()], /cycle: "[abcd]" requires/);
  });

  it("checkCycles() looks into nested schedulers", () => {
    const x = quickJob("x", 1);
    const y = quickJob("y", 1, { required: x });
    const inner = new Scheduler(x, y);
    const outer = new Scheduler(inner);
    assert.equal(outer.checkCycles(), true);
    x.requires(y);
    assert.equal(outer.checkCycles(), false);
  });

  it("entryJobs() and exitJobs()", () => {
    const { scheduler } = diamond();
    assert.deepEqual(labels(scheduler.entryJobs()).sort(), ["a", "e"]);
    assert.deepEqual(labels(scheduler.exitJobs()).sort(), ["d"]);
    assert.deepEqual(labels(scheduler.exitJobs({ discardForever: false })).sort(), ["d", "f"]);
  });

  it("predecessors, successors and their closures", () => {
    const { a, b, c, d, scheduler } = diamond();
    assert.deepEqual(labels(scheduler.predecessors(d)).sort(), ["b", "c"]);
    assert.deepEqual(labels(scheduler.successors(a)).sort(), ["b", "c"]);
    assert.deepEqual(labels(scheduler.predecessorsUpstream(d)).sort(), ["a", "b", "c"]);
    assert.deepEqual(labels(scheduler.successorsDownstream(a)).sort(), ["b", "c", "d"]);
    assert.deepEqual(labels(scheduler.successorsDownstream(b, c)), ["d"]);
    assert.throws(
      () => scheduler.predecessors(quickJob("stranger", 1)),
      /"stranger" is not in this scheduler/,
    );
  });

  it("iterateJobs() walks nested schedulers, listing them only with scanSchedulers", () => {
    const x = quickJob("x", 1);
    const inner = new Scheduler(x, { label: "inner" });
    const top = quickJob("top", 1);
    const outer = new PureScheduler(top, inner);
    assert.deepEqual(labels(outer.iterateJobs()), ["top", "x"]);
    assert.deepEqual(labels(outer.iterateJobs({ scanSchedulers: true })), ["top", "inner", "x"]);
  });
});

describe("reshaping a graph", () => {
  it("bypassAndRemove() keeps the order around the removed job", () => {
    const { a, b, c, d, scheduler } = diamond();
    scheduler.bypassAndRemove(b);
    assert.equal(scheduler.jobs.has(b), false);
    assert.deepEqual(labels(d.required).sort(), ["a", "c"]);
    assert.ok(c.required.has(a));
  });

  it("keepOnly() removes the rest and the requirements on it", async () => {
    const { a, b, d, scheduler } = diamond();
    scheduler.keepOnly([a, b, d]);
    assert.deepEqual(labels(scheduler.jobs).sort(), ["a", "b", "d"]);
    assert.deepEqual(labels(d.required), ["b"]);
    assert.equal(await scheduler.run(), true);
  });

  it("keepOnlyBetween() keeps what lies between starts and ends", () => {
    const first = diamond();
    first.scheduler.keepOnlyBetween({ starts: [first.b], ends: [first.d] });
    assert.deepEqual(labels(first.scheduler.jobs).sort(), ["b", "d"]);

    const second = diamond();
    second.scheduler.keepOnlyBetween({ starts: [second.a], keepStarts: false });
    assert.deepEqual(labels(second.scheduler.jobs).sort(), ["b", "c", "d"]);

    const third = diamond();
    third.scheduler.keepOnlyBetween({ ends: [third.d], keepEnds: false });
    assert.deepEqual(labels(third.scheduler.jobs).sort(), ["a", "b", "c"]);
  });

  it("sanitize() drops requirements outside the scheduler, nested ones too, and says so", async () => {
    const outside = quickJob("outside", 0);
    const inner = new Scheduler(quickJob("deep", 1, { required: outside }), { label: "inner" });
    const scheduler = new PureScheduler(quickJob("top", 1, { required: outside }), inner);
    const output = await captureOutput(() => {
      assert.equal(scheduler.sanitize({ verbose: true }), false);
    });
    assert.match(output, /"top".*"outside"/);
    assert.match(output, /"deep".*"outside"/);
    assert.equal(scheduler.sanitize(), true);
  });

  it("add(), update() and remove() keep ownership straight", () => {
    const scheduler = new PureScheduler();
    const [a, b] = [quickJob("a", 1), quickJob("b", 2)];
    assert.equal(scheduler.add(a).update([b]).size, 2);
    assert.deepEqual([...scheduler], [a, b]);
    scheduler.remove(a);
    assert.throws(() => scheduler.remove(a), /"a" is not in this scheduler/);
    new PureScheduler(a);
    assert.throws(() => scheduler.add(a), /already belongs to another scheduler/);
  });

  it("update() adds all or nothing", () => {
    const scheduler = new PureScheduler();
    const a = quickJob("a", 1);
    assert.throws(() => scheduler.update([a, "nope" as never]), /item 2/);
    assert.equal(scheduler.size, 0);
    assert.equal(a.isIdle(), true);
  });
});

describe("status text", () => {
  it("stats(), toString() and why() describe the run", async () => {
    const running = gatedJob("running");
    const done = quickJob("done", 1);
    const waiting = quickJob("waiting", 1, { required: running.job });
    const scheduler = new PureScheduler(running.job, done, waiting);
    assert.equal(scheduler.stats(), "0D + 0R + 3I = 3");
    const run = scheduler.run();
    await running.started;
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(scheduler.stats(), "1D + 1R + 1I = 3");
    assert.equal(String(scheduler), "PureScheduler with 1 done + 1 ongoing + 1 idle = 3 job(s)");
    running.open("ok");
    assert.equal(await run, true);
    assert.equal(scheduler.why(), "FINE");
    assert.equal(scheduler.stats(), "3D + 0R + 0I = 3");
  });
});

describe("options", () => {
  it("are validated at construction and when set, naming the option", () => {
    assert.throws(
      () => new PureScheduler({ jobsWindow: -1 }),
      (error: unknown) => error instanceof RangeError && /jobsWindow/.test(error.message),
    );
    assert.throws(() => new PureScheduler({ jobsWindow: 1.5 }), RangeError);
    assert.throws(
      () => new PureScheduler({ timeout: "1s" } as never),
      (error: unknown) => error instanceof TypeError && /timeout/.test(error.message),
    );
    assert.throws(() => new Scheduler({ shutdownTimeout: Number.NaN }), /shutdownTimeout/);
    assert.throws(() => new Scheduler({ jobswindow: 2 } as never), /unknown option "jobswindow"/);
    const scheduler = new PureScheduler({ jobsWindow: 2, timeout: 100 });
    assert.throws(() => {
      scheduler.timeout = -5;
    }, RangeError);
    assert.equal(scheduler.timeout, 100);
    scheduler.jobsWindow = null;
    assert.equal(scheduler.jobsWindow, null);
    assert.equal(scheduler.shutdownTimeout, 1000);
  });

  it("refuse non-jobs in a scheduler, naming the position", () => {
    assert.throws(() => new PureScheduler(quickJob("a", 1), 42 as never), /item 2 .*number 42/);
    assert.throws(() => new Scheduler(Promise.resolve() as never), /Promise/);
  });
});

describe("Watch", () => {
  it("formats elapsed seconds as SSS.MMM", () => {
    const watch = new Watch();
    assert.match(watch.elapsed(), /^\d{3}\.\d{3}$/);
    assert.ok(watch.seconds() >= 0);
  });

  it("prints elapsed time and the wall clock", async () => {
    const output = await captureOutput(() => {
      const watch = new Watch("hello there");
      watch.printElapsed("|\n");
      Watch.printWallClock("\n");
    });
    const lines = output.split("\n");
    assert.match(lines[0]!, /^000\.\d{3} {2}hello there$/);
    assert.match(lines[1]!, /^\d{3}\.\d{3}\|$/);
    assert.match(lines[2]!, /^\d{2}:\d{2}:\d{2}\.\d{3}$/);
  });

  it("reset() starts over", () => {
    const watch = new Watch();
    watch.reset();
    assert.ok(watch.seconds() < 5);
  });
});
