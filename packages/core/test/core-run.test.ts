import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AbstractJob,
  CancelledError,
  Job,
  PureScheduler,
  Scheduler,
  Sequence,
  TimeoutError,
} from "asyncjobs";
import { deferred, gatedJob, quickJob, ticks } from "./support.js";

/** Records, per job label, the order of starts and ends through the events. */
function recordOrder(scheduler: PureScheduler): string[] {
  const log: string[] = [];
  scheduler.events.addEventListener("job:started", (event) => log.push(`start ${event.job.label}`));
  scheduler.events.addEventListener("job:done", (event) => log.push(`end ${event.job.label}`));
  scheduler.events.addEventListener("job:failed", (event) => log.push(`fail ${event.job.label}`));
  return log;
}

/** Counts the jobs running at once in `scheduler` (nested events included), keeping the maximum. */
function concurrency(scheduler: PureScheduler, only?: PureScheduler): { max: () => number } {
  let running = 0;
  let max = 0;
  const mine = (owner: PureScheduler): boolean => only === undefined || owner === only;
  scheduler.events.addEventListener("job:started", (event) => {
    if (!mine(event.scheduler)) return;
    running++;
    max = Math.max(max, running);
  });
  for (const type of ["job:done", "job:failed", "job:cancelled"] as const) {
    scheduler.events.addEventListener(type, (event) => {
      if (mine(event.scheduler)) running--;
    });
  }
  return { max: () => max };
}

function yieldingJob(label: string, yields = 3, options = {}): Job<string> {
  return new Job(
    async () => {
      for (let i = 0; i < yields; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      return label;
    },
    { label, ...options },
  );
}

describe("run(): order", () => {
  it("starts a job only once every requirement is done", async () => {
    const a = yieldingJob("a");
    const b = yieldingJob("b", 1, { required: a });
    const c = yieldingJob("c", 1);
    const d = yieldingJob("d", 1, { required: [b, c] });
    const scheduler = new PureScheduler(d, c, b, a);
    const log = recordOrder(scheduler);
    assert.equal(await scheduler.run(), true);
    const at = (entry: string): number => log.indexOf(entry);
    assert.ok(at("end a") < at("start b"));
    assert.ok(at("end b") < at("start d"));
    assert.ok(at("end c") < at("start d"));
    assert.equal(log.filter((entry) => entry.startsWith("start")).length, 4);
  });

  it("starts independent jobs at once", async () => {
    const gates = ["x", "y", "z"].map((label) => gatedJob(label));
    const run = new PureScheduler(...gates.map((gate) => gate.job)).run();
    await Promise.all(gates.map((gate) => gate.started));
    assert.ok(gates.every((gate) => gate.job.isRunning()));
    for (const gate of gates) gate.open("ok");
    assert.equal(await run, true);
  });

  it("resolves true on an empty scheduler", async () => {
    const scheduler = new PureScheduler();
    assert.equal(await scheduler.run(), true);
    assert.equal(scheduler.why(), "FINE");
  });

  it("does not stop dependents of a non-critical failure", async () => {
    const boom = new Job(
      () => {
        throw new Error("boom");
      },
      { label: "boom", critical: false },
    );
    const after = quickJob("after", 1, { required: boom });
    const scheduler = new PureScheduler(boom, after);
    assert.equal(await scheduler.run(), true);
    assert.equal(after.result(), 1);
    assert.equal(scheduler.failedCritical(), false);
  });
});

describe("run(): window", () => {
  it("never runs more than jobsWindow jobs at once, and uses the whole window", async () => {
    const jobs = Array.from({ length: 40 }, (_, i) => yieldingJob(`j${i}`, 1 + (i % 4)));
    const scheduler = new PureScheduler(...jobs, { jobsWindow: 3 });
    const counter = concurrency(scheduler);
    assert.equal(await scheduler.run(), true);
    assert.equal(counter.max(), 3);
    assert.ok(jobs.every((job) => job.isDone()));
  });

  it("shows waiting jobs as scheduled, not running", async () => {
    const first = gatedJob("first");
    const second = gatedJob("second");
    const run = new PureScheduler(first.job, second.job, { jobsWindow: 1 }).run();
    await first.started;
    assert.equal(second.job.isScheduled(), true);
    assert.equal(second.job.isRunning(), false);
    first.open("1");
    await second.started;
    second.open("2");
    assert.equal(await run, true);
  });

  it("counts a nested scheduler as one job in its parent, its jobs against its own window", async () => {
    const innerJobs = Array.from({ length: 12 }, (_, i) => yieldingJob(`in${i}`, 2));
    const inner = new Scheduler(...innerJobs, { jobsWindow: 4, label: "inner" });
    const outerJobs = Array.from({ length: 6 }, (_, i) => yieldingJob(`out${i}`, 4));
    const outer = new PureScheduler(inner, ...outerJobs, { jobsWindow: 2 });
    const outerCount = concurrency(outer, outer);
    const innerCount = concurrency(outer, inner);
    assert.equal(await outer.run(), true);
    assert.equal(outerCount.max(), 2);
    assert.equal(innerCount.max(), 4);
  });

  it("treats 0 and null as no limit", async () => {
    for (const jobsWindow of [0, null]) {
      const jobs = Array.from({ length: 10 }, (_, i) => yieldingJob(`j${i}`, 2));
      const scheduler = new PureScheduler(...jobs, { jobsWindow });
      const counter = concurrency(scheduler);
      assert.equal(await scheduler.run(), true);
      assert.equal(counter.max(), 10);
    }
  });
});

/**
 * Jobs that count how many of them are in their body at once; each waits
 * on `wait()` (by default one microtask) and records the order it started in.
 */
function countingJobs(
  count: number,
  wait: () => Promise<unknown> = async () => {},
  state = { running: 0, max: 0, started: [] as number[] },
) {
  const jobs = Array.from(
    { length: count },
    (_, i) =>
      new Job(async () => {
        state.started.push(i);
        state.max = Math.max(state.max, ++state.running);
        await wait();
        state.running--;
      }),
  );
  return { jobs, state };
}

describe("run(): many ready jobs at once", () => {
  // Big enough for several bursts of starts (the engine starts ready jobs
  // in bursts of about a thousand, see engine/bursts.ts).
  const MANY = 5000;

  it("without a window, starts every ready job before any timer or I/O, in order", async () => {
    let macrotaskPassed = false;
    let lateStarts = 0;
    const gate = deferred();
    const { jobs, state } = countingJobs(MANY, () => {
      if (macrotaskPassed) lateStarts++;
      return gate.promise;
    });
    const scheduler = new PureScheduler(...jobs);
    const run = scheduler.run();
    setImmediate(() => {
      macrotaskPassed = true;
      gate.resolve();
    });
    assert.equal(await run, true);
    assert.equal(state.max, MANY, "all jobs were running at once");
    assert.equal(lateStarts, 0);
    assert.deepEqual(
      state.started,
      Array.from({ length: MANY }, (_, i) => i),
    );
  });

  it("lets jobs that end at once end before starting more: not all are alive together", async () => {
    const { jobs, state } = countingJobs(MANY);
    assert.equal(await new PureScheduler(...jobs).run(), true);
    assert.equal(state.started.length, MANY);
    assert.ok(jobs.every((job) => job.isDone()));
    assert.ok(state.max <= 2048, `${state.max} jobs in flight at once`);
  });

  it("shares the bursts between nested schedulers", async () => {
    const state = { running: 0, max: 0, started: [] as number[] };
    const groups = Array.from({ length: 4 }, () => countingJobs(MANY / 2, undefined, state).jobs);
    const inner = groups.map((jobs, k) => new Scheduler(...jobs, { label: `inner${k}` }));
    assert.equal(await new PureScheduler(...inner).run(), true);
    assert.equal(state.started.length, 2 * MANY);
    assert.ok(state.max <= 2048, `${state.max} jobs in flight at once`);
    assert.ok(groups.every((jobs) => jobs.every((job) => job.isDone())));
  });

  it("starts nothing more once the run is over between two bursts", async () => {
    const controller = new AbortController();
    let ended = false;
    let startedAfterEnd = 0;
    const { jobs, state } = countingJobs(MANY, async () => {
      if (ended) startedAfterEnd++;
      await null;
      // The first job to resume ends the run, before the next burst.
      if (!ended) {
        ended = true;
        controller.abort("enough");
      }
    });
    assert.equal(await new PureScheduler(...jobs).run({ signal: controller.signal }), false);
    assert.ok(state.started.length < MANY, `${state.started.length} jobs started`);
    assert.equal(startedAfterEnd, 0);
    assert.equal(jobs.filter((job) => job.isRunning()).length, state.started.length);
  });

  it("starts a job only after its requirements, across bursts of wide layers", async () => {
    // Layers of 1 500 jobs, each requiring 3 jobs of the layer before,
    // picked by a fixed linear congruential sequence.
    const WIDTH = 1500;
    let seed = 12345;
    const pick = (below: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    let clock = 0;
    const startedAt = new Map<AbstractJob, number>();
    const endedAt = new Map<AbstractJob, number>();
    const jobs: Job[] = [];
    for (let i = 0; i < 3 * WIDTH; i++) {
      const job: Job = new Job(async () => {
        startedAt.set(job, ++clock);
        await null;
        endedAt.set(job, ++clock);
      });
      const layerStart = i - (i % WIDTH);
      if (layerStart > 0) {
        job.requires([0, 1, 2].map(() => jobs[layerStart - WIDTH + pick(WIDTH)]!));
      }
      jobs.push(job);
    }
    assert.equal(await new PureScheduler(...jobs).run(), true);
    assert.equal(startedAt.size, jobs.length);
    for (const job of jobs) {
      for (const requirement of job.required) {
        assert.ok(endedAt.get(requirement)! < startedAt.get(job)!);
      }
    }
  });
});

describe("run(): timeout", () => {
  it("cancels running jobs and resolves false for a PureScheduler", async () => {
    const slow = gatedJob("slow");
    const scheduler = new PureScheduler(slow.job, { timeout: 30 });
    assert.equal(await scheduler.run(), false);
    assert.equal(scheduler.failedTimeOut(), true);
    assert.equal(scheduler.failedCritical(), false);
    assert.equal(scheduler.why(), "TIMED OUT after 30 ms");
    const context = await slow.started;
    assert.equal(context.signal.aborted, true);
    assert.ok(context.signal.reason instanceof TimeoutError);
    assert.equal(slow.job.isCancelled(), true);
    assert.equal(slow.job.isDone(), false);
  });

  it("rejects with TimeoutError for a critical Scheduler, resolves false when not critical", async () => {
    const critical = new Scheduler(gatedJob("slow").job, { timeout: 20 });
    await assert.rejects(critical.run(), TimeoutError);
    assert.equal(critical.failedTimeOut(), true);
    const relaxed = new Scheduler(gatedJob("slow").job, { timeout: 20, critical: false });
    assert.equal(await relaxed.run(), false);
  });

  it("applies a nested scheduler's own timeout to it alone", async () => {
    const inner = new Scheduler(gatedJob("stuck").job, {
      timeout: 20,
      critical: false,
      label: "inner",
    });
    const after = quickJob("after", "ran", { required: inner });
    const outer = new PureScheduler(inner, after);
    assert.equal(await outer.run(), true);
    assert.equal(inner.result(), false);
    assert.equal(inner.failedTimeOut(), true);
    assert.equal(after.result(), "ran");
  });
});

describe("run(): critical failures", () => {
  it("cancels running jobs, never starts dependents, resolves false", async () => {
    const bystander = gatedJob("bystander");
    const boom = new Job(
      async () => {
        await bystander.started;
        throw new Error("boom");
      },
      { label: "boom" },
    );
    const dependent = quickJob("dependent", 1, { required: boom });
    const scheduler = new PureScheduler(bystander.job, boom, dependent);
    assert.equal(await scheduler.run(), false);
    assert.equal(scheduler.failedCritical(), true);
    assert.equal(scheduler.why(), "a CRITICAL job has raised an exception");
    assert.equal(dependent.isRunning(), false);
    assert.equal(bystander.job.isCancelled(), true);
    const context = await bystander.started;
    assert.ok(context.signal.reason instanceof CancelledError);
  });

  it("makes a critical Scheduler reject with the job's own error", async () => {
    const error = new Error("the original");
    const scheduler = new Scheduler(
      new Job(() => {
        throw error;
      }),
    );
    await assert.rejects(scheduler.run(), (thrown: unknown) => thrown === error);
    assert.equal(scheduler.failedCritical(), true);
  });

  it("propagates through nested schedulers", async () => {
    const error = new Error("deep");
    const inner = new Scheduler(
      new Job(async () => {
        throw error;
      }),
      { label: "inner" },
    );
    const sibling = gatedJob("sibling");
    const outer = new Scheduler(inner, sibling.job, { label: "outer" });
    await assert.rejects(outer.run(), (thrown: unknown) => thrown === error);
    assert.equal(inner.failedCritical(), true);
    assert.equal(outer.failedCritical(), true);
    assert.equal(sibling.job.isCancelled(), true);
  });

  it("keeps a non-critical nested failure inside", async () => {
    const inner = new Scheduler(
      new Job(() => {
        throw new Error("contained");
      }),
      { critical: false, label: "inner" },
    );
    const after = quickJob("after", 1, { required: inner });
    const outer = new Scheduler(inner, after);
    assert.equal(await outer.run(), true);
    assert.equal(inner.result(), false);
    assert.equal(inner.failedCritical(), true);
    assert.equal(after.result(), 1);
  });
});

describe("run(): forever jobs", () => {
  it("are cancelled once the other jobs are done", async () => {
    const monitor = gatedJob("monitor", { forever: true });
    const work = yieldingJob("work");
    const scheduler = new PureScheduler(monitor.job, work);
    assert.equal(await scheduler.run(), true);
    const context = await monitor.started;
    assert.equal(context.signal.aborted, true);
    assert.ok(context.signal.reason instanceof CancelledError);
    assert.equal(monitor.job.isCancelled(), true);
    assert.equal(monitor.job.isDone(), false);
    assert.equal(monitor.job.isRunning(), true);
  });

  it("keep a forever-only scheduler running until its timeout", async () => {
    const scheduler = new PureScheduler(gatedJob("tick", { forever: true }).job, { timeout: 20 });
    assert.equal(await scheduler.run(), false);
    assert.equal(scheduler.failedTimeOut(), true);
  });
});

describe("run(): abort signal", () => {
  it("cancels the run: ABORTED, neither timeout nor critical, false for a PureScheduler", async () => {
    const controller = new AbortController();
    const slow = gatedJob("slow");
    const scheduler = new PureScheduler(slow.job);
    const run = scheduler.run({ signal: controller.signal });
    const context = await slow.started;
    controller.abort(new Error("user pressed stop"));
    assert.equal(await run, false);
    assert.equal(scheduler.why(), "ABORTED: user pressed stop");
    assert.equal(scheduler.failedTimeOut(), false);
    assert.equal(scheduler.failedCritical(), false);
    assert.equal(context.signal.aborted, true);
    assert.equal(slow.job.isCancelled(), true);
  });

  it("makes a critical Scheduler reject with signal.reason itself", async () => {
    const controller = new AbortController();
    const reason = { why: "stop" };
    const slow = gatedJob("slow");
    const scheduler = new Scheduler(slow.job);
    const run = scheduler.run({ signal: controller.signal });
    await slow.started;
    controller.abort(reason);
    await assert.rejects(run, (thrown: unknown) => thrown === reason);
  });

  it("cancels nested schedulers' jobs in turn", async () => {
    const controller = new AbortController();
    const deep = gatedJob("deep");
    const inner = new Scheduler(deep.job, { label: "inner" });
    const outer = new PureScheduler(inner);
    const run = outer.run({ signal: controller.signal });
    const context = await deep.started;
    controller.abort("enough");
    assert.equal(await run, false);
    assert.equal(context.signal.aborted, true);
    assert.equal(inner.why(), "ABORTED: enough");
  });

  it("starts nothing when the signal is already aborted", async () => {
    const job = quickJob("never", 1);
    const scheduler = new PureScheduler(job);
    assert.equal(await scheduler.run({ signal: AbortSignal.abort("early") }), false);
    assert.equal(job.isRunning(), false);
    assert.equal(scheduler.why(), "ABORTED: early");
  });
});

describe("run(): cancelled jobs", () => {
  it("are not waited for, and their late rejection never surfaces", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on("unhandledRejection", onUnhandled);
    try {
      const late = deferred<string>();
      const stubborn = new Job(() => late.promise, { label: "stubborn", forever: true });
      const scheduler = new PureScheduler(stubborn, quickJob("quick", 1));
      assert.equal(await scheduler.run(), true);
      assert.equal(stubborn.isCancelled(), true);
      late.reject(new Error("too late"));
      await ticks(10);
      assert.deepEqual(unhandled, []);
      assert.equal(stubborn.isDone(), false);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("find their signal aborted with the run's reason when they first read it after the end", async () => {
    const gate = deferred<void>();
    const seen = deferred<{ aborted: boolean; reason: unknown }>();
    const late = new Job(
      async (context) => {
        await gate.promise;
        const { signal } = context;
        seen.resolve({ aborted: signal.aborted, reason: signal.reason });
      },
      { label: "late", forever: true },
    );
    const early = new Job(
      async (context) => {
        await gate.promise;
        return context.signal.aborted;
      },
      { label: "early", forever: true },
    );
    const scheduler = new PureScheduler(late, early, quickJob("quick", 1));
    assert.equal(await scheduler.run(), true);
    assert.deepEqual([late.isCancelled(), early.isCancelled()], [true, true]);
    assert.deepEqual([late.attempts(), early.attempts()], [1, 1]);
    gate.resolve();
    const { aborted, reason } = await seen.promise;
    assert.equal(aborted, true);
    assert.ok(reason instanceof CancelledError, String(reason));
    assert.match((reason as Error).message, /is done: its other jobs have finished/);
  });

  it("abort a signal read during the run when the run ends", async () => {
    let signal: AbortSignal | undefined;
    const watcher = new Job(
      (context) => {
        signal = context.signal;
        return new Promise<void>((resolve) => signal!.addEventListener("abort", () => resolve()));
      },
      { label: "watcher", forever: true },
    );
    const scheduler = new PureScheduler(watcher, quickJob("quick", 1));
    assert.equal(await scheduler.run(), true);
    assert.equal(signal?.aborted, true);
    assert.ok(signal?.reason instanceof CancelledError);
    assert.equal(watcher.isCancelled(), true);
    // Run again: the job starts afresh, and is cancelled afresh.
    assert.equal(await scheduler.run(), true);
    assert.equal(watcher.isCancelled(), true);
    assert.equal(watcher.attempts(), 1);
  });
});

describe("run(): shutdown", () => {
  it("calls each job's shutdown once at the end, and a later shutdown() answers the same", async () => {
    let calls = 0;
    const job = new Job(() => 1, {
      shutdown: () => {
        calls++;
      },
    });
    const scheduler = new PureScheduler(job);
    assert.equal(await scheduler.run(), true);
    assert.equal(calls, 1);
    assert.equal(await scheduler.shutdown(), true);
    assert.equal(calls, 1);
  });

  it("is bounded by shutdownTimeout, and answers false then", async () => {
    const job = new Job(() => 1, { shutdown: () => new Promise(() => {}) });
    const scheduler = new PureScheduler(job, { shutdownTimeout: 20 });
    assert.equal(await scheduler.run(), true);
    assert.equal(await scheduler.shutdown(), false);
  });

  it("lets nested schedulers shut their own jobs down when they end", async () => {
    const order: string[] = [];
    const innerJob = new Job(() => order.push("inner job"), {
      shutdown: () => order.push("inner shutdown"),
    });
    const inner = new Scheduler(innerJob, { label: "inner" });
    const after = new Job(() => order.push("after"), { required: inner });
    assert.equal(await new PureScheduler(inner, after).run(), true);
    assert.deepEqual(order, ["inner job", "inner shutdown", "after"]);
  });
});

describe("run(): again and again", () => {
  it("runs a settled scheduler afresh, calling job functions again", async () => {
    let calls = 0;
    const job = new Job(() => ++calls);
    const scheduler = new PureScheduler(job);
    assert.equal(await scheduler.run(), true);
    assert.equal(job.result(), 1);
    assert.equal(await scheduler.run(), true);
    assert.equal(job.result(), 2);
  });

  it("rejects run() while running", async () => {
    const gate = gatedJob("gate");
    const scheduler = new PureScheduler(gate.job);
    const first = scheduler.run();
    await assert.rejects(scheduler.run(), /already running/);
    gate.open("done");
    assert.equal(await first, true);
  });

  it("starts a job that ran elsewhere from idle: no trace of its earlier failure", async () => {
    let fail = true;
    const flaky = new Job(
      () => {
        if (fail) throw new Error("first time");
        return "fine";
      },
      { label: "flaky", critical: false },
    );
    const first = new PureScheduler(flaky);
    await first.run();
    assert.ok(flaky.raisedException() instanceof Error);
    first.remove(flaky);
    fail = false;
    // In its new scheduler it waits for a gate: while it does, it shows idle.
    const gate = gatedJob("gate");
    flaky.requires(gate.job);
    const second = new PureScheduler(gate.job, flaky);
    const seen: boolean[] = [];
    second.events.addEventListener("job:started", (event) => {
      if (event.job === gate.job) seen.push(flaky.isIdle(), flaky.isDone());
    });
    const run = second.run();
    gate.open("open");
    assert.equal(await run, true);
    assert.deepEqual(seen, [true, false]);
    assert.equal(flaky.raisedException(), undefined);
    assert.equal(flaky.result(), "fine");
  });

  it("starts a member run on its own in between from idle at the next run", async () => {
    let fail = true;
    const job = new Job(() => {
      if (fail) throw new Error("on its own");
      return 7;
    });
    const scheduler = new PureScheduler(job);
    await assert.rejects(job.standaloneRun(), /on its own/);
    fail = false;
    assert.equal(await scheduler.run(), true);
    assert.equal(job.raisedException(), undefined);
    assert.equal(job.result(), 7);
  });

  it("orchestrate() is run()", async () => {
    const job = quickJob("j", 3);
    assert.equal(await new PureScheduler(job).orchestrate(), true);
    assert.equal(job.result(), 3);
  });
});

describe("run(): refuses a bad graph before starting anything", () => {
  it("names the jobs on a cycle", async () => {
    const started: string[] = [];
    const make = (label: string): AbstractJob => new Job(() => started.push(label), { label });
    const free = make("free");
    const a = make("a");
    const b = make("b").requires(a);
    const c = make("c").requires(b);
    a.requires(c);
    await assert.rejects(
      new PureScheduler(free, a, b, c).run(),
      /cycle: .*"[abc]" requires "[abc]" requires "[abc]" requires "[abc]"/,
    );
    assert.deepEqual(started, []);
  });

  it("checks nested schedulers' graphs too", async () => {
    const started: string[] = [];
    const x = new Job(() => started.push("x"), { label: "x" });
    const y = new Job(() => started.push("y"), { label: "y", required: x });
    x.requires(y);
    const inner = new Scheduler(x, y, { label: "inner" });
    const before = new Job(() => started.push("before"), { label: "before" });
    await assert.rejects(new PureScheduler(before, inner).run(), /"inner".*cycle/);
    assert.deepEqual(started, []);
  });

  it("says to call sanitize() for a requirement outside the scheduler", async () => {
    const outside = quickJob("outside", 0);
    const inside = quickJob("inside", 1, { required: outside });
    const scheduler = new PureScheduler(inside);
    await assert.rejects(scheduler.run(), /"inside" requires "outside".*sanitize\(\)/);
    assert.equal(scheduler.sanitize(), false);
    assert.equal(await scheduler.run(), true);
  });

  it("says when no job is free to start", async () => {
    const a = quickJob("a", 1);
    const b = quickJob("b", 1, { required: a });
    a.requires(b);
    await assert.rejects(new PureScheduler(a, b).run(), /no job is free to start/);
  });
});

describe("events", () => {
  it("reports a run's steps in order, with typed events", async () => {
    const a = quickJob("a", 1);
    const scheduler = new PureScheduler(a, { jobsWindow: 1 });
    const seen: string[] = [];
    for (const type of [
      "scheduler:started",
      "job:scheduled",
      "job:started",
      "job:done",
      "scheduler:ended",
      "scheduler:shutdown",
    ] as const) {
      scheduler.events.addEventListener(type, (event) => {
        seen.push(type);
        assert.equal(event.scheduler, scheduler);
      });
    }
    await scheduler.run();
    assert.deepEqual(seen, [
      "scheduler:started",
      "job:scheduled",
      "job:started",
      "job:done",
      "scheduler:ended",
      "scheduler:shutdown",
    ]);
  });

  it("reports failures and cancellations", async () => {
    const monitor = gatedJob("monitor", { forever: true });
    const bad = new Job(
      () => {
        throw new Error("x");
      },
      { critical: false, label: "bad" },
    );
    const scheduler = new PureScheduler(monitor.job, bad);
    const seen: string[] = [];
    scheduler.events.addEventListener("job:failed", (event) =>
      seen.push(`failed ${event.job.label}`),
    );
    scheduler.events.addEventListener("job:cancelled", (event) =>
      seen.push(`cancelled ${event.job.label}`),
    );
    await scheduler.run();
    assert.deepEqual(seen, ["failed bad", "cancelled monitor"]);
  });

  it("hands each failed attempt's exception to job:retried, and the last to job:failed", async () => {
    let calls = 0;
    const flaky = new Job(
      () => {
        calls++;
        throw new Error(`attempt ${calls}`);
      },
      { critical: false, label: "flaky", retry: { retries: 2 } },
    );
    const scheduler = new PureScheduler(flaky);
    const seen: string[] = [];
    for (const type of ["job:retried", "job:failed", "job:done"] as const) {
      scheduler.events.addEventListener(type, (event) => {
        seen.push(`${type} ${event.error instanceof Error ? event.error.message : event.error}`);
      });
    }
    await scheduler.run();
    assert.deepEqual(seen, [
      "job:retried attempt 1",
      "job:retried attempt 2",
      "job:failed attempt 3",
    ]);
  });

  it("reports to a listener added during the run, from a nested scheduler too", async () => {
    const seen: string[] = [];
    const outer = new PureScheduler();
    const first = new Job(
      () => {
        // Added once the run has started and checked for listeners.
        outer.events.addEventListener("job:done", (event) => seen.push(String(event.job.label)));
      },
      { label: "first" },
    );
    const later = quickJob("later", 1);
    const inner = new Scheduler(later, { label: "inner", required: first });
    outer.add(first).add(inner);
    assert.equal(await outer.run(), true);
    assert.deepEqual(seen, ["first", "later", "inner"]);
  });

  it("stops reporting to a removed listener", async () => {
    const scheduler = new PureScheduler(quickJob("a", 1));
    let count = 0;
    const listener = (): void => {
      count++;
    };
    scheduler.events.addEventListener("job:done", listener);
    await scheduler.run();
    scheduler.events.removeEventListener("job:done", listener);
    await scheduler.run();
    assert.equal(count, 1);
    assert.equal(scheduler.events.active, false);
  });
});

describe("Scheduler is a job and a scheduler", () => {
  it("passes instanceof for both, and PureScheduler is not a job", async () => {
    const { AbstractJob } = await import("asyncjobs");
    const nested = new Scheduler();
    assert.ok(nested instanceof Scheduler);
    assert.ok(nested instanceof PureScheduler);
    assert.ok(nested instanceof AbstractJob);
    assert.equal(new PureScheduler() instanceof AbstractJob, false);
    assert.equal(new Sequence() instanceof PureScheduler, false);
  });

  it("refuses to hold itself, or to join a second scheduler", () => {
    const nested = new Scheduler({ label: "nested" });
    assert.throws(() => nested.add(nested), /inside itself/);
    const job = quickJob("shared", 1);
    new PureScheduler(job);
    assert.throws(() => new PureScheduler(job), /"shared" already belongs to another scheduler/);
  });
});
