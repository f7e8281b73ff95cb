/**
 * A job cancelled by its scheduler reads as cancelled wherever a run is
 * shown: its badge in listings, the counts of debrief(), stats() and
 * toString(), the live and plain views, the events and the trace. Before,
 * the listing drew it with the running badge and debrief() called it
 * ongoing, while the live view said cancelled.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Job, type JobContext, PureScheduler, Scheduler } from "asyncjobs";
import { captureText } from "../../core/test/presentation-capture.js";
import { deferred } from "../../core/test/support.js";
import { LiveView } from "../src/live-view.js";
import { PlainView } from "../src/plain-view.js";
import { RunModel } from "../src/run-model.js";

/** A job that runs until its signal aborts; `started` resolves once it runs. */
function hanging(label: string, options: { forever?: boolean } = {}) {
  const started = deferred<JobContext>();
  const job = new Job(
    (context) =>
      new Promise((_, reject) => {
        started.resolve(context);
        context.signal.addEventListener("abort", () => reject(context.signal.reason), {
          once: true,
        });
      }),
    { label, ...options },
  );
  return { job, started: started.promise };
}

/** Text written to a fake terminal or pipe, without escape sequences. */
function sink(columns = 120) {
  let text = "";
  return {
    columns,
    rows: 40,
    write(chunk: string) {
      text += chunk;
      return true;
    },
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is removed.
    text: () => text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, ""),
  };
}

let ascii: string | undefined;
beforeEach(() => {
  ascii = process.env.ASYNCJOBS_ASCII;
  process.env.ASYNCJOBS_ASCII = "0";
});
afterEach(() => {
  if (ascii === undefined) delete process.env.ASYNCJOBS_ASCII;
  else process.env.ASYNCJOBS_ASCII = ascii;
});

/** 2 top jobs and a nested scheduler of 2, all hanging, and a quick job; aborted once all run. */
async function abortedRun() {
  const a = hanging("a");
  const b = hanging("b");
  const i1 = hanging("i1");
  const i2 = hanging("i2");
  const quick = new Job(() => 1, { label: "quick" });
  const inner = new Scheduler(i1.job, i2.job, { label: "inner" });
  const scheduler = new PureScheduler(quick, a.job, b.job, inner, { trace: true });
  const model = new RunModel(scheduler);
  const term = sink();
  const live = new LiveView(model, term, { title: "run", interval: 60_000 });
  const pipe = sink();
  const plainModel = new RunModel(scheduler);
  const plain = new PlainView(plainModel, pipe);
  const events: string[] = [];
  scheduler.events.addEventListener("job:cancelled", (event) => {
    events.push(String(event.job.label));
  });
  live.start();
  plain.start();
  const controller = new AbortController();
  const run = scheduler.run({ signal: controller.signal });
  await Promise.all([a.started, b.started, i1.started, i2.started]);
  controller.abort(new Error("interrupted (Ctrl-C)"));
  assert.equal(await run, false);
  live.stop();
  plain.stop();
  return { scheduler, inner, model, term, pipe, events, jobs: { a, b, i1, i2, quick } };
}

describe("a job cancelled by its scheduler", () => {
  it("has a badge of its own in list() and listSafe(), in Unicode and in ASCII", async () => {
    const { scheduler } = await abortedRun();
    const listing = await captureText(() => scheduler.list());
    assert.match(listing, /^\d ⚠ ☉ ⊗ {3}<Job `a`> \[not done\]$/m);
    assert.match(listing, /^\d ⚠ ☉ ⊗ {3}<Scheduler `inner`> /m);
    assert.match(listing, /^\d ⚠ ☉ ⊗ {3}> <Job `i2`> /m);
    assert.match(listing, /^\d ⚠ ☉ ☓ {3}<Job `quick`> /m);
    assert.doesNotMatch(listing, /↺/);
    assert.doesNotMatch(await captureText(() => scheduler.listSafe()), /↺/);
    process.env.ASYNCJOBS_ASCII = "1";
    assert.match(await captureText(() => scheduler.list()), /^\d ! :\) \/ {3}<Job `a`> /m);
  });

  it("counts as cancelled, not ongoing, in debrief(), stats() and toString()", async () => {
    const { scheduler, inner } = await abortedRun();
    const text = await captureText(() => scheduler.debrief());
    assert.match(
      text,
      /^----- scheduler has a total of 5 job\(s\) in 2 schedulers: 1 is done, none is ongoing, none is idle \(or scheduled but not running\), 4 are cancelled$/m,
    );
    assert.equal(scheduler.stats(), "1D + 0R + 0I + 3C = 4");
    assert.equal(
      String(scheduler),
      "PureScheduler with 1 done + 0 ongoing + 0 idle + 3 cancelled = 4 job(s)",
    );
    assert.equal(
      String(inner),
      "Scheduler with 0 done + 0 ongoing + 0 idle + 2 cancelled = 2 job(s)",
    );
  });

  it("reads cancelled in the live view, the plain view, the events and the trace", async () => {
    const { scheduler, model, term, pipe, events } = await abortedRun();
    const last = term.text().slice(term.text().lastIndexOf("run\n"));
    for (const label of ["a", "b", "i1", "i2"]) {
      assert.match(last, new RegExp(`⚠ ☉ ⊗ {3}\\s*${label} .*cancelled`), last);
      assert.match(pipe.text(), new RegExp(`cancelled +(inner/)?${label}\\b`), pipe.text());
    }
    assert.match(last, /1 done · 0 running · 0 idle · 4 cancelled/);
    assert.equal(model.counts().cancelled, 4);
    assert.deepEqual(events.sort(), ["a", "b", "i1", "i2", "inner"]);
    const outcomes = Object.fromEntries(
      scheduler.trace().spans.map((span) => [span.label, span.outcome]),
    );
    assert.deepEqual(outcomes, {
      quick: "done",
      a: "cancelled",
      b: "cancelled",
      inner: "cancelled",
      i1: "cancelled",
      i2: "cancelled",
    });
  });

  it("is a forever job cancelled at the end of a fine run: cancelled, not ongoing", async () => {
    const monitor = hanging("monitor", { forever: true });
    const work = new Job(
      async () => {
        await monitor.started;
        return "ok";
      },
      { label: "work" },
    );
    const scheduler = new Scheduler(monitor.job, work);
    assert.equal(await scheduler.run(), true);
    const text = await captureText(() => scheduler.debrief());
    assert.match(text, /^\d ⚠ ☉ ⊗ ∞ <Job `monitor`> \[not done\]$/m);
    assert.match(
      text,
      /total of 2 job\(s\): 1 is done, none is ongoing, none is idle \(or scheduled but not running\), 1 is cancelled$/m,
    );
    assert.equal(scheduler.stats(), "1D + 0R + 0I + 1C = 2");
  });
});

describe("debrief() counts", () => {
  it("count the nested jobs the listing shows, and name the schedulers holding them", async () => {
    const hosts = ["h1", "h2", "h3"].map(
      (host) =>
        new Scheduler(
          new Job(() => 1, { label: `${host} a` }),
          new Job(() => 2, { label: `${host} b` }),
          {
            label: host,
          },
        ),
    );
    const scheduler = new Scheduler(...hosts);
    assert.equal(await scheduler.run(), true);
    const text = await captureText(() => scheduler.debrief());
    // 9 rows: 3 groups and their 6 jobs.
    assert.equal(text.split("\n").filter((line) => /^\d ⚠/.test(line)).length, 9);
    assert.match(
      text,
      /^----- scheduler has a total of 6 job\(s\) in 4 schedulers: 6 are done, none is ongoing, none is idle \(or scheduled but not running\)$/m,
    );
  });
});
