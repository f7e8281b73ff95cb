/**
 * The scheduling-overhead bench: every workload at every size, each system
 * in turn (alternating the order from run to run), each run in a fresh
 * process (child.mjs) that checks its own outcome. Prints a table, writes the
 * raw figures to bench/results/latest.json and the table to latest.md (and,
 * for the full default matrix, to full.json and full.md, which are kept in
 * the repository, and docs/performance.md made from them). The start-up
 * figures (bench/startup.mjs) are measured at the end of the whole matrix,
 * of --quick, or with --startup.
 *
 *   npm run bench                  the whole matrix (about 7 minutes on an idle machine)
 *   npm run bench -- --quick       a subset in about a minute: asyncjobs and the
 *                                  lower bound only, at 10 000 and 100 000 jobs, 3 runs
 *   npm run bench -- --sizes 100000 --workloads chain,flat --systems asyncjobs,lower-bound --runs 3
 *   npm run bench -- --settle ...  a diagnostic: a full collection between each
 *                                  build and its run (see bench/NOTES.md, "Where a
 *                                  run's time goes"); not how the targets are judged
 *
 * Time limits. asyncjobs and the lower bound always run to the end (a
 * generous deadline only guards against a hang). A peer gets a time budget
 * per cell, for all its runs of that cell together: a run that would exceed
 * what is left is killed, and the peer is reported as "timeout" for that
 * cell and the larger sizes of that workload. The budgets are what keeps the
 * whole matrix within about ten minutes; --budget-scale changes them.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { performanceDoc } from "./performance-doc.mjs";
import { measureStartup } from "./startup.mjs";
import { SYSTEM_NAMES } from "./systems.mjs";
import { WORKLOADS } from "./workloads.mjs";

const here = dirname(fileURLToPath(import.meta.url));
/** The bound's two flavours (bench/lower-bound.mjs): each cell's bound is the better of the two. */
const LOWERS = ["lower-bound", "lower-bound-naive"];
const SUBJECT = "asyncjobs";
/** Where a cell's bound, made of its flavours' figures, is kept in a cell's summary. */
const BOUND = "bound";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    sizes: { type: "string" },
    workloads: { type: "string" },
    systems: { type: "string" },
    "budget-scale": { type: "string" },
    startup: { type: "boolean" },
    settle: { type: "boolean", default: false },
    "startup-runs": { type: "string" },
  },
});

const list = (text, fallback) => (text ? text.split(",").map((item) => item.trim()) : fallback);
const quick = flags.quick;
const sizes = list(
  flags.sizes,
  quick ? ["10000", "100000"] : ["1000", "10000", "100000", "1000000"],
)
  .map(Number)
  .sort((a, b) => a - b);
const workloads = list(flags.workloads, WORKLOADS);
const systems = list(flags.systems, quick ? [SUBJECT, ...LOWERS] : SYSTEM_NAMES);
const runs = Number(flags.runs ?? (quick ? 3 : 5));
const budgetScale = Number(flags["budget-scale"] ?? 1);
const fullMatrix =
  !flags.settle &&
  !quick &&
  !flags.sizes &&
  !flags.workloads &&
  !flags.systems &&
  !flags.runs &&
  runs >= 5;

for (const name of systems) {
  if (!SYSTEM_NAMES.includes(name)) throw new Error(`unknown system ${name}`);
}
for (const name of workloads) {
  if (!WORKLOADS.includes(name)) throw new Error(`unknown workload ${name}`);
}

/** The systems that always run to the end: the one measured, and what it is measured against. */
const UNBUDGETED = new Set([SUBJECT, ...LOWERS]);
/** The peers: every system but the one measured and the bound's flavours. */
const isPeer = (system) => system !== SUBJECT && !LOWERS.includes(system);

/**
 * Runs per cell below a million jobs, for every system: such a run lasts
 * milliseconds, and on a shared machine a burst of other work moves a
 * median of five by a fifth; more runs cost little there. Below ten
 * thousand jobs a run lasts a few milliseconds, mostly the optimiser's
 * warm-up, and nine runs were not enough either: between two full benches
 * the median of the nested 1 000 cell moved from 5.8 to 8.7 ms (its runs
 * spread from 5.2 to 9.9 ms), the peers' by a fifth. A peer's time budget
 * still covers all its runs of a cell together.
 */
const SHORT_CELL_RUNS = flags.runs || quick ? runs : Math.max(runs, 9);
const SHORT_CELL_BELOW = 1_000_000;
const TINY_CELL_RUNS = flags.runs || quick ? runs : Math.max(runs, 21);
const TINY_CELL_BELOW = 10_000;
function runsOf(size) {
  if (size < TINY_CELL_BELOW) return TINY_CELL_RUNS;
  return size < SHORT_CELL_BELOW ? SHORT_CELL_RUNS : runs;
}
/** How many runs the cells of each size take, in words. */
function runsInWords() {
  if (SHORT_CELL_RUNS === runs && TINY_CELL_RUNS === runs) return `${runs} runs`;
  return `${runs} runs (${SHORT_CELL_RUNS} below ${SHORT_CELL_BELOW.toLocaleString("en")} jobs, ${TINY_CELL_RUNS} below ${TINY_CELL_BELOW.toLocaleString("en")})`;
}

/**
 * A peer's time budget for five runs of one cell (seconds): enough for a
 * peer a few times slower than the lower bound, and small enough at a
 * million jobs that the matrix stays within about ten minutes. A cell of
 * more runs gets as much more, so that a peer is allowed the same time per
 * run (a cell of fewer, as with --quick, keeps the whole budget). Sizes in
 * between take the budget of the next size up.
 */
const PEER_BUDGET_SECONDS = [
  [1_000, 3],
  [10_000, 6],
  [100_000, 12],
  [1_000_000, 15],
];
/** A peer's budget for all its runs of one cell together (ms). */
function peerBudgetMs(size) {
  const row = PEER_BUDGET_SECONDS.find(([upTo]) => size <= upTo) ?? PEER_BUDGET_SECONDS.at(-1);
  return (budgetScale * row[1] * 1000 * Math.max(runsOf(size), 5)) / 5;
}

/** The hang guard of a run of asyncjobs or the lower bound (ms). */
function hangGuardMs(size) {
  return 60_000 + size * 0.3;
}

/** Runs one measured child; resolves with its figures, `{ timeout }` or `{ error }`. */
function runChild(system, workload, size, deadline) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", join(here, "child.mjs"), system, workload, String(size)],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: flags.settle ? { ...process.env, BENCH_SETTLE: "1" } : process.env,
      },
    );
    let out = "";
    let err = "";
    let timedOut = false;
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, deadline);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (timedOut) resolve({ timeout: true });
      else if (code !== 0) resolve({ error: err.trim() || `exit code ${code}` });
      else resolve(JSON.parse(out.trim().split("\n").pop()));
    });
  });
}

/**
 * The bound of a cell: the faster flavour's run (its CPU time with it), the
 * smaller of the flavours' peak memories (a run that starts every task at
 * once holds more), and for the build the median of both flavours' runs
 * together. The flavours build the very same tasks, so their builds are one
 * sample: the smaller of two medians of it would pick the luckier half (at
 * a million jobs the two medians of one build differed by a fifth).
 */
function boundOf(summary, raw) {
  const flavours = LOWERS.map((name) => [name, summary[name]]).filter(
    ([, figures]) => figures?.runMs !== undefined,
  );
  if (flavours.length === 0) return undefined;
  const [fastest, best] = flavours.reduce((a, b) => (b[1].runMs < a[1].runMs ? b : a));
  const builds = flavours.flatMap(([name]) => raw[name]);
  return {
    ...best,
    flavour: fastest,
    buildMs: median(builds.map((r) => r.buildMs)),
    buildCpuMs: median(builds.map((r) => r.buildCpuMs)),
    peakRss: Math.min(...flavours.map(([, figures]) => figures.peakRss)),
    bytesPerJob: Math.min(...flavours.map(([, figures]) => figures.bytesPerJob)),
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The medians of one system's runs in one cell. */
function summarize(results) {
  const jobs = results[0].jobs;
  const runMs = median(results.map((r) => r.runMs));
  return {
    runs: results.length,
    runMs,
    buildMs: median(results.map((r) => r.buildMs)),
    runCpuMs: median(results.map((r) => r.runCpuMs)),
    buildCpuMs: median(results.map((r) => r.buildCpuMs)),
    jobsPerSecond: jobs / (runMs / 1000),
    peakRss: median(results.map((r) => r.peakRss)),
    bytesPerJob: median(results.map((r) => (r.peakRss - r.baselineRss) / jobs)),
  };
}

const machine = {
  cpu: os.cpus()[0]?.model ?? "unknown",
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`,
  node: process.version,
};

const started = Date.now();
const cells = [];
/** workload → system → the size at which it timed out. */
const timedOutAt = new Map(workloads.map((workload) => [workload, new Map()]));
const errors = [];

console.error(
  `asyncjobs bench: sizes ${sizes.join(", ")}; ${runsInWords()} per cell; ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}${flags.settle ? "; heap settled before each run (a diagnostic: the targets are not judged this way)" : ""}`,
);
for (const size of sizes) {
  for (const workload of workloads) {
    const raw = Object.fromEntries(systems.map((system) => [system, []]));
    const status = Object.fromEntries(systems.map((system) => [system, "ok"]));
    for (const system of systems) {
      if (timedOutAt.get(workload).has(system)) status[system] = "timeout";
    }
    const budgetLeft = Object.fromEntries(systems.map((system) => [system, peerBudgetMs(size)]));
    const cellRuns = runsOf(size);
    for (let run = 0; run < cellRuns; run++) {
      // Alternate the order, so that no system always runs right after another.
      const order = systems.map((_, k) => systems[(k + run) % systems.length]);
      for (const system of order) {
        if (status[system] !== "ok") continue;
        const budgeted = !UNBUDGETED.has(system);
        const began = Date.now();
        const deadline = budgeted ? budgetLeft[system] : hangGuardMs(size);
        const result = await runChild(system, workload, size, deadline);
        if (budgeted) budgetLeft[system] -= Date.now() - began;
        if (result.timeout) {
          status[system] = "timeout";
          timedOutAt.get(workload).set(system, size);
        } else if (result.error) {
          status[system] = "error";
          errors.push({ system, workload, size, error: result.error });
          console.error(`ERROR ${system} ${workload} ${size}: ${result.error}`);
        } else {
          raw[system].push(result);
        }
      }
    }
    const summary = {};
    for (const system of systems) {
      summary[system] =
        status[system] === "ok" ? summarize(raw[system]) : { status: status[system] };
    }
    const lower = boundOf(summary, raw);
    if (lower !== undefined) summary[BOUND] = lower;
    for (const system of systems) {
      const figures = summary[system];
      if (figures.runMs !== undefined && lower?.runMs !== undefined) {
        figures.ratio = figures.runMs / lower.runMs;
        figures.cpuRatio = figures.runCpuMs / lower.runCpuMs;
        figures.buildRatio = figures.buildMs / lower.buildMs;
        figures.memoryRatio = figures.peakRss / lower.peakRss;
      }
    }
    cells.push({ workload, size, summary, raw });
    const line = [...systems, ...(lower ? [BOUND] : [])]
      .map((system) => {
        const figures = summary[system];
        return figures.runMs === undefined
          ? `${system} ${figures.status}`
          : `${system} ${ms(figures.runMs)}${figures.ratio ? ` (${figures.ratio.toFixed(2)}×)` : ""}`;
      })
      .join(", ");
    console.error(`${workload.padEnd(8)} ${String(size).padStart(7)}: ${line}`);
  }
}

/** What users feel outside the engine (bench/startup.mjs), unless only some cells were asked for. */
const startupRuns = Number(flags["startup-runs"] ?? (quick ? 3 : 5));
const startup =
  !fullMatrix && !quick && !flags.startup ? undefined : (await measureStartup(startupRuns)).summary;
if (startup) console.error(`start-up: ${JSON.stringify(startup)}`);
const elapsed = (Date.now() - started) / 1000;

function ms(value) {
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}
function mib(bytes) {
  return `${(bytes / 2 ** 20).toFixed(0)}`;
}
function count(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(value >= 1e7 ? 0 : 1)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(0)} k`;
  return String(value);
}
function cellText(figures) {
  if (figures === undefined) return "–";
  if (figures.runMs === undefined) return figures.status;
  return figures.ratio === undefined
    ? ms(figures.runMs)
    : `${ms(figures.runMs)} (${figures.ratio.toFixed(2)}×)`;
}
const FLAVOUR_MARK = { "lower-bound": "b", "lower-bound-naive": "n" };

/**
 * The Markdown table: run times (median, × the bound), the build (× the
 * bound's), peak memory (× the bound's), and the peers' run times.
 */
function table() {
  const peers = systems.filter(isPeer);
  const header = [
    "workload",
    "jobs",
    "bound run",
    "asyncjobs run (× bound)",
    "run CPU × bound",
    "bound build",
    "asyncjobs build (× bound)",
    "peak RSS MiB asyncjobs / bound (×)",
    ...peers.map((peer) => `${peer} run (× bound)`),
    "asyncjobs jobs/s",
  ];
  const rows = cells.map(({ workload, size, summary }) => {
    const subject = summary[SUBJECT];
    const lower = summary[BOUND];
    const hasSubject = subject?.runMs !== undefined;
    const ratio = (value) => (value === undefined ? "" : ` (${value.toFixed(2)}×)`);
    return [
      workload,
      count(size),
      lower === undefined ? "–" : `${ms(lower.runMs)} ${FLAVOUR_MARK[lower.flavour] ?? ""}`,
      cellText(subject),
      subject?.cpuRatio === undefined ? "–" : `${subject.cpuRatio.toFixed(2)}×`,
      lower === undefined ? "–" : ms(lower.buildMs),
      hasSubject ? `${ms(subject.buildMs)}${ratio(subject.buildRatio)}` : "–",
      hasSubject && lower?.peakRss
        ? `${mib(subject.peakRss)} / ${mib(lower.peakRss)}${ratio(subject.memoryRatio)}`
        : "–",
      ...peers.map((peer) => cellText(summary[peer])),
      hasSubject ? count(subject.jobsPerSecond) : "–",
    ];
  });
  const align = header.map((_, k) => (k < 2 ? ":--" : "--:"));
  return [header, align, ...rows].map((row) => `| ${row.join(" | ")} |`).join("\n");
}

/** The start-up table: medians of wall and CPU time, each in fresh processes. */
function startupTable() {
  if (startup === undefined) return "";
  const rows = [
    ['`import "asyncjobs"` (the import alone)', startup.import],
    ["`asyncjobs --help` (spawn to exit)", startup.help],
    ["first SVG export of a 50-job graph in a process", startup.svg],
    ["first PNG export of a 50-job graph in a process", startup.png],
    ["`asyncjobs graph <50 jobs>.yaml -o x.png` (spawn to exit)", startup.cliPng],
  ];
  return [
    "| what | wall (median) | CPU (median) |",
    "| :-- | --: | --: |",
    ...rows.map(([what, figures]) => `| ${what} | ${ms(figures.ms)} | ${ms(figures.cpuMs)} |`),
  ].join("\n");
}

/** Checks the targets on what was measured; each entry says whether it holds and the worst figure. */
function targets() {
  const verdicts = [];
  const measured = cells.filter((cell) => cell.summary[SUBJECT]?.runMs !== undefined);
  const add = (name, checks, watched = false) => {
    if (checks.length === 0) return;
    const failing = checks.filter((check) => !check.ok);
    verdicts.push({ name, holds: failing.length === 0, failing, checked: checks.length, watched });
  };
  const where = (cell) => `${cell.workload} ${count(cell.size)}`;
  const bounded = measured.filter((cell) => cell.summary[SUBJECT].ratio !== undefined);
  const large = (cell) => cell.size >= 100_000;

  add(
    "run within 1.3× of the bound at 100 k and 1 M jobs",
    bounded.filter(large).map((cell) => ({
      where: where(cell),
      value: `${cell.summary[SUBJECT].ratio.toFixed(2)}×, CPU ${cell.summary[SUBJECT].cpuRatio.toFixed(2)}×`,
      ok: cell.summary[SUBJECT].ratio <= 1.3,
    })),
  );
  add(
    "build within 1.5× of the bound's at 100 k and 1 M jobs",
    bounded.filter(large).map((cell) => ({
      where: where(cell),
      value: `${ms(cell.summary[SUBJECT].buildMs)} vs ${ms(cell.summary[BOUND].buildMs)}, ${cell.summary[SUBJECT].buildRatio.toFixed(2)}×`,
      ok: cell.summary[SUBJECT].buildRatio <= 1.5,
    })),
  );
  add(
    "peak memory at most 1.5× the bound's",
    bounded.map((cell) => ({
      where: where(cell),
      value: `${cell.summary[SUBJECT].memoryRatio.toFixed(2)}×`,
      ok: cell.summary[SUBJECT].memoryRatio <= 1.5,
    })),
  );

  const peerChecks = [];
  for (const cell of measured) {
    for (const peer of systems.filter(isPeer)) {
      const theirs = cell.summary[peer];
      if (theirs === undefined) continue;
      const ok = theirs.runMs === undefined || cell.summary[SUBJECT].runMs < theirs.runMs;
      peerChecks.push({
        where: `${where(cell)} vs ${peer}`,
        value: theirs.runMs === undefined ? theirs.status : ms(theirs.runMs),
        ok,
      });
    }
  }
  add("faster than every peer on every cell", peerChecks);

  if (startup !== undefined) {
    add("first PNG of a 50-job graph in a process under 1 s", [
      {
        where: "exportAsGraphic(png)",
        value: `${ms(startup.png.ms)}, CPU ${ms(startup.png.cpuMs)}`,
        ok: startup.png.ms < 1000,
      },
    ]);
    add("`asyncjobs graph … -o x.png` of 50 jobs under 1.5 s", [
      {
        where: "CLI",
        value: `${ms(startup.cliPng.ms)}, CPU ${ms(startup.cliPng.cpuMs)}`,
        ok: startup.cliPng.ms < 1500,
      },
    ]);
  }

  // Watched, not targets: figures that say where the engine stands elsewhere.
  add(
    "run within 2× of the bound at 10 k jobs",
    bounded
      .filter((cell) => cell.size >= 10_000 && cell.size < 100_000)
      .map((cell) => ({
        where: where(cell),
        value: `${cell.summary[SUBJECT].ratio.toFixed(2)}×`,
        ok: cell.summary[SUBJECT].ratio <= 2,
      })),
    true,
  );
  const growthChecks = [];
  for (const cell of measured.filter((c) => c.size === 1_000_000)) {
    const before = measured.find((c) => c.workload === cell.workload && c.size === 100_000);
    if (before === undefined) continue;
    const growth = cell.summary[SUBJECT].runMs / before.summary[SUBJECT].runMs;
    // The bound's own growth in the same run says how much of it is the
    // machine's and the collector's rather than the engine's.
    const lowerGrowth = cell.summary[BOUND]?.runMs / before.summary[BOUND]?.runMs;
    const context = Number.isFinite(lowerGrowth) ? `; bound ${lowerGrowth.toFixed(1)}×` : "";
    growthChecks.push({
      where: cell.workload,
      value: `${growth.toFixed(1)}×${context}`,
      ok: growth <= 11,
    });
  }
  add("run time grows at most 11× from 100 k to 1 M jobs", growthChecks, true);
  add(
    "under 1 KiB per job above the baseline at 1 M jobs",
    measured
      .filter((cell) => cell.size === 1_000_000)
      .map((cell) => ({
        where: where(cell),
        value: `${cell.summary[SUBJECT].bytesPerJob.toFixed(0)} B`,
        ok: cell.summary[SUBJECT].bytesPerJob < 1024,
      })),
    true,
  );
  return verdicts;
}

const verdicts = targets();
const machineLine = `${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}`;
const verdictLine = (verdict) => {
  const detail = verdict.holds
    ? `all ${verdict.checked} cells`
    : `fails on ${verdict.failing.map((check) => `${check.where} (${check.value})`).join(", ")}`;
  return `- ${verdict.holds ? "✔" : "✘"} ${verdict.name}: ${detail}`;
};
const budgets = PEER_BUDGET_SECONDS.map(
  ([size]) => `${Math.round(peerBudgetMs(size) / 100) / 10} s at ${count(size)}`,
).join(", ");
const load = os.loadavg().map((value) => value.toFixed(1));
const markdown = [
  `Machine: ${machineLine}; ${new Date().toISOString().slice(0, 10)}; load average at the end ${load.join(", ")}. Whole bench: ${Math.round(elapsed)} s.`,
  "",
  table(),
  "",
  `Each cell is the median of ${runsInWords()}, each in a fresh process, the systems taking turns. ` +
    "*Bound*: the lower bound of the cell, the better of its two flavours measured in the same " +
    "invocation (*b*: ready jobs started in bursts of 1 024, as the engine does; *n*: all at once); " +
    "both build the same labelled task objects with their requirement arrays. " +
    "Run times are for running a graph already built; in parentheses, the ratio to the bound. " +
    "*Run CPU × bound* is the same ratio for the CPU time of the run (the whole process's, " +
    "collector threads included), which other work on the machine disturbs less than wall time. " +
    "*Build* is the time to create the jobs with their options (a label, their requirements) " +
    "and add them to their scheduler, against the bound's build of its tasks (the median of both " +
    "flavours' builds, which are the same code). *Peak RSS* is the " +
    "process's. *timeout*: the peer's runs of that cell went beyond its time " +
    `budget (for all its runs together: ${budgets}), and larger sizes of that workload were not tried.`,
  "",
  ...(startup === undefined
    ? []
    : [
        `Outside the engine (medians of ${startupRuns} fresh processes each, the kinds taking turns):`,
        "",
        startupTable(),
        "",
      ]),
  "Targets, as measured in this run:",
  "",
  ...verdicts.filter((verdict) => !verdict.watched).map(verdictLine),
  "",
  ...(verdicts.some((verdict) => verdict.watched)
    ? ["Also watched:", "", ...verdicts.filter((verdict) => verdict.watched).map(verdictLine), ""]
    : []),
].join("\n");

console.log(`\n${markdown}`);
const results = join(here, "results");
mkdirSync(results, { recursive: true });
const report = {
  date: new Date().toISOString(),
  machine,
  loadAverage: os.loadavg(),
  options: { sizes, workloads, systems, runs, quick, budgetScale },
  elapsedSeconds: elapsed,
  cells,
  startup,
  targets: verdicts,
  errors,
};
writeFileSync(join(results, "latest.json"), `${JSON.stringify(report, null, 1)}\n`);
writeFileSync(join(results, "latest.md"), markdown);
if (fullMatrix) {
  // The whole matrix's figures are kept in the repository, and
  // docs/performance.md is made from them.
  writeFileSync(join(results, "full.json"), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(join(results, "full.md"), markdown);
  writeFileSync(join(here, "..", "docs", "performance.md"), performanceDoc(markdown));
}
if (errors.length > 0) {
  console.error(`${errors.length} run(s) failed their check; see bench/results/latest.json`);
  process.exitCode = 1;
}
