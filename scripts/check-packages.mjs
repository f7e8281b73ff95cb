/**
 * The packages as users meet them: packed, installed from their tarballs
 * into fresh projects, and used there. Run by CI before anything is built,
 * so that it proves each tarball builds its own code (`prepack`).
 *
 * 1. `npm pack` of every package: what each tarball holds (its built entries,
 *    README and licence; no source, test or build cache), publint and
 *    @arethetypeswrong/cli;
 * 2. the core alone in a fresh ES module project: no dependency, no install
 *    script, its size, and the time `import "asyncjobs"` takes in a fresh
 *    Node process;
 * 3. every package in a fresh CommonJS project without a "type" field:
 *    require() of each, `asyncjobs --help` and its time, `asyncjobs run` of a
 *    YAML workflow and of a TypeScript one, a PNG export;
 * 4. every package in a strict TypeScript project: the type tests compile
 *    (`tsc --noEmit`) against the published declarations;
 * 5. the README's first example, bundled for the browser from the installed
 *    core with no externals, run in headless Chromium, printing what the
 *    README shows.
 *
 * Prints one line per check and the figures; exits 1 if any check failed.
 *   node scripts/check-packages.mjs [--keep]   (--keep leaves the scratch folder)
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import {
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", name);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** The figures the packages promise. */
const LIMITS = {
  coreBytes: 300 * 1024,
  coreImportMs: 50,
  helpMs: 200,
};

let failures = 0;
const figures = [];
let lastReport = performance.now();
function report(ok, what, details = "") {
  const now = performance.now();
  const seconds = ((now - lastReport) / 1000).toFixed(1);
  lastReport = now;
  console.log(`${ok ? "ok  " : "FAIL"} ${what} (${seconds} s)`);
  if (details && (!ok || process.env.VERBOSE)) console.log(details.replace(/^/gm, "     "));
  if (!ok) failures++;
}

/** Runs a command; resolves with its output and exit code instead of throwing. */
async function attempt(command, args, options = {}) {
  try {
    const { stdout, stderr } = await run(command, args, { maxBuffer: 64 << 20, ...options });
    return { code: 0, stdout, stderr };
  } catch (error) {
    return { code: error.code ?? 1, stdout: error.stdout ?? "", stderr: error.stderr ?? "" };
  }
}

/**
 * How long Node takes to start and do nothing, median of 9: on a quiet
 * machine some 40 ms. Above BUSY_MS the machine is too busy for a time
 * limit to mean anything, so the times are reported but not judged.
 */
const BUSY_MS = 100;
let startupMs;
async function nodeStartup() {
  if (startupMs === undefined) {
    const times = [];
    for (let i = 0; i < 9; i++) {
      const start = performance.now();
      await attempt(process.execPath, ["-e", "0"]);
      times.push(performance.now() - start);
    }
    startupMs = median(times);
    figures.push(["node -e 0, wall time", `${startupMs.toFixed(0)} ms (median of 9)`]);
  }
  return startupMs;
}

/** Reports a time against its limit, unless the machine is too busy to judge it. */
async function judgeTime(what, ms, limit) {
  const startup = await nodeStartup();
  const text = `${what} takes ${ms.toFixed(1)} ms (median of 9, at most ${limit} ms)`;
  if (startup > BUSY_MS) {
    report(
      true,
      `${text}: not judged, the machine is busy (node -e 0 takes ${startup.toFixed(0)} ms)`,
    );
  } else report(ms <= limit, text);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The sum of the sizes of the files below `dir`, and what they take on disk (4 KiB blocks). */
async function sizeOf(dir) {
  let bytes = 0;
  let blocks = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const info = await stat(join(entry.parentPath ?? entry.path, entry.name));
    bytes += info.size;
    blocks += info.blocks * 512;
  }
  return { bytes, disk: blocks };
}

const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;

// --- 1. the tarballs ---------------------------------------------------------

/** Why a path must not be published, or undefined when it may. */
function forbidden(path) {
  if (/(^|\/)(test|tests|__tests__)\//.test(path)) return "a test directory";
  if (/^(src|examples|bench|scripts|docs|tmp|coverage)\//.test(path))
    return "not part of the package";
  if (/\.tsbuildinfo$/.test(path)) return "a build cache";
  if (/\.map$/.test(path)) return "a source map of sources that are not published";
  if (/tsconfig.*\.json$/.test(path)) return "a build configuration";
  if (/\.ts$/.test(path) && !/\.d\.ts$/.test(path)) return "a TypeScript source";
  return undefined;
}

/** The paths a manifest names: main, types, exports, bin. */
function requiredPaths(manifest) {
  const paths = new Set(["package.json", "README.md", "LICENSE"]);
  const add = (target) => {
    if (typeof target === "string") paths.add(target.replace(/^\.\//, ""));
    else if (target && typeof target === "object") Object.values(target).forEach(add);
  };
  add(manifest.main);
  add(manifest.types);
  add(manifest.exports);
  add(manifest.bin);
  return paths;
}

async function packAll(destination) {
  const packed = [];
  for (const dir of (await readdir(join(root, "packages"))).sort()) {
    const folder = join(root, "packages", dir);
    const manifest = JSON.parse(await readFile(join(folder, "package.json"), "utf8"));
    if (manifest.private) continue;
    const result = await attempt("npm", ["pack", "--json", "--pack-destination", destination], {
      cwd: folder,
    });
    if (result.code !== 0) {
      report(false, `npm pack ${manifest.name}`, result.stderr);
      continue;
    }
    // npm prints the prepack build's output before the JSON.
    const [info] = JSON.parse(result.stdout.slice(result.stdout.indexOf("[")));
    const names = new Set(info.files.map((file) => file.path));
    const missing = [...requiredPaths(manifest)].filter((path) => !names.has(path));
    const wrong = info.files
      .map((file) => [file.path, forbidden(file.path)])
      .filter(([, why]) => why !== undefined)
      .map(([path, why]) => `${path}: ${why}`);
    report(
      missing.length === 0 && wrong.length === 0,
      `${manifest.name}: the tarball holds its built entries, README and licence, and nothing else (${info.entryCount} files, ${kib(info.size)} packed, ${kib(info.unpackedSize)} unpacked)`,
      [...missing.map((path) => `missing ${path}`), ...wrong].join("\n"),
    );
    packed.push({ name: manifest.name, manifest, tarball: join(destination, info.filename) });
  }
  return packed;
}

async function lintTarballs(packed) {
  for (const { name, tarball } of packed) {
    const publint = await attempt(bin("publint"), ["run", tarball, "--strict"], { cwd: root });
    report(
      publint.code === 0 && /All good/.test(publint.stdout),
      `${name}: publint --strict finds nothing`,
      `${publint.stdout}${publint.stderr}`,
    );
    // ESM only, on purpose: Node 20.19+ and 22.12+ load it with require()
    // (checked below), and a second CommonJS copy would break `instanceof`
    // between jobs made by the two. The rule ignored is that one only.
    const attw = await attempt(
      bin("attw"),
      [tarball, "--ignore-rules", "cjs-resolves-to-esm", "--format", "table-flipped", "--no-color"],
      { cwd: root },
    );
    report(
      attw.code === 0,
      `${name}: @arethetypeswrong/cli finds nothing`,
      `${attw.stdout}${attw.stderr}`,
    );
  }
}

/** A fresh project in `dir` with `manifest`, where `tarballs` are installed as npm would for a user. */
async function project(dir, manifest, tarballs) {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const installed = await attempt(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...tarballs],
    { cwd: dir },
  );
  if (installed.code !== 0) throw new Error(`npm install failed in ${dir}:\n${installed.stderr}`);
  return JSON.parse(await readFile(join(dir, "node_modules", ".package-lock.json"), "utf8"));
}

// --- 2. the core alone ---------------------------------------------------------

async function checkCore(scratch, core) {
  const dir = join(scratch, "core-esm");
  const lock = await project(dir, { name: "core-esm", private: true, type: "module" }, [
    core.tarball,
  ]);
  const installed = Object.keys(lock.packages).filter((path) => path !== "node_modules/asyncjobs");
  const scripts = Object.entries(lock.packages).filter(([, entry]) => entry.hasInstallScript);
  report(
    installed.length === 0 && scripts.length === 0,
    `asyncjobs installs alone: ${installed.length} dependencies, ${scripts.length} install scripts`,
    installed.join("\n"),
  );
  const size = await sizeOf(join(dir, "node_modules", "asyncjobs"));
  figures.push([
    "asyncjobs installed size",
    `${kib(size.bytes)} (${kib(size.disk)} in 4 KiB blocks)`,
  ]);
  report(
    size.bytes <= LIMITS.coreBytes,
    `asyncjobs takes ${kib(size.bytes)} installed (at most ${kib(LIMITS.coreBytes)})`,
  );

  await writeFile(
    join(dir, "use.mjs"),
    `import assert from "node:assert/strict";
import { Job, Scheduler } from "asyncjobs";
const a = new Job(async () => 20, { label: "a" });
const b = new Job(async () => a.result() + 22, { label: "b", required: a });
assert.equal(await new Scheduler(a, b).run(), true);
assert.equal(b.result(), 42);
const drawn = new Scheduler(new Job(() => 1, { label: "drawn" }));
await assert.rejects(drawn.graph().svg(), /needs the package @asyncjobs\\/render/);
console.log("ok");
`,
  );
  const used = await attempt(process.execPath, ["use.mjs"], { cwd: dir });
  report(
    used.code === 0 && used.stdout.trim() === "ok" && used.stderr === "",
    "asyncjobs runs from ES modules; without @asyncjobs/render, graph().svg() names the package to install",
    `${used.stdout}${used.stderr}`,
  );

  const probe = `const t = performance.now(); await import("asyncjobs"); console.log(performance.now() - t);`;
  const times = [];
  for (let i = 0; i < 9; i++) {
    const timed = await attempt(process.execPath, ["--input-type=module", "-e", probe], {
      cwd: dir,
    });
    times.push(Number(timed.stdout.trim()));
  }
  const importMs = median(times);
  figures.push([
    'import "asyncjobs" in a fresh process',
    `${importMs.toFixed(1)} ms (median of 9)`,
  ]);
  await judgeTime('import "asyncjobs" in a fresh Node process', importMs, LIMITS.coreImportMs);
  return dir;
}

// --- 3. everything, from CommonJS without a "type" field -------------------------

const YAML_WORKFLOW = `label: packaged
jobs:
  - id: hello
    run: [node, -e, "console.log('hello from yaml')"]
  - id: after
    run: [node, -e, "console.log('after hello')"]
    requires: hello
`;

const TS_WORKFLOW = `import { Job, Scheduler } from "asyncjobs";
import { CommandJob } from "@asyncjobs/node";

const greeting: string = "hello from typescript";
export default function workflow(): Scheduler {
  const first = new CommandJob(["node", "-e", \`console.log(\${JSON.stringify(greeting)})\`], {
    label: "greet",
    capture: true,
  });
  const second = new Job(async () => "typed", { label: "typed", required: first });
  return new Scheduler(first, second, { label: "ts workflow" });
}
`;

async function checkEverything(scratch, packed) {
  const dir = join(scratch, "all-cjs");
  // What `npm init -y` made before npm wrote a "type": no "type" at all.
  await project(
    dir,
    { name: "all-cjs", version: "1.0.0", private: true },
    packed.map((p) => p.tarball),
  );

  const requires = packed.map((p) => p.name);
  await writeFile(
    join(dir, "use.cjs"),
    `const assert = require("node:assert/strict");
const core = require("asyncjobs");
for (const name of ${JSON.stringify(requires)}) assert.equal(typeof require(name), "object", name);
const { CommandJob } = require("@asyncjobs/node");
const job = new CommandJob(["node", "-e", "process.stdout.write('captured')"], { capture: true });
new core.Scheduler(job).run().then(async (ok) => {
  assert.equal(ok, true);
  assert.equal(job.result(), "captured");
  assert.equal((await import("asyncjobs")).Scheduler, core.Scheduler);
  const png = "graph.png";
  await new core.Scheduler(new core.Job(() => 1, { label: "drawn" })).exportAsPngfile(png);
  assert.ok(require("node:fs").statSync(png).size > 100);
  console.log("ok");
});
`,
  );
  const used = await attempt(process.execPath, ["use.cjs"], { cwd: dir });
  report(
    used.code === 0 && used.stdout.trim().endsWith("ok"),
    `require() of ${requires.join(", ")} works from CommonJS; a CommandJob runs; a PNG export finds @asyncjobs/render`,
    `${used.stdout}${used.stderr}`,
  );

  const cli = join(dir, "node_modules", ".bin", "asyncjobs");
  const help = await attempt(cli, ["--help"], { cwd: dir });
  report(
    help.code === 0 && /asyncjobs run FILE/.test(help.stdout),
    "asyncjobs --help prints the usage",
    help.stderr,
  );
  const times = [];
  for (let i = 0; i < 9; i++) {
    const start = performance.now();
    await attempt(cli, ["--help"], { cwd: dir });
    times.push(performance.now() - start);
  }
  const helpMs = median(times);
  figures.push(["asyncjobs --help, wall time", `${helpMs.toFixed(0)} ms (median of 9)`]);
  await judgeTime("asyncjobs --help", helpMs, LIMITS.helpMs);

  await writeFile(join(dir, "workflow.yaml"), YAML_WORKFLOW);
  const yaml = await attempt(cli, ["run", "--verbose", "workflow.yaml"], {
    cwd: dir,
    env: { ...process.env, CI: "1" },
  });
  report(
    yaml.code === 0 && /hello from yaml/.test(yaml.stdout) && /after hello/.test(yaml.stdout),
    'asyncjobs run workflow.yaml works in a project without a "type"',
    `${yaml.stdout}${yaml.stderr}`,
  );

  await writeFile(join(dir, "workflow.ts"), TS_WORKFLOW);
  const ts = await attempt(cli, ["run", "--verbose", "workflow.ts"], {
    cwd: dir,
    env: { ...process.env, CI: "1" },
  });
  report(
    ts.code === 0 && /hello from typescript/.test(ts.stdout) && /done +typed/.test(ts.stdout),
    'asyncjobs run workflow.ts works in a project without a "type"',
    `${ts.stdout}${ts.stderr}`,
  );

  // A local workflow loads no SSH code: ssh2 (CommonJS) would be in require.cache.
  await writeFile(
    join(dir, "probe.cjs"),
    `process.on("exit", () => {
  const ssh = Object.keys(require.cache).filter((path) => path.includes("/node_modules/ssh2/"));
  require("node:fs").writeFileSync("ssh-loaded.txt", String(ssh.length));
});
`,
  );
  await attempt(cli, ["run", "workflow.yaml"], {
    cwd: dir,
    env: { ...process.env, CI: "1", NODE_OPTIONS: "--require ./probe.cjs" },
  });
  const sshModules = await readFile(join(dir, "ssh-loaded.txt"), "utf8").catch(() => "none");
  report(
    sshModules === "0",
    `a local workflow loads no SSH code (ssh2 modules loaded: ${sshModules})`,
  );
  return dir;
}

// --- 4. strict TypeScript ----------------------------------------------------------

async function checkTypes(scratch, packed) {
  const dir = join(scratch, "strict-ts");
  await project(
    dir,
    { name: "strict-ts", private: true, type: "module" },
    packed.map((p) => p.tarball),
  );
  // The compiler and the type-test helpers come from this repository.
  for (const name of ["typescript", "expect-type", "@types/node"]) {
    const link = join(dir, "node_modules", name);
    if (existsSync(link)) continue;
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(root, "node_modules", name), link, "dir");
  }
  await cp(join(root, "test", "types.test-d.ts"), join(dir, "types.test-d.ts"));
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2022", "DOM"],
      types: ["node"],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
    },
    files: ["types.test-d.ts"],
  };
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  const checked = await attempt(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", "."],
    {
      cwd: dir,
    },
  );
  report(
    checked.code === 0,
    "the type tests compile against the published declarations (tsc --noEmit: strict, NodeNext, no skipLibCheck)",
    `${checked.stdout}${checked.stderr}`,
  );
}

// --- 5. the browser ------------------------------------------------------------------

/** The lines of the README's first output block, without their times. */
async function readmeFirstOutput() {
  const lines = (await readFile(join(root, "README.md"), "utf8")).split("\n");
  // The first block without a language after the first example's heading.
  let at = lines.indexOf("### Jobs run in parallel");
  let inside = false;
  const block = [];
  for (at += 1; at < lines.length; at++) {
    const line = lines[at];
    if (!inside && line === "```") inside = true;
    else if (inside && line === "```") break;
    else if (!inside && line.startsWith("```")) {
      // A code block: skip to its end.
      while (lines[++at] !== "```");
    } else if (inside) block.push(line.replace(/^\d{3}\.\d{3} /, ""));
  }
  if (block.length === 0)
    throw new Error("README.md: no output block under 'Jobs run in parallel'");
  return block;
}

async function checkBrowser(scratch, coreProject) {
  const dir = join(scratch, "browser");
  await mkdir(dir, { recursive: true });
  for (const name of ["a-parallel.ts", "helpers.ts"]) {
    await cp(join(root, "examples", name), join(dir, name));
  }
  const { build } = await import("esbuild");
  const outfile = join(dir, "bundle.js");
  const result = await build({
    entryPoints: [join(dir, "a-parallel.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // From the installed tarball, as a user's bundler finds it.
    nodePaths: [join(coreProject, "node_modules")],
    keepNames: true,
    logLevel: "silent",
  }).catch((error) => ({ errors: error.errors ?? [error] }));
  report(
    result.errors.length === 0,
    "the README's first example bundles for the browser from the installed core, with no externals",
    result.errors.map((e) => e.text ?? String(e)).join("\n"),
  );
  if (result.errors.length > 0) return;
  if (!existsSync(CHROMIUM)) {
    report(false, `headless Chromium at ${CHROMIUM}: not installed`);
    return;
  }
  const bundle = await readFile(outfile);
  const page = `<!doctype html><meta charset="utf-8"><script type="module" src="/bundle.js"></script>`;
  const server = createServer((request, response) => {
    if (request.url === "/bundle.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    } else response.writeHead(200, { "content-type": "text/html" }).end(page);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
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
  try {
    const tab = await browser.newPage();
    const lines = [];
    const errors = [];
    tab.on("console", (message) => lines.push(message.text()));
    tab.on("pageerror", (error) => errors.push(String(error)));
    const expected = await readmeFirstOutput();
    const finished = new Promise((resolve) => {
      tab.on("console", (message) => {
        if (message.text().includes(expected.at(-1).trim())) resolve();
      });
    });
    await tab.goto(`http://127.0.0.1:${server.address().port}/`);
    await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    const printed = lines
      .join("\n")
      .trimEnd()
      .split("\n")
      .map((line) => line.replace(/^\d{3}\.\d{3} /, ""));
    report(
      errors.length === 0 && JSON.stringify(printed) === JSON.stringify(expected),
      "in headless Chromium, the bundle prints what the README shows (times aside)",
      `errors: ${errors.join("\n")}\nprinted:\n${printed.join("\n")}\nexpected:\n${expected.join("\n")}`,
    );
  } finally {
    await browser.close();
    server.close();
  }
}

// ---------------------------------------------------------------------------------------

async function main() {
  const scratch = await mkdtemp(join(tmpdir(), "asyncjobs-packages-"));
  try {
    const built = (await readdir(join(root, "packages"))).filter((dir) =>
      existsSync(join(root, "packages", dir, "dist")),
    );
    if (built.length > 0) {
      console.log(`(packages already built: ${built.join(", ")}; each prepack builds again)`);
    }
    const tarballs = join(scratch, "tarballs");
    await mkdir(tarballs);
    const packed = await packAll(tarballs);
    const core = packed.find((p) => p.name === "asyncjobs");
    if (!core) throw new Error("the core did not pack");
    await lintTarballs(packed);
    const coreProject = await checkCore(scratch, core);
    await checkEverything(scratch, packed);
    await checkTypes(scratch, packed);
    await checkBrowser(scratch, coreProject);
  } finally {
    if (process.argv.includes("--keep")) console.log(`scratch folder kept: ${scratch}`);
    else await rm(scratch, { recursive: true, force: true });
  }
  console.log("\nfigures:");
  for (const [what, value] of figures) console.log(`  ${what}: ${value}`);
  const checks = `${failures} failed`;
  console.log(failures > 0 ? `packages: ${checks}` : "packages: every check passed");
  if (failures > 0) process.exitCode = 1;
}

await main();
