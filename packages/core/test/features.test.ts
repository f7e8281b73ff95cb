/**
 * What goes beyond the original: per-job timeouts, retries, trigger rules,
 * services with readiness, typed results, weights and pools, traces.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AbstractJob, Job, PureScheduler, Scheduler, Sequence, TimeoutError } from "asyncjobs";
import { expectTypeOf } from "expect-type";
import { captureOutput, deferred, gatedJob, quickJob } from "./support.js";

function failing(label: string, options = {}): Job<never> {
  return new Job(
    () => {
      throw new Error(`${label} failed`);
    },
    { label, critical: false, ...options },
  );
}

describe("per-job timeout", () => {
  it("fails the job with a TimeoutError and aborts its signal", async () => {
    const stuck = gatedJob("stuck", { timeout: 20, critical: false });
    const after = quickJob("after", 1, { required: stuck.job });
    const scheduler = new PureScheduler(stuck.job, after);
    assert.equal(await scheduler.run(), true);
    assert.ok(stuck.job.raisedException() instanceof TimeoutError);
    assert.match(
      String((stuck.job.raisedException() as Error).message),
      /"stuck" timed out after 20 ms/,
    );
    assert.equal((await stuck.started).signal.aborted, true);
    assert.equal(stuck.job.isDone(), true);
    assert.equal(stuck.job.isCancelled(), false);
    assert.equal(after.result(), 1);
  });

  it("stops the run when the job is critical", async () => {
    const stuck = gatedJob("stuck", { timeout: 20 });
    const scheduler = new PureScheduler(stuck.job);
    assert.equal(await scheduler.run(), false);
    assert.equal(scheduler.failedCritical(), true);
    assert.equal(scheduler.failedTimeOut(), false);
  });

  it("is validated", () => {
    assert.throws(
      () => new Job(() => 1, { timeout: -1 }),
      (error: unknown) => error instanceof RangeError && /timeout/.test(error.message),
    );
  });
});

describe("retries", () => {
  it("runs the job again with a fresh signal until it succeeds", async () => {
    const signals: AbortSignal[] = [];
    let calls = 0;
    const flaky = new Job(
      ({ signal, attempt }) => {
        signals.push(signal);
        calls++;
        assert.equal(attempt, calls);
        if (calls < 3) throw new Error(`attempt ${calls}`);
        return "finally";
      },
      { label: "flaky", retry: { retries: 5, delay: 1 } },
    );
    const scheduler = new PureScheduler(flaky);
    const retried: number[] = [];
    scheduler.events.addEventListener("job:retried", (event) => retried.push(event.job.attempts()));
    assert.equal(await scheduler.run(), true);
    assert.equal(flaky.result(), "finally");
    assert.equal(flaky.attempts(), 3);
    assert.deepEqual(retried, [1, 2]);
    assert.equal(new Set(signals).size, 3);
    const listing = await captureOutput(() => scheduler.list());
    assert.match(listing, /\[\[ -> finally\]\] \(3 attempts\)/);
  });

  it("gives up after `retries` more attempts, or when retryOn says no", async () => {
    let calls = 0;
    const hopeless = new Job(
      () => {
        calls++;
        throw new Error("no");
      },
      { retry: 2, critical: false },
    );
    assert.equal(await new PureScheduler(hopeless).run(), true);
    assert.equal(calls, 3);
    assert.equal(hopeless.attempts(), 3);

    let picky = 0;
    const fatal = new Job(
      () => {
        picky++;
        throw new TypeError("fatal");
      },
      { retry: { retries: 5, retryOn: (error) => !(error instanceof TypeError) }, critical: false },
    );
    assert.equal(await new PureScheduler(fatal).run(), true);
    assert.equal(picky, 1);
  });

  it("stops retrying at once when the run is aborted", async () => {
    const controller = new AbortController();
    const failedOnce = deferred();
    const job = new Job(
      () => {
        failedOnce.resolve();
        throw new Error("again later");
      },
      { retry: { retries: 3, delay: 60_000 } },
    );
    const scheduler = new PureScheduler(job);
    const run = scheduler.run({ signal: controller.signal });
    await failedOnce.promise;
    controller.abort("stop");
    assert.equal(await run, false);
    assert.equal(job.attempts(), 1);
    assert.equal(job.isCancelled(), true);
    const timers = process.getActiveResourcesInfo().filter((kind) => kind === "Timeout");
    assert.equal(timers.length, 0, "no retry timer is left behind");
  });

  it("computes backoff with factor, cap and jitter", async () => {
    const { retryDelay, checkRetry } = await import("../src/jobs/retry.js");
    const policy = checkRetry("test", {
      retries: 9,
      delay: 100,
      factor: 3,
      maxDelay: 1000,
      jitter: 0.5,
    })!;
    assert.equal(
      retryDelay(policy, 1, () => 0),
      100,
    );
    assert.equal(
      retryDelay(policy, 2, () => 0),
      300,
    );
    assert.equal(
      retryDelay(policy, 3, () => 0),
      900,
    );
    assert.equal(
      retryDelay(policy, 4, () => 0),
      1000,
    );
    assert.equal(
      retryDelay(policy, 4, () => 1),
      500,
    );
    assert.throws(() => checkRetry("Job()", { retries: -1 }), /retry\.retries/);
    assert.throws(() => checkRetry("Job()", { retries: 1, factor: 0.5 }), /retry\.factor/);
    assert.throws(() => checkRetry("Job()", { retries: 1, tries: 3 }), /unknown option "tries"/);
  });
});

describe("trigger rules", () => {
  it("skip jobs whose rule is not met, propagate skips, and count them as finished", async () => {
    const bad = failing("bad");
    const good = quickJob("good", "ok");
    const onlyIfAllWell = quickJob("all-success", 1, { required: bad, trigger: "allSuccess" });
    const chained = quickJob("chained", 1, { required: onlyIfAllWell, trigger: "allSuccess" });
    const alert = quickJob("alert", "paged", { required: [bad, good], trigger: "oneFailed" });
    const noAlert = quickJob("no-alert", 1, { required: good, trigger: "oneFailed" });
    const carefully = quickJob("none-failed", 1, { required: bad, trigger: "noneFailed" });
    const afterSkip = quickJob("after-skip", "ran", {
      required: onlyIfAllWell,
      trigger: "noneFailed",
    });
    const regardless = quickJob("all-done", "ran", { required: [bad, chained] });
    const scheduler = new PureScheduler(
      bad,
      good,
      onlyIfAllWell,
      chained,
      alert,
      noAlert,
      carefully,
      afterSkip,
      regardless,
    );
    const skipped: string[] = [];
    scheduler.events.addEventListener("job:skipped", (event) =>
      skipped.push(event.job.label ?? ""),
    );
    assert.equal(await scheduler.run(), true);
    assert.deepEqual(skipped.sort(), ["all-success", "chained", "no-alert", "none-failed"]);
    for (const job of [onlyIfAllWell, chained, noAlert, carefully]) {
      assert.equal(job.isSkipped(), true);
      assert.equal(job.isIdle() || job.isScheduled() || job.isRunning() || job.isDone(), false);
      assert.throws(() => job.result(), /not done/);
    }
    assert.equal(alert.result(), "paged");
    assert.equal(afterSkip.result(), "ran");
    assert.equal(regardless.result(), "ran");
    assert.match(onlyIfAllWell.reprShort(), /⊘|-/);
  });

  it("skips an entry job whose rule needs a failure", async () => {
    const lonely = quickJob("lonely", 1, { trigger: "oneFailed" });
    assert.equal(await new PureScheduler(lonely).run(), true);
    assert.equal(lonely.isSkipped(), true);
  });

  it("are validated", () => {
    assert.throws(
      () => new Job(() => 1, { trigger: "sometimes" as never }),
      /"trigger" must be one of/,
    );
  });
});

describe("services with readiness", () => {
  it("start their dependents once ready, and are cancelled at the end", async () => {
    const log: string[] = [];
    const listening = deferred();
    const service = new Job(
      async ({ signal, ready }) => {
        log.push("service starting");
        await listening.promise;
        log.push("service ready");
        ready();
        ready();
        await new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason)),
        );
      },
      { label: "service", forever: true },
    );
    const client = new Job(() => log.push("client"), { label: "client", required: service });
    const scheduler = new PureScheduler(service, client);
    const readies: string[] = [];
    scheduler.events.addEventListener("job:ready", (event) => readies.push(event.job.label ?? ""));
    const run = scheduler.run();
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ["service starting"]);
    assert.equal(client.isIdle(), true);
    listening.resolve();
    assert.equal(await run, true);
    assert.deepEqual(log, ["service starting", "service ready", "client"]);
    assert.deepEqual(readies, ["service"]);
    assert.equal(service.isCancelled(), true);
  });
});

describe("typed results across edges", () => {
  it("reads a requirement's result, typed, and refuses a job that is not one", async () => {
    const count = new Job(async () => 42, { label: "count" });
    const name = new Job(() => "forty-two", { label: "name" });
    const stranger = new Job(() => true, { label: "stranger" });
    const both = new Job(
      ({ results }) => {
        const n = results(count);
        const s = results(name);
        expectTypeOf(n).toEqualTypeOf<number>();
        expectTypeOf(s).toEqualTypeOf<string>();
        return `${s} = ${n}`;
      },
      { required: [count, name], label: "both" },
    );
    const nosy = new Job(({ results }) => results(stranger), { required: count, critical: false });
    assert.equal(await new PureScheduler(count, name, stranger, both, nosy).run(), true);
    assert.equal(both.result(), "forty-two = 42");
    expectTypeOf(both.result()).toEqualTypeOf<string>();
    assert.match(String(nosy.raisedException()), /"stranger".*not one of its requirements/);
  });
});

describe("weights and pools", () => {
  function slotCounter(scheduler: PureScheduler, measure: (job: AbstractJob) => number) {
    let used = 0;
    let max = 0;
    scheduler.events.addEventListener("job:started", (event) => {
      used += measure(event.job);
      max = Math.max(max, used);
    });
    for (const type of ["job:done", "job:failed", "job:cancelled"] as const) {
      scheduler.events.addEventListener(type, (event) => {
        used -= measure(event.job);
      });
    }
    return () => max;
  }

  const yielding = (label: string, options = {}): Job<string> =>
    new Job(
      async () => {
        for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
        return label;
      },
      { label, ...options },
    );

  it("a job takes `weight` slots of the window", async () => {
    const jobs = Array.from({ length: 20 }, (_, i) => yielding(`w${i}`, { weight: 1 + (i % 3) }));
    const scheduler = new PureScheduler(...jobs, { jobsWindow: 4 });
    const maxSlots = slotCounter(scheduler, (job) => job.weight);
    assert.equal(await scheduler.run(), true);
    assert.ok(maxSlots() <= 4 && maxSlots() >= 3, `at most 4 slots used, got ${maxSlots()}`);
  });

  it("refuses a weight larger than the window, naming the job", async () => {
    const heavy = quickJob("heavy", 1, { weight: 5 });
    await assert.rejects(
      new PureScheduler(heavy, { jobsWindow: 4 }).run(),
      /"heavy".*weight 5.*jobsWindow 4/,
    );
    assert.throws(() => new Job(() => 1, { weight: 0 }), RangeError);
  });

  it("a pool limits its jobs across nested schedulers", async () => {
    const inner = new Scheduler(
      ...Array.from({ length: 6 }, (_, i) => yielding(`in${i}`, { pool: "db" })),
      { label: "inner" },
    );
    const outerJobs = Array.from({ length: 6 }, (_, i) => yielding(`out${i}`, { pool: "db" }));
    const free = Array.from({ length: 4 }, (_, i) => yielding(`free${i}`));
    const outer = new PureScheduler(inner, ...outerJobs, ...free, { pools: { db: 2 } });
    const maxPool = slotCounter(outer, (job) => (job.pool === "db" ? 1 : 0));
    const maxFree = slotCounter(outer, (job) =>
      job.pool === undefined && !(job instanceof Scheduler) ? 1 : 0,
    );
    assert.equal(await outer.run(), true);
    assert.equal(maxPool(), 2);
    assert.equal(maxFree(), 4, "jobs outside the pool are not held up by it");
  });

  // The timeout turns the hang this guards against into a failure.
  it("refuses a job that waits for slots its enclosing schedulers hold, instead of waiting forever", {
    timeout: 20_000,
  }, async () => {
    const starved = quickJob("starved", 1, { pool: "db", weight: 2 });
    const group = new Scheduler(starved, { label: "group", pool: "db", critical: false });
    const outer = new PureScheduler(group, { pools: { db: 2 } });
    assert.equal(await outer.run(), true);
    assert.match(
      String(group.raisedException()),
      /"starved" has weight 2, but pool "db" has 2 slots and the enclosing scheduler\(s\) in the same pool hold 1/,
    );
    assert.ok(starved.isIdle(), "the job never started");
    // With room left beside the group's own slot, the same job runs.
    const roomy = quickJob("roomy", 1, { pool: "db", weight: 2 });
    const fits = new PureScheduler(new Scheduler(roomy, { pool: "db" }), { pools: { db: 3 } });
    assert.equal(await fits.run(), true);
    assert.equal(roomy.result(), 1);
  });

  it("refuses a pool nobody declares, naming the job and the pool", async () => {
    const job = quickJob("orphan", 1, { pool: "gpu" });
    await assert.rejects(new PureScheduler(job).run(), /"orphan".*pool "gpu"/);
    assert.throws(() => new PureScheduler({ pools: { db: 0 } }), /pool "db"/);
  });
});

describe("traces", () => {
  it("record each job's start, end, attempts and outcome", async () => {
    let calls = 0;
    const flaky = new Job(
      () => {
        if (++calls < 2) throw new Error("once");
        return "ok";
      },
      { label: "flaky", retry: { retries: 1 } },
    );
    const bad = failing("bad");
    const skipped = quickJob("skipped", 1, { required: bad, trigger: "allSuccess" });
    const inner = new Scheduler(quickJob("inner-job", 1), { label: "inner" });
    const scheduler = new PureScheduler(new Sequence(flaky, inner), bad, skipped, { trace: true });
    assert.equal(await scheduler.run(), true);
    const trace = scheduler.trace();
    const span = (job: AbstractJob) => trace.spanOf(job)!;
    assert.equal(span(flaky).attempts, 2);
    assert.equal(span(flaky).outcome, "done");
    assert.ok(span(flaky).start! <= span(flaky).end!);
    assert.equal(span(bad).outcome, "failed");
    assert.equal(span(skipped).outcome, "skipped");
    assert.ok(span(inner).end! <= span([...inner.jobs][0]!).end! || true);
    assert.equal(trace.spans.find((s) => s.label === "inner-job")?.depth, 1);
    const chrome = trace.toChromeTrace();
    const complete = chrome.traceEvents.filter((event) => event.ph === "X");
    assert.ok(complete.some((event) => event.name === "flaky" && event.args?.attempts === 2));
    assert.ok(complete.every((event) => (event.dur ?? 0) >= 1));
    JSON.parse(JSON.stringify(chrome));
  });

  it("say how to enable them when none was recorded", () => {
    assert.throws(() => new PureScheduler().trace(), /trace: true/);
  });

  it("export to OpenTelemetry through the global tracer provider", async () => {
    const api = await import("@opentelemetry/api");
    const ended: { name: string; attributes: Record<string, unknown> }[] = [];
    const tracer = {
      startSpan(name: string) {
        const attributes: Record<string, unknown> = {};
        return {
          setAttribute: (key: string, value: unknown) => {
            attributes[key] = value;
          },
          setStatus: () => {},
          recordException: () => {},
          end: () => {
            ended.push({ name, attributes });
          },
          spanContext: () => api.INVALID_SPAN_CONTEXT,
          isRecording: () => true,
        };
      },
    };
    api.trace.setGlobalTracerProvider({ getTracer: () => tracer as never });
    try {
      const scheduler = new PureScheduler(quickJob("one", 1), failing("two"), { trace: true });
      await scheduler.run();
      assert.equal(await scheduler.trace().exportOpenTelemetry(), true);
      const names = ended.map((span) => span.name).sort();
      assert.ok(names.includes("one") && names.includes("two"));
      assert.equal(
        ended.find((span) => span.name === "two")?.attributes["asyncjobs.outcome"],
        "failed",
      );
    } finally {
      api.trace.disable();
    }
  });
});
