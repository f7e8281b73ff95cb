/**
 * What users feel outside the engine, each measured in fresh processes:
 * - `import "asyncjobs"` (the built package's entry);
 * - `asyncjobs --help`, from spawning the CLI to its exit;
 * - the first SVG and the first PNG export of a 50-job graph in a process
 *   (the graph built, then `exportAsGraphic()`: Graphviz and resvg load,
 *   lay out, draw, write);
 * - `asyncjobs graph <50-job workflow.yaml> -o x.png`, spawn to exit.
 *
 * Each figure is a median of wall times, with the process's CPU time
 * (helper threads included: WebAssembly compiles in the background), which
 * contention on a shared machine inflates less.
 *
 *   node bench/startup.mjs [--runs 5]      prints the figures as JSON
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The built core (the package `asyncjobs`) and the CLI (`@asyncjobs/cli`). */
const dist = join(here, "..", "packages", "core", "dist");
const cli = join(here, "..", "packages", "cli", "dist", "main.js");

/** The 50-job graph: ten layers of five, each job requiring two jobs of the layer before. */
export const PICTURE_JOBS = 50;
const WIDTH = 5;
function requirementsOf(i) {
  const layer = Math.floor(i / WIDTH);
  if (layer === 0) return [];
  const base = (layer - 1) * WIDTH;
  const first = base + (i % WIDTH);
  const second = base + ((i * 3 + 1) % WIDTH);
  return first === second ? [first] : [first, second];
}

/** The code of a process that exports the graph as `format` and prints its timings. */
function exportScript(format, output) {
  return `
import { performance } from "node:perf_hooks";
const { Job, PureScheduler } = await import(${JSON.stringify(pathToFileURL(join(dist, "index.js")).href)});
const requirementsOf = ${requirementsOf.toString()};
const WIDTH = ${WIDTH};
const scheduler = new PureScheduler();
const jobs = [];
for (let i = 0; i < ${PICTURE_JOBS}; i++) {
  const job = new Job(async () => i, { label: \`j\${i}\`, required: requirementsOf(i).map((k) => jobs[k]) });
  jobs.push(job);
  scheduler.add(job);
}
const c1 = process.cpuUsage();
const t1 = performance.now();
await scheduler.exportAsGraphic(${JSON.stringify(output)}, ${JSON.stringify(format)});
const t2 = performance.now();
const c2 = process.cpuUsage(c1);
process.stdout.write(JSON.stringify({
  ms: t2 - t1,
  cpuMs: (c2.user + c2.system) / 1000,
}));
`;
}

/** The code of a process that imports the package and prints the time it took. */
const IMPORT_SCRIPT = `
import { performance } from "node:perf_hooks";
const c0 = process.cpuUsage();
const t0 = performance.now();
await import(${JSON.stringify(pathToFileURL(join(dist, "index.js")).href)});
const t1 = performance.now();
const cpu = process.cpuUsage(c0);
process.stdout.write(JSON.stringify({ ms: t1 - t0, cpuMs: (cpu.user + cpu.system) / 1000 }));
`;

/** Loaded with --import into the CLI's process: prints its CPU time on fd 3 as it exits. */
const CPU_AT_EXIT = `
import { writeSync } from "node:fs";
process.on("exit", () => {
  const cpu = process.cpuUsage();
  writeSync(3, JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 }));
});
`;

/** Runs `node args`; resolves with its wall time (spawn to exit), stdout and what it wrote on fd 3. */
function timeProcess(args, cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd, stdio: ["ignore", "pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let extra = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    child.stdio[3].on("data", (chunk) => {
      extra += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) reject(new Error(`node ${args.join(" ")}: exit ${code}: ${err.trim()}`));
      else resolve({ wallMs, out, extra });
    });
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Measures every figure `runs` times, the kinds taking turns; resolves with their medians. */
export async function measureStartup(runs = 5) {
  const scratch = mkdtempSync(join(tmpdir(), "asyncjobs-startup-"));
  try {
    const importFile = join(scratch, "import.mjs");
    writeFileSync(importFile, IMPORT_SCRIPT);
    const svgFile = join(scratch, "svg.mjs");
    writeFileSync(svgFile, exportScript("svg", join(scratch, "picture")));
    const pngFile = join(scratch, "png.mjs");
    writeFileSync(pngFile, exportScript("png", join(scratch, "picture")));
    const cpuFile = join(scratch, "cpu-at-exit.mjs");
    writeFileSync(cpuFile, CPU_AT_EXIT);
    const workflow = join(scratch, "graph50.yaml");
    const lines = ["label: fifty", "jobs:"];
    for (let i = 0; i < PICTURE_JOBS; i++) {
      lines.push(`  - id: j${i}`, "    run: [node, --version]");
      const required = requirementsOf(i);
      if (required.length > 0)
        lines.push(`    requires: [${required.map((k) => `j${k}`).join(", ")}]`);
    }
    writeFileSync(workflow, `${lines.join("\n")}\n`);
    const cpuImport = pathToFileURL(cpuFile).href;

    const kinds = {
      import: async () => {
        const { out } = await timeProcess([importFile], scratch);
        return JSON.parse(out);
      },
      help: async () => {
        const { wallMs, extra } = await timeProcess(
          ["--import", cpuImport, cli, "--help"],
          scratch,
        );
        return { ms: wallMs, cpuMs: JSON.parse(extra).cpuMs };
      },
      svg: async () => {
        const { out } = await timeProcess([svgFile], scratch);
        return JSON.parse(out);
      },
      png: async () => {
        const { out } = await timeProcess([pngFile], scratch);
        return JSON.parse(out);
      },
      cliPng: async () => {
        const output = join(scratch, "cli.png");
        const { wallMs, extra } = await timeProcess(
          ["--import", cpuImport, cli, "graph", workflow, "-o", output],
          scratch,
        );
        return { ms: wallMs, cpuMs: JSON.parse(extra).cpuMs };
      },
    };
    const names = Object.keys(kinds);
    const raw = Object.fromEntries(names.map((name) => [name, []]));
    for (let run = 0; run < runs; run++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + run) % names.length];
        raw[name].push(await kinds[name]());
      }
    }
    const summary = {};
    for (const name of names) {
      summary[name] = {
        ms: median(raw[name].map((r) => r.ms)),
        cpuMs: median(raw[name].map((r) => r.cpuMs)),
        runs: raw[name].length,
      };
    }
    return { summary, raw };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--runs");
  const runs = at > 0 ? Number(process.argv[at + 1]) : 5;
  const { summary } = await measureStartup(runs);
  console.log(JSON.stringify(summary, null, 1));
}
