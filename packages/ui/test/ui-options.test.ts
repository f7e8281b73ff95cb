/**
 * The browser view's options, from the command line and from code: bad
 * input is refused with a message naming the option, before anything starts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { serve, watchRun, writeReport } from "@asyncjobs/ui";
import { Job, Scheduler } from "asyncjobs";
import { parseCommandLine } from "../../cli/src/cli.js";

describe("asyncjobs run --ui, --port, --host, --report", () => {
  test("are read into the invocation", () => {
    const invocation = parseCommandLine([
      "run",
      "w.yaml",
      "--ui",
      "--port",
      "8123",
      "--host",
      "::1",
      "--report",
      "out.html",
    ]);
    assert.ok(!("print" in invocation));
    assert.equal(invocation.ui, true);
    assert.equal(invocation.port, 8123);
    assert.equal(invocation.host, "::1");
    assert.equal(invocation.report, "out.html");
  });

  test("are refused when wrong, naming the option", () => {
    assert.throws(() => parseCommandLine(["run", "w.yaml", "--ui", "--port", "http"]), /--port/);
    assert.throws(() => parseCommandLine(["run", "w.yaml", "--ui", "--port", "70000"]), /--port/);
    assert.throws(
      () => parseCommandLine(["run", "w.yaml", "--port", "80"]),
      /--port goes with --ui/,
    );
    assert.throws(
      () => parseCommandLine(["run", "w.yaml", "--host", "x"]),
      /--host goes with --ui/,
    );
    assert.throws(() => parseCommandLine(["run", "w.yaml", "--report", ""]), /--report/);
    assert.throws(
      () => parseCommandLine(["list", "w.yaml", "--ui"]),
      /--ui does not apply to list/,
    );
  });
});

describe("serve(), watchRun() and writeReport()", () => {
  const scheduler = () => new Scheduler(new Job(async () => 1, { label: "one" }));

  test("refuse bad options before listening", async () => {
    await assert.rejects(serve(scheduler(), { port: -1 }), /option "port"/);
    await assert.rejects(serve(scheduler(), { host: "" }), /option "host"/);
    await assert.rejects(serve(scheduler(), { interval: 1 }), /option "interval"/);
    await assert.rejects(
      serve(scheduler(), { colour: "red" } as unknown as Parameters<typeof serve>[1]),
      /unknown option "colour"/,
    );
    assert.throws(() => watchRun({} as Scheduler), /watchRun\(\): expected a scheduler/);
    assert.throws(() => watchRun(scheduler(), { maxLinesKept: -2 }), /maxLinesKept/);
    const watch = watchRun(scheduler());
    await assert.rejects(writeReport(watch, ""), /writeReport\(\): the path/);
    await assert.rejects(writeReport(watch, "x.html", { maxLinesPerJob: 1.5 }), /maxLinesPerJob/);
    watch.stop();
  });

  test("a watch turns tracing on for the timeline, and stop() turns it back", async () => {
    const watched = scheduler();
    const watch = watchRun(watched);
    assert.equal(watched.tracing, true);
    assert.equal(await watched.run(), true);
    watch.stop();
    assert.equal(watched.tracing, false);
    // What was recorded stays, for a report.
    assert.equal(watched.trace().spans.length, 1);
  });

  test("a view listens on 127.0.0.1 and close() lets the port go", async () => {
    const view = await serve(scheduler());
    assert.match(view.url, /^http:\/\/127\.0\.0\.1:/);
    const page = await fetch(view.url);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("access-control-allow-origin"), null);
    assert.match(
      page.headers.get("content-security-policy") ?? (await page.text()),
      /default-src 'none'/,
    );
    await view.close();
    await assert.rejects(fetch(view.url));
  });
});
