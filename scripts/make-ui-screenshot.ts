/**
 * Makes `docs/images/live-view.png`, the picture of the browser view that
 * the README shows, from a real run of examples/ci-workflow.yaml: the page
 * is opened in headless Chromium, and the picture taken once the flaky e2e
 * test has failed, with the output of the unit tests shown.
 *
 * Run it from the repository's root after a change to the page:
 *
 * ```sh
 * npx tsx scripts/make-ui-screenshot.ts
 * ```
 */
import { execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { loadWorkflow } from "@asyncjobs/cli";
import { CommandJob } from "@asyncjobs/node";
import { serve } from "@asyncjobs/ui";
import { chromium } from "playwright-core";

const FILE = "examples/ci-workflow.yaml";
const OUT = join("docs", "images", "live-view.png");

async function main(): Promise<void> {
  execFileSync(process.execPath, ["packages/ui/scripts/bundle-page.mjs"]);
  await mkdir(join("docs", "images"), { recursive: true });
  const scheduler = await loadWorkflow(FILE);
  // The commands' output goes to the page, not to this terminal.
  for (const job of scheduler.iterateJobs({ scanSchedulers: true })) {
    if (CommandJob.isCommandJob(job)) job.output = () => {};
  }
  const view = await serve(scheduler, { title: `asyncjobs run ${FILE} · window 3 · timeout 2m` });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(view.url);
    await page.waitForSelector("body[data-ready=true]");
    const run = scheduler.run({ signal: view.signal });
    await page.waitForSelector("#graph g.node.s-failed", { timeout: 60_000 });
    await page.locator("#graph g.node").filter({ hasText: "unit tests" }).click();
    await page.locator("#output").filter({ hasText: "ok 2" }).waitFor({ timeout: 60_000 });
    await page.screenshot({ path: OUT });
    await run;
  } finally {
    await browser.close();
    await view.close();
  }
  process.stdout.write(`wrote ${OUT}\n`);
}

await main();
