/**
 * Faults and limits: shutdowns that throw or hang, jobs that break the
 * rules of promises, forever jobs, extreme timeouts, windows and sizes,
 * memory over many runs, and a process that must exit by itself.
 *
 * Tests that only need an order of events run on the virtual clock (see
 * test/support/virtual-clock.ts); the ones about real handles, memory and
 * process exit use real time, with generous deadlines and no timing
 * assertions.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { AbstractJob, Job, PureScheduler, Scheduler, sleep, TimeoutError } from "asyncjobs";
import { VirtualClock } from "./support/virtual-clock.js";
import { captureOutput, ticks } from "./support.js";

/** Runs `body` with the global timers on a virtual clock. */
async function onVirtualClock<T>(body: (clock: VirtualClock) => Promise<T>): Promise<T> {
  const clock = new VirtualClock();
  const uninstall = clock.install();
  try {
    return await body(clock);
  } finally {
    uninstall();
  }
}

/** A job that resolves `value` after `ms` virtual milliseconds (honouring its signal). */
function timedJob<T>(
  clock: VirtualClock,
  ms: number,
  value: T,
  options: ConstructorParameters<typeof Job>[1] = {},
): Job<T> {
  return new Job<T>(async ({ signal }) => {
    await clock.sleep(ms, signal);
    return value;
  }, options);
}

/** A thenable that never settles (and holds nothing that keeps the process alive). */
function neverThenable(): PromiseLike<never> {
  return {
    // biome-ignore lint/suspicious/noThenProperty: a bare thenable is what this stands for.
    then() {
      return neverThenable() as never;
    },
  };
}

/** Real timers currently keeping the event loop alive. */
function liveTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
}

/** Collects unhandled rejections while `body` runs (and a few turns after). */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on("unhandledRejection", listener);
  try {
    await body();
    await ticks(5);
  } finally {
    process.off("unhandledRejection", listener);
  }
  return seen;
}

/** Runs a module in a fresh Node process; resolves with its exit code and output. */
function runChild(
  code: string,
  extraArguments: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", ...extraArguments, "--input-type=module", "-e", code],
      { cwd: process.cwd(), stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (exitCode) => resolve({ code: exitCode, stdout, stderr }));
  });
}

describe("faults: shutdown", () => {
  it("a shutdown() that never settles is cut short by shutdownTimeout, and shutdown() answers false", async () => {
    await onVirtualClock(async (clock) => {
      let calls = 0;
      const job = timedJob(clock, 10, "x", {
        shutdown: () => {
          calls++;
          return new Promise(() => {});
        },
      });
      const scheduler = new PureScheduler(job, { shutdownTimeout: 50 });
      const outcome = await clock.settle(scheduler.run());
      assert.deepEqual(outcome, { pending: false, ok: true, value: true });
      // The job ended at 10; its shutdown was given 50 more, not a moment longer.
      assert.equal(clock.now, 60);
      assert.equal(await scheduler.shutdown(), false);
      assert.equal(await scheduler.shutdown(), false);
      assert.equal(calls, 1);
      assert.equal(clock.liveEngineTimers, 0);
    });
  });

  const failures: [string, () => unknown][] = [
    [
      "throws",
      () => {
        throw new Error("cannot shut down");
      },
    ],
    [
      "rejects",
      async () => {
        throw new Error("cannot shut down");
      },
    ],
    ["answers false", () => false],
    [
      "throws a string",
      () => {
        throw "not an error";
      },
    ],
  ];
  for (const [what, shutdown] of failures) {
    it(`a shutdown() that ${what} makes shutdown() answer false, without waiting for shutdownTimeout`, async () => {
      await onVirtualClock(async (clock) => {
        const job = timedJob(clock, 10, "x", { shutdown });
        const fine = timedJob(clock, 20, "y", { shutdown: () => undefined });
        const scheduler = new PureScheduler(job, fine, { shutdownTimeout: 1000 });
        const seen = await unhandledDuring(async () => {
          assert.deepEqual(await clock.settle(scheduler.run()), {
            pending: false,
            ok: true,
            value: true,
          });
        });
        assert.equal(clock.now, 20);
        assert.deepEqual(seen, []);
        assert.equal(await scheduler.shutdown(), false);
        assert.equal(clock.liveEngineTimers, 0);
      });
    });
  }

  it("a job class whose shutdown() throws synchronously is reported the same way", async () => {
    class Brittle extends AbstractJob<string> {
      override async run(): Promise<string> {
        return "ran";
      }
      override shutdown(): Promise<unknown> {
        throw new Error("sync throw in shutdown");
      }
    }
    const scheduler = new PureScheduler(new Brittle());
    assert.equal(await scheduler.run(), true);
    assert.equal(await scheduler.shutdown(), false);
  });

  it("a nested scheduler whose shutdown fails makes its parent's shutdown() answer false", async () => {
    await onVirtualClock(async (clock) => {
      const inner = new Scheduler(
        timedJob(clock, 5, "in", { shutdown: () => new Promise(() => {}) }),
        { label: "inner", shutdownTimeout: 30 },
      );
      const outer = new PureScheduler(inner, timedJob(clock, 5, "out"), { shutdownTimeout: 100 });
      const outcome = await clock.settle(outer.run());
      assert.equal(outcome.pending, false);
      assert.equal(await inner.shutdown(), false);
      assert.equal(await outer.shutdown(), false);
      assert.equal(clock.liveEngineTimers, 0);
    });
  });

  it("with shutdownTimeout null, the shutdown phase waits for every shutdown()", async () => {
    await onVirtualClock(async (clock) => {
      const job = timedJob(clock, 10, "x", { shutdown: () => clock.sleep(5000) });
      const scheduler = new PureScheduler(job, { shutdownTimeout: null });
      const outcome = await clock.settle(scheduler.run());
      assert.deepEqual(outcome, { pending: false, ok: true, value: true });
      assert.equal(clock.now, 5010);
      assert.equal(await scheduler.shutdown(), true);
    });
  });

  it("verbose output says when a shutdown fails or times out", async () => {
    for (const shutdown of [
      () => {
        throw new Error("cannot shut down");
      },
      () => new Promise(() => {}),
    ]) {
      const scheduler = new PureScheduler(new Job(() => "x", { label: "worker", shutdown }), {
        verbose: true,
        shutdownTimeout: 10,
      });
      const text = await captureOutput(() => scheduler.run());
      const lines = text.split("\n").filter((line) => /shut/i.test(line));
      assert.ok(
        lines.some((line) => /fail|timed? ?out|error|false|not ok/i.test(line)),
        `no line reports the failed shutdown in:\n${text}`,
      );
      assert.equal(await scheduler.shutdown(), false);
    }
  });
});

describe("faults: jobs that break the rules of promises", () => {
  class SyncThrower extends AbstractJob<never> {
    readonly error = new Error("thrown before any await");
    // Not async: the throw happens inside the engine's call to run().
    override run(): Promise<never> {
      throw this.error;
    }
  }

  it("a run() that throws synchronously is the job's exception", async () => {
    const critical = new SyncThrower({ label: "sync" });
    const other = new Job(({ signal }) => sleep(60_000, signal), { label: "other" });
    const scheduler = new Scheduler(other, critical);
    await assert.rejects(scheduler.run(), (error) => error === critical.error);
    assert.equal(critical.raisedException(), critical.error);
    assert.ok(critical.isDone());
    // Cancelled if it was started first, never started otherwise.
    assert.ok(other.isCancelled() || !other.isRunning());
    assert.ok(!other.isDone());
    assert.equal(scheduler.failedCritical(), true);

    const lenient = new SyncThrower({ critical: false });
    const next = new Job(() => "next", { required: lenient });
    assert.equal(await new PureScheduler(lenient, next).run(), true);
    assert.equal(next.result(), "next");
    await assert.rejects(new SyncThrower().standaloneRun(), /thrown before any await/);
  });

  it("a run() that returns a plain value, not a promise, has that value as its result", async () => {
    class Plain extends AbstractJob<number> {
      override run(): Promise<number> {
        return 42 as unknown as Promise<number>;
      }
    }
    const plain = new Plain();
    const fn = new Job(() => ({ answer: 42 }));
    assert.equal(await new PureScheduler(plain, fn).run(), true);
    assert.equal(plain.result(), 42);
    assert.deepEqual(fn.result(), { answer: 42 });
  });

  it("a thenable that never settles is cancelled by the timeout, leaving nothing behind", async () => {
    await onVirtualClock(async (clock) => {
      const stuck = new Job(() => neverThenable(), { label: "stuck" });
      const scheduler = new Scheduler(stuck, { timeout: 25 });
      const outcome = await clock.settle(scheduler.run());
      assert.equal(outcome.pending, false);
      assert.ok(!outcome.pending && !outcome.ok && outcome.value instanceof TimeoutError);
      assert.equal(clock.now, 25);
      assert.ok(stuck.isCancelled());
      assert.equal(scheduler.why(), "TIMED OUT after 25 ms");
      assert.equal(clock.liveEngineTimers, 0);
    });
  });

  it("a forever thenable that never settles is cancelled at the end of a fine run", async () => {
    const stuck = new Job(() => neverThenable(), { forever: true });
    const work = new Job(async () => "done");
    assert.equal(await new PureScheduler(stuck, work).run(), true);
    assert.ok(stuck.isCancelled());
  });

  it("a thenable whose then() throws makes the job raise that error", async () => {
    const error = new Error("then() throws");
    const job = new Job(
      () =>
        ({
          // biome-ignore lint/suspicious/noThenProperty: a broken thenable is the point of the test.
          then() {
            throw error;
          },
        }) as unknown as PromiseLike<void>,
      { critical: false },
    );
    assert.equal(await new PureScheduler(job).run(), true);
    assert.equal(job.raisedException(), error);
  });

  it("values thrown that are not Errors are kept as they are, and a critical Scheduler rejects with them", async () => {
    for (const thrown of ["a string", 0, undefined, null, { code: 7 }]) {
      const job = new Job(() => {
        throw thrown;
      });
      const scheduler = new Scheduler(job);
      await assert.rejects(scheduler.run(), (error) => Object.is(error, thrown));
      assert.ok(job.isDone());
      assert.ok(Object.is(job.raisedException(), thrown));
      assert.throws(
        () => job.result(),
        (error) => Object.is(error, thrown),
      );
      assert.equal(scheduler.why(), "a CRITICAL job has raised an exception");
    }
  });

  it("a cancelled job that ignores its signal and rejects later changes nothing and is not an unhandled rejection", async () => {
    let rejectLater: (reason: unknown) => void = () => {};
    const deaf = new Job(
      () =>
        new Promise((_, reject) => {
          rejectLater = reject;
        }),
      { label: "deaf" },
    );
    const failing = new Job(
      async () => {
        await ticks(1);
        throw new Error("critical failure");
      },
      { label: "failing" },
    );
    const scheduler = new PureScheduler(deaf, failing);
    const seen = await unhandledDuring(async () => {
      assert.equal(await scheduler.run(), false);
      assert.ok(deaf.isCancelled());
      rejectLater(new Error("too late"));
    });
    assert.deepEqual(seen, []);
    assert.ok(deaf.isCancelled());
    assert.ok(!deaf.isDone());
    assert.equal(deaf.raisedException(), undefined);
  });
});

describe("faults: forever jobs", () => {
  it("a forever job that finishes by itself is done, and its successors run", async () => {
    await onVirtualClock(async (clock) => {
      const warmup = timedJob(clock, 10, "warm", { forever: true, label: "warmup" });
      const after = timedJob(clock, 10, "after", { required: warmup, label: "after" });
      const long = timedJob(clock, 50, "long", { label: "long" });
      const scheduler = new PureScheduler(warmup, after, long);
      const outcome = await clock.settle(scheduler.run());
      assert.deepEqual(outcome, { pending: false, ok: true, value: true });
      assert.equal(clock.now, 50);
      assert.equal(warmup.result(), "warm");
      assert.equal(after.result(), "after");
      assert.ok(!warmup.isCancelled());
    });
  });

  it("a forever job that raises stops the run when critical, and does not when it is not", async () => {
    await onVirtualClock(async (clock) => {
      const boom = new Error("monitor crashed");
      const crash = (critical: boolean) =>
        new Job(
          async () => {
            await clock.sleep(5);
            throw boom;
          },
          { forever: true, critical },
        );
      const work = () => timedJob(clock, 20, "work");
      const strict = new PureScheduler(crash(true), work());
      assert.deepEqual(await clock.settle(strict.run()), {
        pending: false,
        ok: true,
        value: false,
      });
      assert.equal(strict.failedCritical(), true);
      const lenient = new PureScheduler(crash(false), work());
      assert.deepEqual(await clock.settle(lenient.run()), {
        pending: false,
        ok: true,
        value: true,
      });
    });
  });

  it("a forever job that becomes ready only once every other job is done is not started", async () => {
    let started = 0;
    const last = new Job(async () => "last", { label: "last" });
    const monitor = new Job(
      async ({ signal }) => {
        started++;
        await sleep(60_000, signal);
      },
      { forever: true, required: last, label: "monitor" },
    );
    const scheduler = new PureScheduler(last, monitor, { jobsWindow: 1 });
    assert.equal(await scheduler.run(), true);
    assert.equal(started, 0);
    assert.ok(!monitor.isRunning());
    assert.ok(!monitor.isCancelled());
  });

  it("a scheduler whose jobs are all forever runs until they all end by themselves", async () => {
    await onVirtualClock(async (clock) => {
      const a = timedJob(clock, 30, "a", { forever: true });
      const b = timedJob(clock, 70, "b", { forever: true });
      const scheduler = new Scheduler(a, b);
      const outcome = await clock.settle(scheduler.run());
      assert.deepEqual(outcome, { pending: false, ok: true, value: true });
      assert.equal(clock.now, 70);
      assert.equal(a.result(), "a");
      assert.equal(b.result(), "b");
    });
  });

  it("a scheduler whose jobs are all forever, with a timeout, ends in a timeout failure", async () => {
    await onVirtualClock(async (clock) => {
      const forever = (): Job =>
        new Job(({ signal }) => clock.sleep(1e9, signal), { forever: true });
      const critical = new Scheduler(forever(), forever(), { timeout: 40 });
      const outcome = await clock.settle(critical.run());
      assert.ok(!outcome.pending && !outcome.ok && outcome.value instanceof TimeoutError);
      assert.equal(clock.now, 40);
      assert.equal(critical.failedTimeOut(), true);
      assert.equal(critical.why(), "TIMED OUT after 40 ms");

      const pure = new PureScheduler(forever(), { timeout: 15 });
      assert.deepEqual(await clock.settle(pure.run()), { pending: false, ok: true, value: false });
      assert.equal(pure.failedTimeOut(), true);
      assert.equal(clock.liveEngineTimers, 0);
    });
  });

  it("a scheduler whose jobs are all forever, without a timeout, ends when its signal aborts", async () => {
    await onVirtualClock(async (clock) => {
      const tick = new Job(({ signal }) => clock.sleep(1e9, signal), { forever: true });
      const scheduler = new PureScheduler(tick);
      const controller = new AbortController();
      clock.schedule(100, () => controller.abort("enough"));
      const outcome = await clock.settle(scheduler.run({ signal: controller.signal }));
      assert.deepEqual(outcome, { pending: false, ok: true, value: false });
      assert.equal(clock.now, 100);
      assert.equal(scheduler.why(), "ABORTED: enough");
      assert.ok(tick.isCancelled());
    });
  });
});

describe("faults: limits", () => {
  it("timeout: 0 times out at once: a job that waits for anything is cut short", async () => {
    const waits = new Job(({ signal }) => sleep(1, signal), { label: "waits" });
    const scheduler = new Scheduler(waits, { timeout: 0 });
    await assert.rejects(scheduler.run(), TimeoutError);
    assert.equal(scheduler.why(), "TIMED OUT after 0 ms");
    assert.ok(waits.isCancelled());
    const pure = new PureScheduler(new Job(({ signal }) => sleep(1, signal)), { timeout: 0 });
    assert.equal(await pure.run(), false);
    assert.equal(pure.failedTimeOut(), true);
  });

  it("timeout: 0 still lets jobs that settle during the synchronous start (or its microtasks) count", async () => {
    const now = new Job(() => "sync");
    const soon = new Job(async () => "microtask", { required: now });
    const scheduler = new Scheduler(now, soon, { timeout: 0 });
    assert.equal(await scheduler.run(), true);
    assert.equal(soon.result(), "microtask");
    assert.equal(await new Scheduler({ timeout: 0 }).run(), true);
  });

  it("a window of 1 on a wide graph runs the jobs one at a time, all of them", async () => {
    await onVirtualClock(async (clock) => {
      let running = 0;
      let max = 0;
      const jobs = Array.from(
        { length: 500 },
        (_, index) =>
          new Job(async ({ signal }) => {
            running++;
            max = Math.max(max, running);
            await clock.sleep(2, signal);
            running--;
            return index;
          }),
      );
      const fanOut = new Job(() => "root");
      for (const job of jobs) job.requires(fanOut);
      const scheduler = new PureScheduler(fanOut, ...jobs, { jobsWindow: 1 });
      const outcome = await clock.settle(scheduler.run());
      assert.deepEqual(outcome, { pending: false, ok: true, value: true });
      assert.equal(max, 1);
      assert.equal(clock.now, 1000);
      assert.ok(jobs.every((job, index) => job.result() === index));
    });
  });

  it("a 10 000-deep chain runs without overflowing the stack, whether its jobs resolve or throw synchronously", async () => {
    for (const throws of [false, true]) {
      const chain: Job[] = [];
      for (let index = 0; index < 10_000; index++) {
        chain.push(
          new Job(
            () => {
              if (throws) throw new Error(`link ${index}`);
              return index;
            },
            { required: chain[index - 1], critical: false },
          ),
        );
      }
      const scheduler = new PureScheduler();
      scheduler.update(chain);
      assert.equal(await scheduler.run(), true);
      const last = chain[chain.length - 1]!;
      if (throws) assert.match(String(last.raisedException()), /link 9999/);
      else assert.equal(last.result(), 9999);
    }
  });

  it("a 100 000-wide fan-in runs without overflowing the stack", async () => {
    const wide = Array.from({ length: 100_000 }, (_, index) => new Job(async () => index));
    const sink = new Job(() => "sink", { required: wide });
    const scheduler = new PureScheduler();
    scheduler.update(wide);
    scheduler.add(sink);
    assert.equal(await scheduler.run(), true);
    assert.equal(sink.result(), "sink");
    assert.equal(scheduler.stats(), "100001D + 0R + 0I = 100001");
  });

  it("a nested scheduler that does not run again reads as never started and is shut down again", async () => {
    let fail = false;
    let shutdowns = 0;
    const gate = new Job(
      async () => {
        if (fail) throw new Error("gate closed");
      },
      { label: "gate" },
    );
    const innerJob = new Job(async () => "inner", {
      label: "inner job",
      shutdown: () => {
        shutdowns++;
      },
    });
    const inner = new Scheduler(innerJob, { label: "inner", required: gate });
    const outer = new PureScheduler(gate, inner);
    assert.equal(await outer.run(), true);
    assert.equal(innerJob.result(), "inner");
    assert.equal(shutdowns, 1);
    fail = true;
    assert.equal(await outer.run(), false);
    assert.ok(!inner.isRunning());
    assert.ok(!innerJob.isRunning() && !innerJob.isDone());
    assert.equal(inner.why(), "FINE");
    assert.equal(shutdowns, 2);
  });
});

describe("faults: resources", () => {
  it("no timer of the scheduler is left once run() settles, however the run ends", async () => {
    const baseline = liveTimers();
    const cases: [string, () => Promise<unknown>][] = [
      [
        "fine",
        () =>
          new PureScheduler(new Job(({ signal }) => sleep(5, signal)), {
            timeout: 60_000,
            shutdownTimeout: 60_000,
          }).run(),
      ],
      [
        "critical",
        () =>
          new PureScheduler(
            new Job(async () => {
              throw new Error("x");
            }),
            new Job(({ signal }) => sleep(60_000, signal)),
            { timeout: 60_000 },
          ).run(),
      ],
      [
        "timeout",
        () =>
          new PureScheduler(new Job(({ signal }) => sleep(60_000, signal)), { timeout: 5 }).run(),
      ],
      [
        "abort",
        () =>
          new PureScheduler(new Job(({ signal }) => sleep(60_000, signal)), {
            timeout: 60_000,
          }).run({ signal: AbortSignal.abort("no") }),
      ],
      [
        "shutdown timing out",
        () =>
          new PureScheduler(new Job(() => 1, { shutdown: () => new Promise(() => {}) }), {
            shutdownTimeout: 5,
          }).run(),
      ],
      [
        "forever jobs cancelled",
        () =>
          new PureScheduler(
            new Job(({ signal }) => sleep(60_000, signal), { forever: true }),
            new Job(() => new Promise(() => {}), { forever: true }),
            new Job(async () => 1),
            { timeout: 60_000 },
          ).run(),
      ],
    ];
    for (const [what, run] of cases) {
      await run();
      assert.equal(liveTimers(), baseline, `a timer is left after a run that ends: ${what}`);
    }
  });

  it("a process that only builds and runs a scheduler exits by itself once run() settles", async () => {
    const prelude = `
      import { Job, PureScheduler, Scheduler, sleep } from "asyncjobs";
      // Only a deadline: unref'd, so it keeps nothing alive by itself.
      setTimeout(() => { console.log("STILL ALIVE", JSON.stringify(process.getActiveResourcesInfo())); process.exit(3); }, 10_000).unref();
      const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
    `;
    const scenarios = [
      // A fine run: forever jobs are cancelled, one of them ignores its signal.
      `${prelude}
      const ok = await new PureScheduler(
        new Job(async () => { await sleep(20); return "work"; }),
        new Job(({ signal }) => sleep(3_600_000, signal), { forever: true }),
        new Job(() => new Promise(() => {}), { forever: true }),
        { timeout: 3_600_000, shutdownTimeout: 3_600_000 },
      ).run();
      console.log("settled", ok, "timers", timers());`,
      // A critical failure while a job that ignores its signal runs.
      `${prelude}
      const ok = await new Scheduler(
        new Job(() => new Promise(() => {}), { label: "deaf" }),
        new Job(({ signal }) => sleep(3_600_000, signal), { forever: true }),
        new Job(async () => { await sleep(20); throw new Error("boom"); }),
        { critical: false, timeout: 3_600_000, shutdownTimeout: 3_600_000 },
      ).run();
      console.log("settled", ok, "timers", timers());`,
    ];
    const expected = ["settled true timers 0", "settled false timers 0"];
    const results = await Promise.all(scenarios.map((code) => runChild(code)));
    results.forEach((result, index) => {
      assert.equal(result.stdout.trim(), expected[index], result.stderr);
      assert.equal(result.code, 0, result.stdout + result.stderr);
    });
  });

  it("re-running the same scheduler 1 000 times keeps memory flat", async () => {
    const code = `
      import { Job, PureScheduler, Scheduler, sleep } from "asyncjobs";
      const jobs = [];
      for (let i = 0; i < 150; i++) {
        jobs.push(new Job(async () => ({ i }), { label: "j" + i, required: i % 3 ? jobs[i - 1] : undefined }));
      }
      jobs.push(new Job(async () => { throw new Error("lenient"); }, { critical: false }));
      jobs.push(new Job(({ signal }) => sleep(3_600_000, signal), { forever: true }));
      const innerJobs = Array.from({ length: 40 }, (_, i) => new Job(async () => i));
      const inner = new Scheduler(...innerJobs, { jobsWindow: 4, label: "inner", timeout: 60_000 });
      const scheduler = new Scheduler(...jobs, inner, { jobsWindow: 8, timeout: 60_000 });
      scheduler.events.addEventListener("job:done", () => {});
      // One signal for every run: the listener each run adds must go away.
      const controller = new AbortController();
      const heap = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().heapUsed; };
      for (let run = 0; run < 100; run++) if (!(await scheduler.run({ signal: controller.signal }))) throw new Error("run failed");
      const before = heap();
      for (let run = 0; run < 900; run++) if (!(await scheduler.run({ signal: controller.signal }))) throw new Error("run failed");
      const after = heap();
      console.log(JSON.stringify({ before, after }));
    `;
    const result = await runChild(code, ["--expose-gc"]);
    assert.equal(result.code, 0, result.stderr);
    const { before, after } = JSON.parse(result.stdout) as { before: number; after: number };
    // 900 runs of ~190 jobs: one object left behind per job and run would add
    // megabytes; what the engine's code caches stays well under this.
    assert.ok(after - before < 400_000, `heap grew by ${after - before} bytes over 900 runs`);
  });
});
