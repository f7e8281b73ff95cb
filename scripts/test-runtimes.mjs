/**
 * Runs the runtime-neutral subset of the core's tests (packages/core/test/runtimes/) in
 * Node, Deno, Bun and headless Chromium. The subset is bundled once with
 * esbuild for the browser, with no externals (the core from its sources, as
 * the package builds it), and the same file runs everywhere: as a script in the three runtimes, and in a page served
 * on 127.0.0.1 for Chromium (Debian's `chromium`, driven by playwright-core).
 *
 * Usage: node scripts/test-runtimes.mjs [node] [deno] [bun] [chromium]
 * (no argument: all four). Exits non-zero if any runtime fails.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { bunPath, denoPath } from "./runtime-binaries.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const RUNTIMES = ["node", "deno", "bun", "chromium"];
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Per runtime: bounds a hung run, not a timing assertion. */
const RUN_LIMIT_MS = 120_000;

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!RUNTIMES.includes(name)) {
    console.error(
      `unknown runtime ${JSON.stringify(name)}; expected some of ${RUNTIMES.join(", ")}`,
    );
    process.exit(2);
  }
}
const selected = wanted.length > 0 ? wanted : RUNTIMES;

/** Bundles the subset into one ES module, free of any runtime-specific import. */
async function bundle(dir) {
  const outfile = join(dir, "core-subset.mjs");
  await build({
    entryPoints: [join(root, "packages/core/test/runtimes/main.ts")],
    outfile,
    bundle: true,
    format: "esm",
    // As a browser bundler sees the core: no Node module, no package outside it.
    platform: "browser",
    target: "es2022",
    tsconfig: join(root, "tsconfig.json"),
    // The package says it has no side effects; the test modules do (they register tests).
    ignoreAnnotations: true,
    // Listings name jobs by their class, as users who bundle the package should keep them.
    keepNames: true,
    // No externals: the core must bundle whole, with nothing left to resolve.
    external: [],
    logLevel: "warning",
  });
  return outfile;
}

/** Runs a command; resolves with its exit code and combined output. */
function runCommand(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      output += `\n(killed after ${RUN_LIMIT_MS} ms)`;
      child.kill("SIGKILL");
    }, RUN_LIMIT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 1 : 0), output });
    });
  });
}

/** Runs the bundle as a script of a command-line runtime. */
async function inProcess(name, file, dir) {
  const env = { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  switch (name) {
    case "node":
      return runCommand(process.execPath, [file], { cwd: dir, env });
    case "deno":
      // No permission at all: the core needs none.
      return runCommand(denoPath(), ["run", "--no-prompt", "--no-config", file], {
        cwd: dir,
        env: { ...env, DENO_DIR: join(dir, "deno-cache") },
      });
    case "bun":
      return runCommand(bunPath(), ["run", "--no-install", file], { cwd: dir, env });
    default:
      throw new Error(`not a command-line runtime: ${name}`);
  }
}

/** Serves the bundle and a page that loads it on 127.0.0.1; resolves with the server and its URL. */
async function serve(file) {
  const script = await readFile(file);
  const page = `<!doctype html><meta charset="utf-8"><title>asyncjobs runtime tests</title>
<script type="module" src="/core-subset.mjs"></script>`;
  const server = createServer((request, response) => {
    if (request.url === "/" || request.url === "/index.html") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      response.end(page);
    } else if (request.url === "/core-subset.mjs") {
      response.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      response.end(script);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return { server, url: `http://127.0.0.1:${port}/` };
}

/** Runs the bundle in a page of headless Chromium, with a fresh profile. */
async function inChromium(file, dir) {
  const { chromium } = await import("playwright-core");
  const { server, url } = await serve(file);
  let context;
  let output = "";
  try {
    // playwright-core passes the profile directory as --user-data-dir.
    context = await chromium.launchPersistentContext(join(dir, "chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      timeout: RUN_LIMIT_MS,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (message) => {
      output += `${message.text()}\n`;
    });
    let pageErrors = 0;
    page.on("pageerror", (error) => {
      // Uncaught exceptions and unhandled rejections of the page.
      pageErrors++;
      output += `page error: ${error.stack ?? error.message}\n`;
    });
    await page.goto(url);
    await page.waitForFunction(() => "asyncjobsRuntimeTests" in globalThis, undefined, {
      timeout: RUN_LIMIT_MS,
    });
    const summary = await page.evaluate(() => globalThis.asyncjobsRuntimeTests);
    const passed = summary.failed === 0 && summary.passed > 0 && pageErrors === 0;
    return { code: passed ? 0 : 1, output };
  } catch (error) {
    return { code: 1, output: `${output}${error.stack ?? error}\n` };
  } finally {
    await context?.close();
    server.close();
  }
}

/** The last summary line a run printed, e.g. "# 20 passed, 0 failed". */
function summaryLine(output) {
  const lines = output.split("\n").filter((line) => line.startsWith("# "));
  return lines.at(-1)?.slice(2) ?? "no summary";
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "asyncjobs-runtimes-"));
  const failed = [];
  try {
    const file = await bundle(dir);
    // A separate copy for Chromium is not needed: the page is served from memory.
    await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
    for (const name of selected) {
      const started = performance.now();
      let result;
      try {
        result =
          name === "chromium" ? await inChromium(file, dir) : await inProcess(name, file, dir);
      } catch (error) {
        result = { code: 1, output: `${error.stack ?? error}\n` };
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const status = result.code === 0 ? "ok" : "FAILED";
      console.log(
        `${name.padEnd(9)} ${status.padEnd(6)} ${summaryLine(result.output)} (${seconds} s)`,
      );
      if (result.code !== 0 || process.env.VERBOSE) {
        console.log(result.output.replace(/^/gm, "    ").trimEnd());
      }
      if (result.code !== 0) failed.push(name);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (failed.length > 0) {
    console.error(`runtime tests failed in: ${failed.join(", ")}`);
    process.exitCode = 1;
  }
}

await main();
