/**
 * What user code can do to a run, and what the engine refuses: callbacks
 * that throw, durations a timer cannot wait, settings changed during a run,
 * deep nesting, two runs of one job or one shutdown at once, and setters
 * given the wrong kind of value. Each test here failed before the engine
 * was fixed for it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Job, PrintJob, PureScheduler, Scheduler, sleep } from "asyncjobs";
import { captureOutput, deferred, gatedJob, ticks } from "./support.js";

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Collects the unhandled rejections seen while `fn` runs (and a few turns after). */
async function withoutUnhandled<T>(fn: () => Promise<T>): Promise<T> {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on("unhandledRejection", onUnhandled);
  try {
    const result = await fn();
    await ticks(5);
    assert.deepEqual(seen, [], "unhandled rejections");
    return result;
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
}

/** Resolves once `promise` settles, or with "pending" if it has not after `turns` event-loop turns. */
async function settledWithin(promise: Promise<unknown>, turns = 20): Promise<string> {
  let state = "pending";
  promise.then(
    () => {
      state = "fulfilled";
    },
    () => {
      state = "rejected";
    },
  );
  await ticks(turns);
  return state;
}

describe("a user callback that throws fails its job", () => {
  it("retryOn throwing fails the job with its error, and the run ends as for any failure", async () => {
    await withoutUnhandled(async () => {
      const oops = new Error("retryOn broke");
      const job = new Job(
        async () => {
          throw new Error("job failed");
        },
        {
          label: "flaky",
          retry: {
            retries: 3,
            retryOn: () => {
              throw oops;
            },
          },
        },
      );
      const scheduler = new PureScheduler(job);
      const run = scheduler.run();
      assert.equal(await settledWithin(run), "fulfilled", "run() settles");
      assert.equal(await run, false);
      assert.equal(scheduler.why(), "a CRITICAL job has raised an exception");
      assert.equal(job.raisedException(), oops);
      assert.equal(job.attempts(), 1);
    });
  });

  it("retryOn throwing on a non-critical job fails that job only", async () => {
    await withoutUnhandled(async () => {
      const oops = new Error("retryOn broke");
      const job = new Job(() => Promise.reject(new Error("no")), {
        label: "flaky",
        critical: false,
        retry: {
          retries: 1,
          retryOn: () => {
            throw oops;
          },
        },
      });
      const after = new Job(async () => "after", { label: "after", required: job });
      const scheduler = new PureScheduler(job, after);
      assert.equal(await scheduler.run(), true);
      assert.equal(job.raisedException(), oops);
      assert.equal(after.result(), "after");
    });
  });

  it("a job throwing synchronously, with a retryOn that throws, ends the run once: no rejection, no late timeout, one shutdown", async () => {
    await withoutUnhandled(async () => {
      let shutdowns = 0;
      const slow = gatedJob("slow", {
        shutdown: () => {
          shutdowns++;
        },
      });
      const oops = new Error("retryOn broke");
      const sync = new Job(
        () => {
          throw new Error("sync");
        },
        {
          label: "sync",
          retry: {
            retries: 2,
            retryOn: () => {
              throw oops;
            },
          },
        },
      );
      const scheduler = new PureScheduler(slow.job, sync, { timeout: 60_000 });
      const ended: boolean[] = [];
      scheduler.events.addEventListener("scheduler:ended", (event) => ended.push(event.ok!));
      assert.equal(await scheduler.run(), false);
      assert.equal(scheduler.why(), "a CRITICAL job has raised an exception");
      assert.equal(sync.raisedException(), oops);
      assert.equal(slow.job.isCancelled(), true);
      assert.deepEqual(ended, [false]);
      assert.equal(shutdowns, 1);
      // The run is over: a second one may start (it would be refused while one goes on).
      assert.equal(await settledWithin(scheduler.run()), "fulfilled");
    });
  });

  it("a job function that throws synchronously fails like one that rejects", async () => {
    const error = new Error("sync");
    const job = new Job(
      () => {
        throw error;
      },
      { label: "sync", critical: false },
    );
    const scheduler = new PureScheduler(job);
    assert.equal(await scheduler.run(), true);
    assert.equal(job.raisedException(), error);
  });

  it("a job returning an object whose `then` getter throws fails with that error", async () => {
    const error = new Error("then getter");
    const weird = {
      // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is the point of this test.
      get then(): never {
        throw error;
      },
    };
    const job = new Job(() => weird as unknown as Promise<void>, { label: "weird" });
    const scheduler = new PureScheduler(job);
    assert.equal(await withoutUnhandled(() => scheduler.run()), false);
    assert.equal(job.raisedException(), error);
  });

  for (const type of ["job:started", "job:done", "scheduler:started", "scheduler:ended"] as const) {
    it(`an event listener of ${type} that throws makes run() reject with its error, and the process lives`, async () => {
      await withoutUnhandled(async () => {
        const error = new Error(`listener of ${type}`);
        let calls = 0;
        const job = new Job(
          async () => {
            calls++;
            return 1;
          },
          { label: "job" },
        );
        const scheduler = new PureScheduler(job);
        scheduler.events.addEventListener(type, () => {
          throw error;
        });
        await assert.rejects(scheduler.run(), (thrown) => thrown === error);
        assert.equal(scheduler._busy, false);
        if (type === "job:started" || type === "scheduler:started") {
          assert.equal(calls, 0, "the job does not start once the run has ended");
          assert.match(scheduler.why(), /ABORTED: listener of/);
        }
      });
    });
  }

  it("a listener of a nested scheduler's events that throws fails the nested scheduler, as a job", async () => {
    await withoutUnhandled(async () => {
      const error = new Error("listener");
      const inner = new Scheduler(new Job(async () => 1, { label: "leaf" }), {
        label: "inner",
        critical: false,
      });
      inner.events.addEventListener("job:done", () => {
        throw error;
      });
      const after = new Job(async () => 2, { label: "after", required: inner });
      const outer = new PureScheduler(inner, after);
      assert.equal(await outer.run(), true);
      assert.equal(inner.raisedException(), error);
      assert.equal(after.result(), 2);
    });
  });

  it("a listener on the outer scheduler that throws on a nested event makes the outer run() reject, shutting each job down once", async () => {
    await withoutUnhandled(async () => {
      const error = new Error("outer listener");
      let shutdowns = 0;
      const leaf = new Job(async () => 1, {
        label: "leaf",
        shutdown: () => {
          shutdowns++;
        },
      });
      const inner = new Scheduler(leaf, { label: "inner", critical: false });
      const outer = new PureScheduler(inner);
      outer.events.addEventListener("scheduler:ended", (event) => {
        if (event.scheduler === inner) throw error;
      });
      await assert.rejects(outer.run(), (thrown) => thrown === error);
      assert.equal(shutdowns, 1);
    });
  });

  it("a listener that is not a function is refused, naming it", () => {
    const scheduler = new PureScheduler();
    assert.throws(
      () => scheduler.events.addEventListener("job:done", 42 as unknown as () => void),
      (error: Error) => error instanceof TypeError && /listener/.test(error.message),
    );
  });
});

describe("durations a timer cannot wait are refused, or waited in full", () => {
  const tooLong = MAX_TIMER_MS + 1;

  it("every duration option above 2^31-1 ms throws a RangeError naming it, and changes nothing", () => {
    const cases: [string, () => unknown][] = [
      ["timeout", () => new PureScheduler({ timeout: tooLong })],
      ["shutdownTimeout", () => new PureScheduler({ shutdownTimeout: tooLong })],
      ["timeout", () => new Scheduler({ timeout: tooLong })],
      ["timeout", () => new Job(async () => 1, { timeout: tooLong })],
      ["retry.delay", () => new Job(async () => 1, { retry: { retries: 1, delay: tooLong } })],
      [
        "retry.maxDelay",
        () => new Job(async () => 1, { retry: { retries: 1, maxDelay: tooLong } }),
      ],
      ["sleep", () => new PrintJob("x", { sleep: tooLong })],
    ];
    for (const [name, make] of cases) {
      assert.throws(make, (error: Error) => {
        assert.ok(error instanceof RangeError, `${name}: ${error}`);
        assert.ok(error.message.includes(`"${name}"`), error.message);
        assert.ok(error.message.includes(String(MAX_TIMER_MS)), error.message);
        return true;
      });
    }
    const scheduler = new PureScheduler({ timeout: 5, shutdownTimeout: 7 });
    assert.throws(() => {
      scheduler.timeout = tooLong;
    }, /"timeout"/);
    assert.throws(() => {
      scheduler.shutdownTimeout = tooLong;
    }, /"shutdownTimeout"/);
    assert.equal(scheduler.timeout, 5);
    assert.equal(scheduler.shutdownTimeout, 7);
    // The longest wait a timer can make is still fine.
    assert.equal(new PureScheduler({ timeout: MAX_TIMER_MS }).timeout, MAX_TIMER_MS);
  });

  it("sleep() above 2^31-1 ms rejects with a RangeError naming ms", async () => {
    await assert.rejects(sleep(tooLong), (error: Error) => {
      return error instanceof RangeError && /ms/.test(error.message);
    });
  });

  it("a retry wait that backoff grows past 2^31-1 ms does not fire early", async () => {
    let attempts = 0;
    const secondRetry = deferred();
    const job = new Job(
      async () => {
        attempts++;
        throw new Error("fails");
      },
      // 1 ms, then 2^31 ms: more than a timer can wait.
      { label: "backoff", retry: { retries: 2, delay: 1, factor: 2 ** 31 } },
    );
    const scheduler = new PureScheduler(job);
    let retries = 0;
    scheduler.events.addEventListener("job:retried", () => {
      if (++retries === 2) secondRetry.resolve();
    });
    const controller = new AbortController();
    const run = scheduler.run({ signal: controller.signal });
    await secondRetry.promise;
    // A timer given 2^31 ms fires after 1 ms; 50 ms leave it ample time to.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(attempts, 2);
    controller.abort(new Error("enough"));
    assert.equal(await run, false);
    assert.equal(attempts, 2);
  });
});

describe("settings changed during a run take effect at the next run", () => {
  it("job.forever = true during a run does not hang it; the next run treats the job as forever", async () => {
    const held = gatedJob("held");
    const other = gatedJob("other");
    const scheduler = new PureScheduler(held.job, other.job);
    const run = scheduler.run();
    await held.started;
    await other.started;
    held.job.forever = true;
    assert.equal(held.job.forever, true);
    held.open("done");
    other.open("done");
    assert.equal(await settledWithin(run), "fulfilled");
    assert.equal(await run, true);
    assert.equal(held.job.result(), "done");
    // Now it is a forever job: the run ends once `other` is done, cancelling it.
    const again = scheduler.run();
    await held.started;
    other.open("again");
    assert.equal(await again, true);
    assert.equal(held.job.isCancelled(), true);
  });

  it("job.forever = false during a run leaves the run as it was; the next run waits for the job", async () => {
    const service = gatedJob("service", { forever: true });
    const work = gatedJob("work");
    const scheduler = new PureScheduler(service.job, work.job);
    const run = scheduler.run();
    await service.started;
    await work.started;
    service.job.forever = false;
    assert.equal(service.job.forever, false);
    work.open("w");
    assert.equal(await run, true);
    assert.equal(service.job.isCancelled(), true);
    const again = scheduler.run();
    await work.started;
    work.open("w2");
    assert.equal(await settledWithin(again), "pending", "the run waits for the service now");
    service.open("s");
    assert.equal(await again, true);
    assert.equal(service.job.result(), "s");
  });
});

describe("nesting", () => {
  it("10 000 nested schedulers run, list, and give the right results", async () => {
    const depth = 10_000;
    const leaf = new Job(async () => 42, { label: "leaf" });
    let inner = new Scheduler(leaf, { label: "level 1" });
    const schedulers = [inner];
    for (let level = 2; level <= depth; level++) {
      inner = new Scheduler(inner, { label: `level ${level}` });
      schedulers.push(inner);
    }
    const top = new PureScheduler(inner);
    assert.equal(await top.run(), true);
    assert.equal(top.why(), "FINE");
    assert.equal(leaf.result(), 42);
    assert.ok(schedulers.every((scheduler) => scheduler.result() === true));
    let listing = "";
    const printed = await captureOutput(() => {
      listing = top.list();
    });
    assert.equal(printed, listing);
    const lines = listing.trimEnd().split("\n");
    // A line per scheduler and one for the leaf, then an --end-- line per scheduler.
    assert.equal(lines.length, 2 * depth + 1);
    assert.match(lines[0]!, /^00001 .*<Scheduler `level 10000`> \[\[ -> true\]\]/);
    assert.match(lines[depth]!, /^10001 .*<Job `leaf`> \[\[ -> 42\]\]/);
    // Deep indents are counted rather than drawn: the text grows with the depth, not its square.
    assert.match(lines[depth - 1]!, /^10000 .*>\(9999\) <Scheduler `level 1`>/);
    assert.match(lines[depth + 1]!, /^10000 --end-- <\(10000\) <Scheduler `level 1`>/);
    assert.match(lines[2 * depth]!, /^00001 --end-- < <Scheduler `level 10000`>/);
    assert.ok(listing.length < 2_000_000, `${listing.length} characters`);
    assert.equal([...top.iterateJobs()].length, 1);
    assert.equal([...top.iterateJobs({ scanSchedulers: true })].length, depth + 1);
    assert.equal(top.checkCycles(), true);
    assert.equal(top.sanitize(), true);
  });

  it("10 000 nested schedulers time out as a whole: every level is cancelled, the leaf is shut down once", async () => {
    const depth = 10_000;
    let shutdowns = 0;
    const started = deferred();
    const leaf = new Job(
      () => {
        started.resolve();
        return new Promise<never>(() => {});
      },
      {
        label: "leaf",
        shutdown: () => {
          shutdowns++;
        },
      },
    );
    let inner = new Scheduler(leaf, { label: "level 1" });
    for (let level = 2; level <= depth; level++) {
      inner = new Scheduler(inner, { label: `level ${level}` });
    }
    const top = new PureScheduler(inner, { timeout: 20 });
    const run = top.run();
    await started.promise;
    assert.equal(await run, false);
    assert.equal(top.why(), "TIMED OUT after 20 ms");
    assert.equal(leaf.isCancelled(), true);
    assert.equal(shutdowns, 1);
    // Every level answered its parent's shutdown with its own, which succeeded.
    assert.equal(await top.shutdown(), true);
  });
});

describe("two runs of one thing at once are refused", () => {
  it("job.standaloneRun() during its scheduler's run rejects, naming the job, and runs nothing", async () => {
    const held = gatedJob("held");
    const scheduler = new PureScheduler(held.job);
    const run = scheduler.run();
    await held.started;
    await assert.rejects(held.job.standaloneRun(), (error: Error) => {
      return /"held"/.test(error.message) && /standaloneRun/.test(error.message);
    });
    assert.equal(held.runs(), 1);
    held.open("x");
    assert.equal(await run, true);
    assert.equal(held.job.result(), "x");
  });

  it("a scheduler's run while one of its jobs is in a standalone run rejects, naming the job", async () => {
    const held = gatedJob("held");
    const scheduler = new PureScheduler(held.job);
    const alone = held.job.standaloneRun();
    await held.started;
    await assert.rejects(scheduler.run(), /"held"/);
    assert.equal(held.runs(), 1);
    held.open("x");
    assert.equal(await alone, "x");
    // Once the standalone run is over, the scheduler runs the job.
    const again = scheduler.run();
    await ticks();
    held.open("y");
    assert.equal(await again, true);
    assert.equal(held.runs(), 2);
  });

  it("a second standalone run of the same job rejects, naming it", async () => {
    const held = gatedJob("held");
    const first = held.job.standaloneRun();
    await held.started;
    await assert.rejects(held.job.standaloneRun(), /"held"/);
    held.open("x");
    assert.equal(await first, "x");
    assert.equal(held.runs(), 1);
  });

  it("scheduler.shutdown() during a run rejects, naming the scheduler; each job is shut down once", async () => {
    let shutdowns = 0;
    const held = gatedJob("held", {
      shutdown: () => {
        shutdowns++;
      },
    });
    const scheduler = new Scheduler(held.job, { label: "main" });
    const run = scheduler.run();
    await held.started;
    await assert.rejects(scheduler.shutdown(), (error: Error) => {
      return /"main"/.test(error.message) && /shutdown/.test(error.message);
    });
    held.open("x");
    assert.equal(await run, true);
    assert.equal(shutdowns, 1);
    // After the run, shutdown() answers as the run's shutdown did, calling nothing again.
    assert.equal(await scheduler.shutdown(), true);
    assert.equal(shutdowns, 1);
  });
});

describe("setters check their value, name the option, and change nothing on error", () => {
  const job = (): Job => new Job(async () => 1, { label: "j" });

  it("job.forever and job.critical take booleans only", () => {
    for (const option of ["forever", "critical"] as const) {
      for (const wrong of ["false", 0, 1, null, undefined, {}, Symbol("s")]) {
        const target = job();
        const before = target[option];
        assert.throws(
          () => {
            (target as unknown as Record<string, unknown>)[option] = wrong;
          },
          (error: Error) =>
            error instanceof TypeError &&
            error.message.includes(`"${option}"`) &&
            error.message.includes('"j"'),
        );
        assert.equal(target[option], before);
      }
    }
  });

  it("job.label takes a string (or undefined/null for the default) only", async () => {
    const target = job();
    const scheduler = new PureScheduler(target);
    for (const wrong of [Symbol("s"), 5, {}, true, () => "f"]) {
      assert.throws(
        () => {
          (target as unknown as Record<string, unknown>).label = wrong;
        },
        (error: Error) => error instanceof TypeError && /"label"/.test(error.message),
      );
      assert.equal(target.label, "j");
    }
    await captureOutput(() => scheduler.list());
    target.label = undefined;
    assert.equal(target.label, undefined);
    target.label = "k";
    assert.equal(target.label, "k");
  });

  it("mermaidFormat() and dotFormat() take an options object only", () => {
    const scheduler = new PureScheduler(job());
    for (const method of ["mermaidFormat", "dotFormat"] as const) {
      for (const wrong of [5, "status", true, Symbol("s"), [1]]) {
        assert.throws(
          () => scheduler[method](wrong as unknown as object),
          (error: Error) => error instanceof TypeError && error.message.includes(method),
          `${method}(${String(wrong)})`,
        );
      }
    }
  });

  it("a verbose run with a label refused by the setter keeps running and printing", async () => {
    const target = new Job(async () => 1, { label: "j" });
    const scheduler = new PureScheduler(target, { verbose: true });
    assert.throws(() => {
      (target as unknown as Record<string, unknown>).label = Symbol("s");
    });
    let ok: boolean | undefined;
    const printed = await captureOutput(async () => {
      ok = await scheduler.run();
    });
    assert.equal(ok, true);
    assert.match(printed, /j/);
  });
});
