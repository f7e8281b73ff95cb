/**
 * The views of `asyncjobs run`, in process, on the events beyond the
 * original: a job that retries, one that is skipped by its trigger rule, a
 * service that says it is ready. Both views are fed by the same model.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Job, PureScheduler } from "asyncjobs";
import { deferred } from "../../core/test/support.js";
import { LiveView } from "../src/live-view.js";
import { PlainView } from "../src/plain-view.js";
import { RunModel } from "../src/run-model.js";

/** A service (ready once started), a job failing once, and one skipped because the first failed. */
function workflow() {
  const service = new Job(
    async ({ signal, ready }) => {
      ready();
      await new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason)),
      );
    },
    { label: "service", forever: true },
  );
  const flaky = new Job(
    ({ attempt }) => {
      if (attempt === 1) throw new Error("not yet");
      return "ok";
    },
    { label: "flaky", required: service, retry: { retries: 2 } },
  );
  const broken = new Job(
    () => {
      throw new Error("broken");
    },
    { label: "broken", critical: false },
  );
  const deploy = new Job(() => "deployed", {
    label: "deploy",
    required: [flaky, broken],
    trigger: "allSuccess",
  });
  return new PureScheduler(service, flaky, broken, deploy);
}

/** Text written to a fake terminal or pipe, without escape sequences. */
function sink() {
  let text = "";
  return {
    write(chunk: string) {
      text += chunk;
      return true;
    },
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is removed.
    text: () => text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, ""),
  };
}

describe("the views on retries, skips and readiness", () => {
  it("the plain view prints ready, retrying and skipped lines, and attempts on the outcome", async () => {
    const scheduler = workflow();
    const out = sink();
    const view = new PlainView(new RunModel(scheduler), out);
    view.start();
    assert.equal(await scheduler.run(), true);
    view.stop();
    const lines = out
      .text()
      .trimEnd()
      .split("\n")
      .map((line) =>
        line
          .slice(8)
          .replace(/\(\d+ms(, )?/, "(")
          .replace(" ()", ""),
      );
    assert.deepEqual(lines.slice(0, 2), ["started   service", "ready     service"]);
    for (const expected of [
      "started   flaky",
      "retrying  flaky (attempt 2 of 3)",
      "done      flaky (2 attempts) → ok",
      "FAILED    broken Error: broken",
      "skipped   deploy (trigger allSuccess)",
      "cancelled service",
    ]) {
      assert.ok(lines.includes(expected), `${expected} in\n${lines.join("\n")}`);
    }
    assert.equal(lines.filter((line) => line.startsWith("started   flaky")).length, 1);
    assert.ok(lines.indexOf("ready     service") < lines.indexOf("started   flaky"));
  });

  it("the live view shows readiness and the attempt while running, skips and attempts at the end", async () => {
    const scheduler = workflow();
    const term = Object.assign(sink(), { columns: 100, rows: 30 });
    const model = new RunModel(scheduler);
    const view = new LiveView(model, term, { title: "test", interval: 60_000 });
    const frames: string[] = [];
    const retried = deferred();
    scheduler.events.addEventListener("job:retried", () => {
      // The model has taken the event in: draw now, as the timer would.
      queueMicrotask(() => {
        const before = term.text().length;
        view.render();
        frames.push(term.text().slice(before));
        retried.resolve();
      });
    });
    view.start();
    assert.equal(await scheduler.run(), true);
    await retried.promise;
    view.stop();
    const during = frames[0]!;
    assert.match(during, /⚠ ☉ ↺ ∞ service .*ready · $/m);
    assert.match(during, /⚠ ☉ ↺ {3}flaky .*attempt 2 of 3 · /);
    const last = term.text().slice(term.text().lastIndexOf("test\n"));
    assert.match(last, /⚠ ☉ ⊗ ∞ service .* cancelled \(was ready\)/);
    assert.match(last, /⚠ ☉ ☓ {3}flaky .* \(2 attempts\) → ok/);
    assert.match(last, /⚠ {3}⊘ {3}deploy .* skipped \(trigger allSuccess\)/);
    assert.match(last, /1 done · 0 running · 0 idle · 1 failed · 1 cancelled · 1 skipped · /);
  });
});
