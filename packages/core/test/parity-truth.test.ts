/**
 * Behaviours of the original that users rely on: what iterateJobs() yields,
 * keepOnly() with jobs from elsewhere, how a scheduler names itself, and a
 * Watch told to show nothing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Job, PureScheduler, Scheduler, TimeoutError, Watch } from "asyncjobs";
import { captureText } from "./presentation-capture.js";

function job(label: string): Job<number> {
  return new Job(() => 1, { label });
}

/** A scheduler of 2 jobs and 2 nested schedulers of 4 jobs each. */
function twoLevels(): { top: Scheduler; nested: Scheduler[] } {
  const nested = ["n1", "n2"].map(
    (name) =>
      new Scheduler(job(`${name}.a`), job(`${name}.b`), job(`${name}.c`), job(`${name}.d`), {
        label: name,
      }),
  );
  const top = new Scheduler(job("a"), job("b"), ...nested, { label: "top" });
  return { top, nested };
}

describe("iterateJobs()", () => {
  it("yields 10 jobs, and 13 with the schedulers, the one it is called on included", () => {
    const { top, nested } = twoLevels();
    assert.equal([...top.iterateJobs()].length, 10);
    const all = [...top.iterateJobs({ scanSchedulers: true })];
    assert.equal(all.length, 13);
    assert.equal(all[0], top);
    for (const scheduler of nested) assert.ok(all.includes(scheduler));
    assert.equal(new Set(all).size, 13);
  });

  it("yields each scheduler before its own jobs", () => {
    const { top, nested } = twoLevels();
    const all = [...top.iterateJobs({ scanSchedulers: true })];
    for (const scheduler of nested) {
      const at = all.indexOf(scheduler);
      for (const member of scheduler.jobs) assert.ok(all.indexOf(member) > at);
    }
  });

  it("leaves a PureScheduler out: it is not a job", () => {
    const inner = new Scheduler(job("x"), { label: "inner" });
    const outer = new PureScheduler(job("top"), inner);
    const labels = [...outer.iterateJobs({ scanSchedulers: true })].map((each) => each.label);
    assert.deepEqual(labels, ["top", "inner", "x"]);
  });
});

describe("keepOnly()", () => {
  it("ignores the jobs that are not in the scheduler", async () => {
    const a = job("a");
    const b = job("b").requires(a);
    const c = job("c").requires(b);
    const scheduler = new PureScheduler(a, b, c);
    const stranger = job("stranger");
    const elsewhere = job("elsewhere");
    const other = new PureScheduler(elsewhere);
    scheduler.keepOnly([a, c, stranger, elsewhere]);
    assert.deepEqual(
      [...scheduler.jobs].map((each) => each.label),
      ["a", "c"],
    );
    assert.equal(c.required.size, 0);
    assert.equal(scheduler.jobs.has(stranger), false);
    assert.equal(other.jobs.has(elsewhere), true);
    assert.equal(await scheduler.run(), true);
  });
});

describe("toString() of a scheduler", () => {
  it("names the scheduler's own class", () => {
    assert.equal(
      String(new PureScheduler()),
      "PureScheduler with 0 done + 0 ongoing + 0 idle = 0 job(s)",
    );
    assert.equal(
      String(new Scheduler(job("a"))),
      "Scheduler with 0 done + 0 ongoing + 1 idle = 1 job(s)",
    );
    class Pipeline extends Scheduler {}
    class Batch extends PureScheduler {}
    assert.match(String(new Pipeline()), /^Pipeline with 0 done/);
    assert.match(String(new Batch()), /^Batch with 0 done/);
  });
});

describe("Watch", () => {
  it("prints nothing when told to show neither the elapsed time nor the wall clock", async () => {
    const text = await captureText(
      () => new Watch("message", { showElapsed: false, showWallClock: false }),
    );
    assert.equal(text, "");
  });

  it("still prints the message after the times it shows", async () => {
    assert.match(await captureText(() => new Watch("hello")), /^000\.000 {2}hello\n$/);
    assert.match(
      await captureText(() => new Watch("hello", { showElapsed: false, showWallClock: true })),
      /^\d\d:\d\d:\d\d\.\d\d\d {2}hello\n$/,
    );
  });
});

describe("TimeoutError", () => {
  it("matches the DOMException of AbortSignal.timeout() that an aborted run rejects with", async () => {
    // AbortSignal.timeout()'s timer does not keep the process alive: this one does.
    const alive = setInterval(() => {}, 1000);
    try {
      const hanging = new Job(
        ({ signal }) =>
          new Promise((_, reject) => {
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          }),
        { label: "hanging" },
      );
      const scheduler = new Scheduler(hanging);
      const error = await scheduler.run({ signal: AbortSignal.timeout(50) }).then(
        () => assert.fail("the run should reject"),
        (reason: unknown) => reason,
      );
      assert.ok(error instanceof DOMException);
      assert.equal((error as DOMException).name, "TimeoutError");
      assert.ok(error instanceof TimeoutError);
      assert.match(scheduler.why(), /^ABORTED: /);
    } finally {
      clearInterval(alive);
    }
  });

  it("still matches its own instances, and nothing else", async () => {
    const scheduler = new Scheduler(new Job(() => new Promise(() => {})), { timeout: 1 });
    const error = await scheduler.run().then(
      () => assert.fail("the run should reject"),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof TimeoutError);
    assert.ok(error instanceof Error);
    assert.equal(new DOMException("x", "AbortError") instanceof TimeoutError, false);
    assert.equal(
      Object.assign(new Error("x"), { name: "TimeoutError" }) instanceof TimeoutError,
      false,
    );
    assert.equal((null as unknown) instanceof TimeoutError, false);
    class SlowError extends TimeoutError {}
    assert.equal(new DOMException("x", "TimeoutError") instanceof SlowError, false);
    assert.ok(new SlowError("x") instanceof SlowError);
    assert.ok(new SlowError("x") instanceof TimeoutError);
  });
});

describe("events.active", () => {
  it("turns false once a { once: true } listener has fired", async () => {
    const scheduler = new PureScheduler(job("a"), job("b"));
    const seen: string[] = [];
    scheduler.events.addEventListener(
      "job:done",
      (event) => {
        seen.push(String(event.job.label));
      },
      { once: true },
    );
    assert.equal(scheduler.events.active, true);
    assert.equal(await scheduler.run(), true);
    assert.equal(seen.length, 1);
    assert.equal(scheduler.events.active, false);
    // Nobody listens: a second run reports to nobody.
    assert.equal(await scheduler.run(), true);
    assert.equal(seen.length, 1);
  });

  it("turns false once the signal of the only listener aborts", async () => {
    const scheduler = new PureScheduler(job("a"));
    const controller = new AbortController();
    let count = 0;
    scheduler.events.addEventListener(
      "job:done",
      () => {
        count++;
      },
      { signal: controller.signal },
    );
    await scheduler.run();
    assert.equal(count, 1);
    controller.abort();
    assert.equal(scheduler.events.active, false);
    await scheduler.run();
    assert.equal(count, 1);
  });

  it("keeps EventTarget's rules: a listener object, a listener added twice, removal of a once listener", async () => {
    const scheduler = new PureScheduler(job("a"));
    const events = scheduler.events;
    const seen: string[] = [];
    const object = {
      handleEvent(event: Event): void {
        seen.push(`object ${event.type}`);
      },
    };
    const twice = (event: Event): void => {
      seen.push(`twice ${event.type}`);
    };
    events.addEventListener("job:done", object);
    events.addEventListener("job:done", twice);
    events.addEventListener("job:done", twice);
    const onceRemoved = (): void => {
      seen.push("removed before it fired");
    };
    events.addEventListener("job:started", onceRemoved, { once: true });
    events.removeEventListener("job:started", onceRemoved);
    await scheduler.run();
    assert.deepEqual(seen, ["object job:done", "twice job:done"]);
    events.removeEventListener("job:done", object);
    assert.equal(events.active, true);
    events.removeEventListener("job:done", twice);
    assert.equal(events.active, false);
  });
});
