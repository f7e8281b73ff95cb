/**
 * Checks the package as it would be published, from the tarball `npm pack`
 * makes of the built dist/ (run `npm run build` first):
 *
 * 1. its contents: the README, the licence and the built entries are in; no
 *    tests, sources, examples, benches or scripts, and no source map without
 *    its file;
 * 2. publint and @arethetypeswrong/cli find nothing wrong;
 * 3. installed in a scratch project, it loads with `require()` from CommonJS
 *    (Node's require(esm)) and with `import`, as one single module instance,
 *    without any warning;
 * 4. the type tests (test/types.test-d.ts) compile against the shipped
 *    declarations, as a consumer's strict TypeScript sees them.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", name);
const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));

let failures = 0;
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

// --- 1. contents -----------------------------------------------------------

/** Paths that must be in the tarball. */
function requiredPaths() {
  const paths = new Set(["package.json", "README.md", "LICENSE"]);
  const add = (target) => {
    if (typeof target === "string") paths.add(target.replace(/^\.\//, ""));
    else if (target && typeof target === "object") Object.values(target).forEach(add);
  };
  add(pkg.main);
  add(pkg.types);
  add(pkg.exports);
  add(pkg.bin);
  return paths;
}

/** Why a path must not be published, or undefined when it may. */
function forbidden(path) {
  if (/(^|\/)(test|tests|__tests__)\//.test(path)) return "a test directory";
  if (/\.(test|spec)(-d)?\.[cm]?[jt]sx?(\.map)?$/.test(path) || /\.test-d\./.test(path)) {
    return "a test file";
  }
  if (/^(src|examples|bench|scripts|api|docs|tmp|coverage|\.ci)\//.test(path)) {
    return "not part of the package";
  }
  if (/\.tsbuildinfo$/.test(path)) return "a build cache";
  if (/\.ts$/.test(path) && !/\.d\.ts$/.test(path)) return "a TypeScript source";
  return undefined;
}

async function checkContents(files, tarballDir) {
  const names = new Set(files.map((file) => file.path));
  const missing = [...requiredPaths()].filter((path) => !names.has(path));
  report(
    missing.length === 0,
    "the tarball holds the README, the licence and every entry point",
    missing.join("\n"),
  );

  const wrong = files
    .map((file) => [file.path, forbidden(file.path)])
    .filter(([, why]) => why !== undefined)
    .map(([path, why]) => `${path}: ${why}`);
  report(
    wrong.length === 0,
    "no test, source, example, bench or script is published",
    wrong.join("\n"),
  );

  const maps = files.map((file) => file.path).filter((path) => path.endsWith(".map"));
  const orphanMaps = [];
  for (const map of maps) {
    if (!names.has(map.slice(0, -".map".length)))
      orphanMaps.push(`${map}: its file is not published`);
    const { sources = [], sourcesContent = [] } = JSON.parse(
      await readFile(join(tarballDir, "package", map), "utf8"),
    );
    for (const source of sources) {
      if (forbidden(source.replace(/^(\.\.\/)+/, "")) === "a test file") {
        orphanMaps.push(`${map}: maps a test (${source})`);
      }
    }
    if (sourcesContent.length !== sources.length) {
      orphanMaps.push(`${map}: points to sources that are not published`);
    }
  }
  report(
    orphanMaps.length === 0,
    `source maps (${maps.length}) are self-contained and of published files only`,
    orphanMaps.join("\n"),
  );
}

// --- 3. loading it ---------------------------------------------------------

/** Installs the unpacked package in a scratch project whose other packages link to ours. */
async function scratchProject(dir, unpacked) {
  const modules = join(dir, "node_modules");
  await mkdir(modules, { recursive: true });
  await cp(unpacked, join(modules, pkg.name), { recursive: true });
  const links = [...Object.keys(pkg.dependencies ?? {}), "@types/node", "expect-type"];
  for (const name of links) {
    const target = join(root, "node_modules", name);
    if (!existsSync(target)) continue;
    await mkdir(dirname(join(modules, name)), { recursive: true });
    await symlink(target, join(modules, name), "dir");
  }
  await writeFile(join(dir, "package.json"), '{ "name": "consumer", "private": true }\n');
}

async function checkLoading(dir) {
  const entries = Object.keys(pkg.exports).filter((entry) => !entry.endsWith(".json"));
  const specifiers = entries.map((entry) =>
    entry === "." ? pkg.name : `${pkg.name}/${entry.slice(2)}`,
  );

  const cjs = `
const assert = require("node:assert/strict");
const specifiers = ${JSON.stringify(specifiers)};
const modules = specifiers.map((specifier) => require(specifier));
for (const m of modules) assert.equal(typeof m.Scheduler, "function");
// One instance of each class, whichever entry it came through.
for (const m of modules) assert.equal(m.Scheduler, modules[0].Scheduler);
const { Job, Scheduler } = modules[0];
const a = new Job(async () => 20, { label: "a" });
const b = new Job(async () => a.result() + 22, { label: "b", required: a });
new Scheduler(a, b).run().then(async (ok) => {
  assert.equal(ok, true);
  assert.equal(b.result(), 42);
  // import() of the same package gives the same module as require().
  const imported = await import(specifiers[0]);
  assert.equal(imported.Scheduler, Scheduler);
  console.log("loaded " + specifiers.join(", "));
});
`;
  await writeFile(join(dir, "load.cjs"), cjs);
  const loaded = await attempt(process.execPath, ["load.cjs"], { cwd: dir });
  report(
    loaded.code === 0 && loaded.stderr.trim() === "",
    `require(${specifiers.map((s) => JSON.stringify(s)).join(", ")}) works from CommonJS on Node ${process.versions.node}, without a warning, one instance with import()`,
    `${loaded.stdout}${loaded.stderr}`,
  );

  const esm = `
import assert from "node:assert/strict";
${specifiers.map((specifier, i) => `import * as m${i} from ${JSON.stringify(specifier)};`).join("\n")}
${specifiers.map((_, i) => `assert.equal(m${i}.Scheduler, m0.Scheduler);`).join("\n")}
assert.equal(await new m0.Scheduler(new m0.Job(() => 1)).run(), true);
`;
  await writeFile(join(dir, "load.mjs"), esm);
  const imported = await attempt(process.execPath, ["load.mjs"], { cwd: dir });
  report(
    imported.code === 0 && imported.stderr.trim() === "",
    "import works from ES modules",
    `${imported.stdout}${imported.stderr}`,
  );
}

// --- 4. types as a consumer sees them ---------------------------------------

async function checkConsumerTypes(dir) {
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
  await writeFile(
    join(dir, "package.json"),
    '{ "name": "consumer", "private": true, "type": "module" }\n',
  );
  const checked = await attempt(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", "."],
    {
      cwd: dir,
    },
  );
  report(
    checked.code === 0,
    "the type tests compile against the published declarations (strict, NodeNext, no skipLibCheck)",
    `${checked.stdout}${checked.stderr}`,
  );
}

// ---------------------------------------------------------------------------

async function main() {
  if (!existsSync(join(root, "dist", "index.js"))) {
    console.error("no dist/: run `npm run build` first");
    process.exit(2);
  }
  const scratch = await mkdtemp(join(tmpdir(), "asyncjobs-package-"));
  try {
    const packed = await attempt("npm", ["pack", "--json", "--pack-destination", scratch], {
      cwd: root,
    });
    if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
    const [info] = JSON.parse(packed.stdout);
    const tarball = join(scratch, info.filename);
    console.log(
      `${info.filename}: ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} kB packed`,
    );
    await run("tar", ["-xzf", tarball, "-C", scratch]);

    await checkContents(info.files, scratch);

    const publint = await attempt(bin("publint"), ["run", tarball, "--strict"], { cwd: root });
    report(
      publint.code === 0 && /All good/.test(publint.stdout),
      "publint --strict: all good",
      `${publint.stdout}${publint.stderr}`,
    );

    // ESM only, on purpose: Node 20.19+ and 22.12+ load it with require()
    // (checked below), and a second CommonJS copy would break `instanceof`
    // between jobs made by the two. The rule ignored is that one only.
    const attw = await attempt(
      bin("attw"),
      [tarball, "--ignore-rules", "cjs-resolves-to-esm", "--format", "table-flipped", "--no-color"],
      {
        cwd: root,
      },
    );
    report(
      attw.code === 0,
      "@arethetypeswrong/cli: no problem (ESM only, require(esm) for CommonJS)",
      `${attw.stdout}${attw.stderr}`,
    );

    const consumer = join(scratch, "consumer");
    await scratchProject(consumer, join(scratch, "package"));
    await checkLoading(consumer);
    await checkConsumerTypes(consumer);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  if (failures > 0) {
    console.error(`${failures} package check(s) failed`);
    process.exitCode = 1;
  }
}

await main();
