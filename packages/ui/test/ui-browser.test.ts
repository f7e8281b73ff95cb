/**
 * The browser view and the report, driven through a real headless Chromium
 * (playwright-core). Jobs wait on promises and files the tests control,
 * never on sleeps, so that each state is seen for as long as the test wants.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CommandJob } from "@asyncjobs/node";
import { serve, watchRun, writeReport } from "@asyncjobs/ui";
import { Job, Scheduler } from "asyncjobs";
import { type Browser, chromium, type Page } from "playwright-core";
import { CLI } from "../../cli/test/cli-program.js";
import { alive } from "../../node/test/processes.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const WAIT = 60_000;

let browser: Browser;
let dir: string;

before(async () => {
  // The page's script is bundled at build time; the tests run from the sources.
  execFileSync(process.execPath, ["packages/ui/scripts/bundle-page.mjs"], { cwd: ROOT });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  dir = await mkdtemp(join(tmpdir(), "asyncjobs-ui-"));
});

after(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A promise and the function that resolves it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

function node(page: Page, label: string | RegExp) {
  return page.locator("#graph g.node").filter({ hasText: label });
}

async function classOf(page: Page, label: string): Promise<string> {
  return (await node(page, label).getAttribute("class")) ?? "";
}

/** Starts the command line; resolves its exit code, and the browser view's URL once printed. */
function startCli(args: string[]): {
  child: ChildProcess;
  url: Promise<string>;
  exit: Promise<number | null>;
  stderr: () => string;
} {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  const url = new Promise<string>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /watch the run at (\S+)/.exec(stderr);
      if (found?.[1]) resolve(found[1]);
    });
    child.on("exit", () => reject(new Error(`the CLI exited without a URL: ${stderr}${stdout}`)));
  });
  url.catch(() => {});
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, url, exit, stderr: () => stderr + stdout };
}

describe("the browser view", () => {
  test("needs its token, follows the run live, streams a job's output as text", async () => {
    const gateA = gate();
    const gateC = gate();
    const go = join(dir, "go");
    const scheduler = new Scheduler({ label: "live test" });
    const a = new Job(() => gateA.promise.then(() => "a is done"), { label: "gate A" });
    const printer = new CommandJob(
      [
        "sh",
        "-c",
        `echo '<script>window.injected = 1</script> <b>bold?</b>'; while [ ! -e '${go}' ]; do sleep 0.05; done; echo 'second line'`,
      ],
      { label: "printer", output: () => {} },
    );
    const c = new Job(() => gateC.promise, { label: "gate C", required: [a] });
    scheduler.update([a, printer, c]);
    const view = await serve(scheduler);
    const page = await browser.newPage();
    try {
      assert.match(view.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
      const bare = view.url.replace(/\?token=.*$/, "");
      // Refused without the token, or with a wrong one, for every address.
      for (const path of ["", "state", "page.js", "events", "job?i=0", "graph"]) {
        assert.equal((await fetch(`${bare}${path}`)).status, 403, path);
        const wrong = `${bare}${path}${path.includes("?") ? "&" : "?"}token=nope`;
        assert.equal((await fetch(wrong)).status, 403, path);
      }
      const refused = await page.goto(bare);
      assert.equal(refused?.status(), 403);
      // Cancelling takes a POST, and no CORS header lets another site read anything.
      const get = await fetch(view.url.replace("/?", "/cancel?"));
      assert.equal(get.status, 405);
      assert.equal(get.headers.get("access-control-allow-origin"), null);

      const loaded = await page.goto(view.url);
      assert.equal(loaded?.status(), 200);
      await page.waitForSelector("body[data-ready=true]", { timeout: WAIT });
      assert.match(await classOf(page, "gate A"), /s-idle/);

      const run = scheduler.run({ signal: view.signal });
      await page.waitForSelector("#graph g.node.s-running >> text=gate A", { timeout: WAIT });
      assert.match(await classOf(page, "gate C"), /s-idle/);
      gateA.open();
      await page.waitForSelector("#graph g.node.s-done >> text=gate A", { timeout: WAIT });
      await page.waitForSelector("#graph g.node.s-running >> text=gate C", { timeout: WAIT });

      await node(page, "printer").click();
      const output = page.locator("#output");
      await output.filter({ hasText: "bold?" }).waitFor({ timeout: WAIT });
      // The line is shown as it was printed, as text: no element made of it, nothing run.
      assert.match(
        (await output.textContent()) ?? "",
        /<script>window\.injected = 1<\/script> <b>bold\?<\/b>/,
      );
      assert.equal(await page.locator("#output script, #output b").count(), 0);
      assert.equal(
        await page.evaluate(() => (window as { injected?: number }).injected),
        undefined,
      );
      // Output printed after the click streams in.
      await writeFile(go, "");
      await output.filter({ hasText: "second line" }).waitFor({ timeout: WAIT });

      gateC.open();
      assert.equal(await run, true);
      await page.waitForSelector("#outcome.ok", { timeout: WAIT });
      assert.match((await page.locator("#counts").textContent()) ?? "", /3 done/);
      // A click on a finished job shows its result.
      await node(page, "gate A").click();
      await page
        .locator("#result-text")
        .filter({ hasText: "a is done" })
        .waitFor({ timeout: WAIT });
    } finally {
      await page.close();
      await view.close();
    }
  });

  test("the cancel button stops the run: the CLI exits 130 and its children are gone", async () => {
    const work = await mkdtemp(join(dir, "cancel-"));
    const workflow = join(work, "wait.yaml");
    await writeFile(
      workflow,
      [
        "label: waits",
        "shell: true",
        "jobs:",
        "  - id: waiter",
        `    run: "sleep 1000 & echo $! > '${work}/sleep.pid'; echo $$ > '${work}/sh.pid'; echo waiting; wait"`,
        "  - id: after",
        "    run: echo never",
        "    requires: waiter",
        "",
      ].join("\n"),
    );
    const cli = startCli(["run", workflow, "--ui", "--plain"]);
    const page = await browser.newPage();
    try {
      await page.goto(await cli.url);
      await page.waitForSelector("#graph g.node.s-running >> text=waiter", { timeout: WAIT });
      await page.locator(".row").filter({ hasText: "waiting" }).waitFor({ timeout: WAIT });
      const pids = await Promise.all(
        ["sleep.pid", "sh.pid"].map(async (name) =>
          Number((await readFile(join(work, name), "utf8")).trim()),
        ),
      );
      for (const pid of pids) assert.ok(alive(pid), `process ${pid} runs before the cancel`);
      await page.click("#cancel");
      assert.equal(await cli.exit, 130, cli.stderr());
      for (const pid of pids) assert.ok(!alive(pid), `process ${pid} is gone after the cancel`);
      assert.match(cli.stderr(), /cancelled from the browser view/);
    } finally {
      await page.close();
      cli.child.kill();
    }
  });

  test("the report opens offline, with the final states, the outputs and the errors", async () => {
    const work = await mkdtemp(join(dir, "report-"));
    const workflow = join(work, "report.yaml");
    const html = join(work, "run.html");
    await writeFile(
      workflow,
      [
        "label: report",
        "shell: true",
        "jobs:",
        "  - id: build",
        `    run: "echo 'compiled <script>window.injected = 1</script>'; echo 'warning: careful' >&2"`,
        "  - id: broken",
        `    run: "echo 'about to fail'; exit 3"`,
        "    critical: false",
        "    requires: build",
        "  - id: tests",
        "    jobs:",
        "      - { id: unit, run: echo 'ok 1 - unit' }",
        "    requires: build",
        "",
      ].join("\n"),
    );
    const cli = startCli(["run", workflow, "--plain", "--report", html]);
    assert.equal(await cli.exit, 0, cli.stderr());
    assert.ok(existsSync(html));
    const page = await browser.newPage();
    const requested: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:")) return route.continue();
      requested.push(url);
      return route.abort();
    });
    try {
      await page.goto(`file://${html}`);
      await page.waitForSelector("body[data-ready=true]", { timeout: WAIT });
      assert.match(await classOf(page, "build"), /s-done/);
      assert.match(await classOf(page, "broken"), /s-failed/);
      assert.match(await classOf(page, "unit"), /s-done/);
      assert.equal(await page.locator("#cancel").isVisible(), false);
      assert.match((await page.locator("#outcome").textContent()) ?? "", /succeeded/);

      await node(page, "build").click();
      const output = page.locator("#output");
      await output.filter({ hasText: "compiled" }).waitFor({ timeout: WAIT });
      assert.match(
        (await output.textContent()) ?? "",
        /compiled <script>window\.injected = 1<\/script>/,
      );
      assert.match((await output.textContent()) ?? "", /warning: careful/);
      assert.equal(await page.locator("#output script").count(), 0);
      assert.equal(
        await page.evaluate(() => (window as { injected?: number }).injected),
        undefined,
      );

      await node(page, "broken").click();
      await page.locator("#error-text").filter({ hasText: "code 3" }).waitFor({ timeout: WAIT });
      assert.match((await output.textContent()) ?? "", /about to fail/);
      // The timeline drew a bar per job that ran.
      assert.ok(await page.locator("#timeline").isVisible());
      assert.deepEqual(requested, []);
    } finally {
      await page.close();
    }
  });

  test("a 10 000-job run: groups folded into nodes that open on a click, a virtualized table", async () => {
    const release = gate();
    const scheduler = new Scheduler({ label: "big" });
    for (let g = 0; g < 100; g++) {
      const group = new Scheduler({ label: `group ${g}` });
      for (let i = 0; i < 100; i++) {
        group.add(new Job(() => release.promise, { label: `job ${g}.${i}` }));
      }
      scheduler.add(group);
    }
    const view = await serve(scheduler);
    const page = await browser.newPage();
    try {
      await page.goto(view.url);
      await page.waitForSelector("body[data-ready=true]", { timeout: WAIT });
      assert.match(
        (await page.locator("#crumbs").textContent()) ?? "",
        /10100 jobs: groups are folded/,
      );
      assert.equal(await page.locator("#graph g.node").count(), 100);
      const run = scheduler.run({ signal: view.signal });
      await page.waitForSelector("#graph g.node.s-running >> text=group 7", { timeout: WAIT });
      // Only the rows in sight exist, whatever the number of jobs.
      assert.ok((await page.locator(".row").count()) < 100);
      await node(page, /group 7(?!\d)/).click();
      await page.waitForSelector("#graph g.node.s-running >> text=job 7.42", { timeout: WAIT });
      assert.equal(await page.locator("#graph g.node").count(), 100);
      release.open();
      assert.equal(await run, true);
      await page.locator("#counts").filter({ hasText: "10000 done" }).waitFor({ timeout: WAIT });
      await page.waitForSelector("#graph g.node.s-done >> text=job 7.42", { timeout: WAIT });
      // The table scrolls to any job.
      await page.locator("#table-scroll").evaluate((box) => {
        box.scrollTop = box.scrollHeight;
      });
      await page.locator(".row").filter({ hasText: "job 99.99" }).waitFor({ timeout: WAIT });
    } finally {
      await page.close();
      await view.close();
    }
  });

  test("writeReport() from the library caps the output kept per job", async () => {
    const scheduler = new Scheduler({ label: "chatty" });
    scheduler.add(
      new CommandJob(["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; done"], {
        label: "chatty",
        output: () => {},
      }),
    );
    const watch = watchRun(scheduler);
    assert.equal(await scheduler.run(), true);
    const file = join(dir, "capped.html");
    await writeReport(watch, file, { maxLinesPerJob: 3 });
    watch.stop();
    const page = await browser.newPage();
    try {
      await page.goto(`file://${file}`);
      await page.waitForSelector("body[data-ready=true]", { timeout: WAIT });
      await node(page, "chatty").click();
      const output = page.locator("#output");
      await output.filter({ hasText: "line 10" }).waitFor({ timeout: WAIT });
      assert.equal(await page.locator("#output span").count(), 3);
      assert.match(
        (await page.locator("#details").textContent()) ?? "",
        /7 earlier lines not kept/,
      );
    } finally {
      await page.close();
    }
  });

  test("the report of a big run holds the folded graph and each group's picture", async () => {
    const scheduler = new Scheduler({ label: "folded" });
    for (let g = 0; g < 6; g++) {
      const group = new Scheduler({ label: `batch ${g}` });
      for (let i = 0; i < 100; i++) group.add(new Job(async () => i, { label: `item ${g}.${i}` }));
      scheduler.add(group);
    }
    const watch = watchRun(scheduler);
    assert.equal(await scheduler.run(), true);
    const file = join(dir, "folded.html");
    await writeReport(watch, file);
    watch.stop();
    const page = await browser.newPage();
    await page.route("**/*", (route) =>
      route.request().url().startsWith("file:") ? route.continue() : route.abort(),
    );
    try {
      await page.goto(`file://${file}`);
      await page.waitForSelector("body[data-ready=true]", { timeout: WAIT });
      assert.equal(await page.locator("#graph g.node").count(), 6);
      await node(page, "batch 4").click();
      await page.waitForSelector("#graph g.node.s-done >> text=item 4.99", { timeout: WAIT });
      assert.equal(await page.locator("#graph g.node").count(), 100);
      await node(page, "item 4.99").click();
      await page.locator("#result-text").filter({ hasText: "99" }).waitFor({ timeout: WAIT });
    } finally {
      await page.close();
    }
  });
});
