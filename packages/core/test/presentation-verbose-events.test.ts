/**
 * `verbose: true` on the events beyond the original: a retry (with the
 * attempt that comes next), a skipped job (with its trigger rule) and a
 * service that says it is ready.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Job, PureScheduler, Scheduler, Watch } from "asyncjobs";
import { captureOutput, deferred } from "./support.js";

/** The lines printed by a verbose run, without their time stamps. */
async function verboseLines(scheduler: PureScheduler): Promise<string[]> {
  const output = await captureOutput(() => scheduler.run());
  const lines = output.trimEnd().split("\n");
  for (const line of lines) assert.match(line, /^\d{3}\.\d{3} \S/);
  return lines.map((line) => line.slice(8));
}

describe("verbose: true on retries, skips and readiness", () => {
  it("prints a RETRYING line per failed attempt, with the attempt that comes next and what failed", async () => {
    let calls = 0;
    const flaky = new Job(
      () => {
        if (++calls < 3) throw new Error(`attempt ${calls}`);
        return "ok";
      },
      { label: "flaky", retry: { retries: 3 } },
    );
    const lines = await verboseLines(
      new PureScheduler(flaky, { verbose: true, watch: new Watch() }),
    );
    const retrying = lines.filter((line) => line.startsWith("RETRYING"));
    assert.deepEqual(retrying, [
      "RETRYING 1 ⚠ ☉ ↺   <Job `flaky`> [not done] (attempt 2 of 4, after Error:attempt 1)",
      "RETRYING 1 ⚠ ☉ ↺   <Job `flaky`> [not done] (attempt 3 of 4, after Error:attempt 2)",
    ]);
    assert.equal(lines.filter((line) => line.startsWith("STARTING")).length, 3);
    assert.ok(
      lines.includes("DONE 1 ⚠ ☉ ☓   <Job `flaky`> [[ -> ok]] (3 attempts)"),
      lines.join("\n"),
    );
  });

  it("prints a SKIPPED line with the rule that was not met, also from a nested scheduler", async () => {
    const bad = new Job(
      () => {
        throw new Error("bad");
      },
      { label: "bad", critical: false },
    );
    const deploy = new Job(() => "deployed", {
      label: "deploy",
      required: bad,
      trigger: "allSuccess",
    });
    const inner = new Scheduler(
      new Job(() => "nothing to clean", { label: "cleanup", trigger: "oneFailed" }),
      { label: "inner" },
    );
    const lines = await verboseLines(
      new PureScheduler(bad, deploy, inner, { verbose: true, watch: new Watch() }),
    );
    const text = lines.join("\n");
    assert.match(
      text,
      /^SKIPPED \d ⚠ {3}⊘ {3}<Job `deploy`> \[not done\] \(trigger allSuccess\) requires=\{\d\}$/m,
    );
    assert.match(
      text,
      /^\(inner\) SKIPPED \d ⚠ {3}⊘ {3}<Job `cleanup`> \[not done\] \(trigger oneFailed\)$/m,
    );
    assert.doesNotMatch(text, /STARTING \d .*`(deploy|cleanup)`/);
    assert.match(text, /^SCHEDULER: run ended: FINE$/m);
  });

  it("prints a READY line when a service says so, before its dependents start", async () => {
    const listening = deferred();
    const service = new Job(
      async ({ signal, ready }) => {
        await listening.promise;
        ready();
        ready();
        await new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason)),
        );
      },
      { label: "server", forever: true },
    );
    const client = new Job(() => "got it", { label: "client", required: service });
    const scheduler = new PureScheduler(service, client, { verbose: true, watch: new Watch() });
    scheduler.events.addEventListener("job:started", (event) => {
      if (event.job === service) listening.resolve();
    });
    const lines = await verboseLines(scheduler);
    const ready = lines.findIndex((line) => line.startsWith("READY"));
    assert.equal(
      lines[ready],
      "READY 1 ⚠ ☉ ↺ ∞ <Job `server`> [not done] (dependents may start)",
      lines.join("\n"),
    );
    assert.equal(lines.filter((line) => line.startsWith("READY")).length, 1);
    const clientStarts = lines.findIndex((line) => /^STARTING 2 .*`client`/.test(line));
    assert.ok(clientStarts > ready, lines.join("\n"));
    assert.ok(lines.some((line) => /^CANCELLED 1 .*`server`/.test(line)));
  });

  it("prints nothing for these events when not verbose", async () => {
    const retried = new Job(
      ({ attempt }) => {
        if (attempt === 1) throw new Error("once");
      },
      { retry: 1 },
    );
    const skipped = new Job(() => 1, { trigger: "oneFailed", required: retried });
    const output = await captureOutput(() => new PureScheduler(retried, skipped).run());
    assert.equal(output, "");
  });
});
