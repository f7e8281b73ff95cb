/**
 * A representative subset of the core's tests (run, requirements, window,
 * timeout, critical and non-critical failures, forever jobs, nesting,
 * cancellation, listing) written against standard APIs only, so that it runs
 * in every JavaScript runtime: scripts/test-runtimes.mjs bundles it and runs
 * it in Node, Deno, Bun and headless Chromium.
 *
 * Jobs are driven by gates (promises the test opens) and events, never by
 * sleeping; no assertion depends on timing.
 */
import {
  CancelledError,
  Job,
  type JobContext,
  PureScheduler,
  Scheduler,
  Sequence,
  sleep,
  TimeoutError,
  Watch,
} from "asyncjobs";
import {
  type Deferred,
  deferred,
  equal,
  microtasks,
  ok,
  rejects,
  sameJson,
  test,
} from "./harness.js";

/** A job that tells when it starts and ends when its gate opens or its signal aborts. */
function gated<T = string>(label: string, options: { forever?: boolean; critical?: boolean } = {}) {
  let gate: Deferred<T> = deferred<T>();
  const started = deferred<JobContext>();
  const job = new Job<T>(
    async (context) => {
      started.resolve(context);
      const aborted = new Promise<never>((_, reject) => {
        context.signal.addEventListener("abort", () => reject(context.signal.reason), {
          once: true,
        });
      });
      const value = await Promise.race([gate.promise, aborted]);
      gate = deferred<T>();
      return value;
    },
    { label, ...options },
  );
  return { job, started: started.promise, open: (value: T) => gate.resolve(value) };
}

/** A job that yields a few microtask turns, then returns its label. */
function yielding(
  label: string,
  turns = 2,
  options: { required?: Job<string> | Job<string>[] } = {},
) {
  return new Job(
    async () => {
      await microtasks(turns);
      return label;
    },
    { label, ...options },
  );
}

/** Logs starts and ends (by label) through the scheduler's events. */
function recordOrder(scheduler: PureScheduler): string[] {
  const log: string[] = [];
  scheduler.events.addEventListener("job:started", (event) => log.push(`start ${event.job.label}`));
  scheduler.events.addEventListener("job:done", (event) => log.push(`end ${event.job.label}`));
  return log;
}

/** The most jobs of `only` (default: any) seen running at once, through the events. */
function concurrency(scheduler: PureScheduler, only?: PureScheduler): () => number {
  let running = 0;
  let most = 0;
  const counts = (owner: PureScheduler): boolean => only === undefined || owner === only;
  scheduler.events.addEventListener("job:started", (event) => {
    if (!counts(event.scheduler)) return;
    running++;
    most = Math.max(most, running);
  });
  for (const type of ["job:done", "job:failed", "job:cancelled"] as const) {
    scheduler.events.addEventListener(type, (event) => {
      if (counts(event.scheduler)) running--;
    });
  }
  return () => most;
}

test("run: resolves true and keeps each job's typed result", async () => {
  const a = new Job(async () => 40 + 2, { label: "a" });
  const b = new Job(() => "text", { label: "b" });
  const scheduler = new Scheduler(a, b);
  equal(await scheduler.run(), true);
  const answer: number = a.result();
  const text: string = b.result();
  equal(answer, 42);
  equal(text, "text");
  equal(scheduler.why(), "FINE");
});

test("requirements: a job starts once everything it requires is done", async () => {
  const a = yielding("a", 4);
  const b = yielding("b", 1, { required: a });
  const c = yielding("c", 1);
  const d = yielding("d", 1, { required: [b, c] });
  const scheduler = new PureScheduler(d, c, b, a);
  const log = recordOrder(scheduler);
  equal(await scheduler.run(), true);
  const at = (entry: string): number => log.indexOf(entry);
  ok(at("end a") < at("start b"), log.join(", "));
  ok(at("end b") < at("start d"), log.join(", "));
  ok(at("end c") < at("start d"), log.join(", "));
});

test("sequence: each job requires the one before it", async () => {
  const order: string[] = [];
  const step = (name: string) =>
    new Job(
      async () => {
        await microtasks(2);
        order.push(name);
      },
      { label: name },
    );
  const scheduler = new Scheduler(new Sequence(step("one"), step("two"), step("three")));
  equal(await scheduler.run(), true);
  sameJson(order, ["one", "two", "three"]);
});

test("window: never more than jobsWindow jobs at once, and the whole window used", async () => {
  const jobs = Array.from({ length: 24 }, (_, i) => yielding(`j${i}`, 1 + (i % 4)));
  const scheduler = new PureScheduler(...jobs, { jobsWindow: 3 });
  const most = concurrency(scheduler);
  equal(await scheduler.run(), true);
  equal(most(), 3);
  ok(jobs.every((job) => job.isDone()));
});

test("window: a job waiting for a slot is scheduled, not running", async () => {
  const first = gated("first");
  const second = gated("second");
  const run = new PureScheduler(first.job, second.job, { jobsWindow: 1 }).run();
  await first.started;
  equal(second.job.isScheduled(), true);
  equal(second.job.isRunning(), false);
  first.open("1");
  await second.started;
  second.open("2");
  equal(await run, true);
});

test("timeout: running jobs are cancelled with a TimeoutError, a PureScheduler resolves false", async () => {
  const slow = gated("slow");
  const scheduler = new PureScheduler(slow.job, { timeout: 20 });
  equal(await scheduler.run(), false);
  equal(scheduler.failedTimeOut(), true);
  equal(scheduler.why(), "TIMED OUT after 20 ms");
  const context = await slow.started;
  ok(context.signal.reason instanceof TimeoutError, "the signal's reason is a TimeoutError");
  equal(slow.job.isCancelled(), true);
  equal(slow.job.isDone(), false);
});

test("timeout: a critical Scheduler rejects with TimeoutError", async () => {
  const scheduler = new Scheduler(gated("slow").job, { timeout: 20 });
  await rejects(scheduler.run(), (reason) => reason instanceof TimeoutError);
  equal(scheduler.failedTimeOut(), true);
});

test("critical: a failure cancels running jobs and starts no dependent", async () => {
  const bystander = gated("bystander");
  const boom = new Job(
    async () => {
      await bystander.started;
      throw new Error("boom");
    },
    { label: "boom" },
  );
  const dependent = new Job(() => 1, { label: "dependent", required: boom });
  const scheduler = new PureScheduler(bystander.job, boom, dependent);
  equal(await scheduler.run(), false);
  equal(scheduler.failedCritical(), true);
  equal(scheduler.why(), "a CRITICAL job has raised an exception");
  equal(dependent.isRunning(), false);
  equal(bystander.job.isCancelled(), true);
  ok((await bystander.started).signal.reason instanceof CancelledError);
});

test("critical: a critical Scheduler rejects with the job's own error", async () => {
  const error = new Error("the original");
  const scheduler = new Scheduler(
    new Job(() => {
      throw error;
    }),
  );
  await rejects(scheduler.run(), (reason) => reason === error);
});

test("non-critical: a failure is recorded and its dependents still run", async () => {
  const boom = new Job(
    () => {
      throw new Error("boom");
    },
    { label: "boom", critical: false },
  );
  const after = new Job(() => "after", { label: "after", required: boom });
  const scheduler = new PureScheduler(boom, after);
  equal(await scheduler.run(), true);
  equal(after.result(), "after");
  ok(boom.raisedException() instanceof Error);
});

test("forever: cancelled once the other jobs are done", async () => {
  const monitor = gated("monitor", { forever: true });
  const scheduler = new PureScheduler(monitor.job, yielding("work"));
  equal(await scheduler.run(), true);
  const context = await monitor.started;
  ok(context.signal.reason instanceof CancelledError);
  equal(monitor.job.isCancelled(), true);
  equal(monitor.job.isDone(), false);
});

test("forever: a forever-only scheduler runs until its timeout", async () => {
  const scheduler = new PureScheduler(gated("tick", { forever: true }).job, { timeout: 20 });
  equal(await scheduler.run(), false);
  equal(scheduler.failedTimeOut(), true);
});

test("nesting: a nested scheduler is one job of its parent's window, its jobs count in its own", async () => {
  const inner = new Scheduler(...Array.from({ length: 10 }, (_, i) => yielding(`in${i}`, 2)), {
    jobsWindow: 4,
    label: "inner",
  });
  const outer = new PureScheduler(
    inner,
    ...Array.from({ length: 6 }, (_, i) => yielding(`out${i}`, 4)),
    { jobsWindow: 2 },
  );
  const outerMost = concurrency(outer, outer);
  const innerMost = concurrency(outer, inner);
  equal(await outer.run(), true);
  equal(outerMost(), 2);
  equal(innerMost(), 4);
  equal(inner.result(), true);
});

test("nesting: a critical failure propagates up, a non-critical one stays inside", async () => {
  const error = new Error("deep");
  const failing = new Scheduler(
    new Job(async () => {
      throw error;
    }),
    { label: "failing" },
  );
  const outer = new Scheduler(failing, { label: "outer" });
  await rejects(outer.run(), (reason) => reason === error);
  equal(outer.failedCritical(), true);

  const contained = new Scheduler(
    new Job(() => {
      throw new Error("contained");
    }),
    { critical: false, label: "contained" },
  );
  const after = new Job(() => 1, { label: "after", required: contained });
  equal(await new Scheduler(contained, after).run(), true);
  equal(contained.result(), false);
  equal(after.result(), 1);
});

test("cancellation: aborting the run's signal cancels its jobs, nested ones too", async () => {
  const controller = new AbortController();
  const deep = gated("deep");
  const inner = new Scheduler(deep.job, { label: "inner" });
  const outer = new PureScheduler(inner);
  const run = outer.run({ signal: controller.signal });
  const context = await deep.started;
  controller.abort(new Error("user pressed stop"));
  equal(await run, false);
  equal(outer.why(), "ABORTED: user pressed stop");
  equal(outer.failedTimeOut(), false);
  equal(outer.failedCritical(), false);
  equal(context.signal.aborted, true);
  equal(deep.job.isCancelled(), true);
});

test("cancellation: a critical Scheduler rejects with signal.reason itself", async () => {
  const controller = new AbortController();
  const reason = { why: "stop" };
  const slow = gated("slow");
  const run = new Scheduler(slow.job).run({ signal: controller.signal });
  await slow.started;
  controller.abort(reason);
  await rejects(run, (thrown) => thrown === reason);
});

test("cancellation: a cancelled job's late rejection is ignored", async () => {
  const late = deferred<string>();
  const stubborn = new Job(() => late.promise, { label: "stubborn", forever: true });
  const scheduler = new PureScheduler(stubborn, new Job(() => 1));
  equal(await scheduler.run(), true);
  late.reject(new Error("too late"));
  await microtasks();
  equal(stubborn.isDone(), false);
});

test("sleep: resolves, or rejects with the signal's reason when aborted", async () => {
  await sleep(1);
  const controller = new AbortController();
  const pending = sleep(60_000, controller.signal);
  controller.abort("stop");
  await rejects(pending, (reason) => reason === "stop");
});

test("shutdown and re-runs: each shutdown once, and a second run starts afresh", async () => {
  let calls = 0;
  let shutdowns = 0;
  const job = new Job(() => ++calls, { shutdown: () => void shutdowns++ });
  const scheduler = new PureScheduler(job);
  equal(await scheduler.run(), true);
  equal(await scheduler.shutdown(), true);
  equal(shutdowns, 1);
  equal(await scheduler.run(), true);
  equal(job.result(), 2);
});

test("listing and status text: badges, results and requirements", async () => {
  const a = new Job(() => 100, { label: "a" });
  const b = new Job(() => 200, { label: "b", required: a });
  const scheduler = new PureScheduler(a, b);
  await scheduler.run();
  const text = scheduler.list();
  const lines = text.trimEnd().split("\n");
  equal(lines.length, 2, text);
  ok(lines[0]?.includes("<Job `a`> [[ -> 100]]"), text);
  ok(lines[1]?.endsWith("<Job `b`> [[ -> 200]] requires={1}"), text);
  equal(scheduler.stats(), "2D + 0R + 0I = 2");
  ok(scheduler.dotFormat().startsWith("digraph asynciojobs"));
  ok(/^\d{3}\.\d{3}$/.test(new Watch().elapsed()));
});
