/**
 * The scheduling-overhead bench: every workload at every size, each system
 * in turn (alternating the order from run to run), each run in a fresh
 * process (child.mjs) that checks its own outcome. Prints a table, writes the
 * raw figures to bench/results/latest.json and the table to latest.md (and,
 * for the full default matrix, to full.json and full.md, which are kept in
 * the repository, and the README's section to bench/results/README-section.md).
 *
 *   npm run bench                  the whole matrix (about 7 minutes on an idle machine)
 *   npm run bench -- --quick       a subset in about a minute: asyncjobs and the
 *                                  lower bound only, at 10 000 and 100 000 jobs, 3 runs
 *   npm run bench -- --sizes 100000 --workloads chain,flat --systems asyncjobs,lower-bound --runs 3
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
import { SYSTEM_NAMES } from "./systems.mjs";
import { WORKLOADS } from "./workloads.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const LOWER = "lower-bound";
const SUBJECT = "asyncjobs";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    sizes: { type: "string" },
    workloads: { type: "string" },
    systems: { type: "string" },
    "budget-scale": { type: "string" },
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
const systems = list(flags.systems, quick ? [SUBJECT, LOWER] : SYSTEM_NAMES);
const runs = Number(flags.runs ?? (quick ? 3 : 5));
const budgetScale = Number(flags["budget-scale"] ?? 1);
const fullMatrix =
  !quick && !flags.sizes && !flags.workloads && !flags.systems && !flags.runs && runs >= 5;

for (const name of systems) {
  if (!SYSTEM_NAMES.includes(name)) throw new Error(`unknown system ${name}`);
}
for (const name of workloads) {
  if (!WORKLOADS.includes(name)) throw new Error(`unknown workload ${name}`);
}

/** The systems that always run to the end: the one measured, and what it is measured against. */
const UNBUDGETED = new Set([SUBJECT, LOWER]);

/**
 * Runs per cell below a million jobs, for every system: such a run lasts
 * milliseconds, and on a shared machine a burst of other work moves a
 * median of five by a fifth; more runs cost little there. A peer's time
 * budget still covers all its runs of a cell together.
 */
const SHORT_CELL_RUNS = flags.runs || quick ? runs : Math.max(runs, 9);
const SHORT_CELL_BELOW = 1_000_000;
function runsOf(size) {
  return size < SHORT_CELL_BELOW ? SHORT_CELL_RUNS : runs;
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
      { stdio: ["ignore", "pipe", "pipe"] },
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
  `asyncjobs bench: sizes ${sizes.join(", ")}; ${runs} runs per cell (${SHORT_CELL_RUNS} below ${SHORT_CELL_BELOW}); ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}`,
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
    const lower = summary[LOWER];
    for (const system of systems) {
      const figures = summary[system];
      if (figures.runMs !== undefined && lower?.runMs !== undefined) {
        figures.ratio = figures.runMs / lower.runMs;
        figures.cpuRatio = figures.runCpuMs / lower.runCpuMs;
        figures.memoryRatio = figures.peakRss / lower.peakRss;
      }
    }
    cells.push({ workload, size, summary, raw });
    const line = systems
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

/** The Markdown table: run times (median, × the lower bound), then asyncjobs' build, speed and memory. */
function table() {
  const peers = systems.filter((system) => system !== LOWER && system !== SUBJECT);
  const header = [
    "workload",
    "jobs",
    "lower bound",
    "asyncjobs (× LB)",
    "asyncjobs CPU × LB",
    ...peers.map((peer) => `${peer} (× LB)`),
    "asyncjobs build",
    "asyncjobs jobs/s",
    "peak RSS MiB asyncjobs / LB",
    "asyncjobs bytes/job",
  ];
  const rows = cells.map(({ workload, size, summary }) => {
    const subject = summary[SUBJECT];
    const lower = summary[LOWER];
    const hasSubject = subject?.runMs !== undefined;
    return [
      workload,
      count(size),
      cellText(lower),
      cellText(subject),
      subject?.cpuRatio === undefined ? "–" : `${subject.cpuRatio.toFixed(2)}×`,
      ...peers.map((peer) => cellText(summary[peer])),
      hasSubject ? ms(subject.buildMs) : "–",
      hasSubject ? count(subject.jobsPerSecond) : "–",
      hasSubject && lower?.peakRss ? `${mib(subject.peakRss)} / ${mib(lower.peakRss)}` : "–",
      hasSubject ? subject.bytesPerJob.toFixed(0) : "–",
    ];
  });
  const align = header.map((_, k) => (k < 2 ? ":--" : "--:"));
  return [header, align, ...rows].map((row) => `| ${row.join(" | ")} |`).join("\n");
}

/** Checks the targets on what was measured; each entry says whether it holds and the worst figure. */
function targets() {
  const verdicts = [];
  const measured = cells.filter((cell) => cell.summary[SUBJECT]?.runMs !== undefined);
  const add = (name, checks) => {
    if (checks.length === 0) return;
    const failing = checks.filter((check) => !check.ok);
    verdicts.push({ name, holds: failing.length === 0, failing, checked: checks.length });
  };
  const where = (cell) => `${cell.workload} ${count(cell.size)}`;

  const ratioChecks = (limit, keep) =>
    measured
      .filter((cell) => keep(cell.size) && cell.summary[SUBJECT].ratio !== undefined)
      .map((cell) => ({
        where: where(cell),
        value: `${cell.summary[SUBJECT].ratio.toFixed(2)}×, CPU ${cell.summary[SUBJECT].cpuRatio.toFixed(2)}×`,
        ok: cell.summary[SUBJECT].ratio <= limit,
      }));
  add(
    "within 1.5× of the lower bound at 100 k and 1 M jobs",
    ratioChecks(1.5, (size) => size >= 100_000),
  );
  add(
    "within 2× of the lower bound at 10 k jobs",
    ratioChecks(2, (size) => size >= 10_000 && size < 100_000),
  );

  const peerChecks = [];
  for (const cell of measured) {
    for (const peer of systems.filter((system) => system !== LOWER && system !== SUBJECT)) {
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

  const growthChecks = [];
  for (const cell of measured.filter((c) => c.size === 1_000_000)) {
    const before = measured.find((c) => c.workload === cell.workload && c.size === 100_000);
    if (before === undefined) continue;
    const growth = cell.summary[SUBJECT].runMs / before.summary[SUBJECT].runMs;
    // The lower bound's own growth in the same run says how much of it is
    // the machine's and the collector's rather than the engine's.
    const lowerGrowth = cell.summary[LOWER]?.runMs / before.summary[LOWER]?.runMs;
    const context = Number.isFinite(lowerGrowth) ? `; lower bound ${lowerGrowth.toFixed(1)}×` : "";
    growthChecks.push({
      where: cell.workload,
      value: `${growth.toFixed(1)}×${context}`,
      ok: growth <= 11,
    });
  }
  add("run time grows at most 11× from 100 k to 1 M jobs", growthChecks);

  add(
    "peak memory at most 2× the lower bound's",
    measured
      .filter((cell) => cell.summary[SUBJECT].memoryRatio !== undefined)
      .map((cell) => ({
        where: where(cell),
        value: `${cell.summary[SUBJECT].memoryRatio.toFixed(2)}×`,
        ok: cell.summary[SUBJECT].memoryRatio <= 2,
      })),
  );
  add(
    "under 1 KiB per job above the baseline at 1 M jobs",
    measured
      .filter((cell) => cell.size === 1_000_000)
      .map((cell) => ({
        where: where(cell),
        value: `${cell.summary[SUBJECT].bytesPerJob.toFixed(0)} B`,
        ok: cell.summary[SUBJECT].bytesPerJob < 1024,
      })),
  );
  add(
    "building the graph costs no more than running it",
    measured.map((cell) => {
      const lower = cell.summary[LOWER];
      const context =
        lower?.buildMs === undefined
          ? ""
          : `; lower bound ${ms(lower.buildMs)} vs ${ms(lower.runMs)}`;
      return {
        where: where(cell),
        value: `${ms(cell.summary[SUBJECT].buildMs)} vs ${ms(cell.summary[SUBJECT].runMs)}${context}`,
        ok: cell.summary[SUBJECT].buildMs <= cell.summary[SUBJECT].runMs,
      };
    }),
  );
  return verdicts;
}

const verdicts = targets();
const machineLine = `${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}`;
const verdictLines = verdicts.map((verdict) => {
  const detail = verdict.holds
    ? `all ${verdict.checked} cells`
    : `fails on ${verdict.failing.map((check) => `${check.where} (${check.value})`).join(", ")}`;
  return `- ${verdict.holds ? "✔" : "✘"} ${verdict.name}: ${detail}`;
});
const budgets = PEER_BUDGET_SECONDS.map(
  ([size]) => `${Math.round(peerBudgetMs(size) / 100) / 10} s at ${count(size)}`,
).join(", ");
const markdown = [
  `Machine: ${machineLine}; ${new Date().toISOString().slice(0, 10)}. Whole bench: ${Math.round(elapsed)} s.`,
  "",
  table(),
  "",
  `Each cell is the median of ${runs} runs${
    SHORT_CELL_RUNS !== runs
      ? ` (${SHORT_CELL_RUNS} below ${SHORT_CELL_BELOW.toLocaleString("en")} jobs)`
      : ""
  }, each in a fresh process, the systems taking turns. ` +
    "Run times are for running a graph already built; in parentheses, the ratio to the lower " +
    "bound's median in the same invocation. *CPU × LB* is the same ratio for the CPU time of the " +
    "run (the whole process's, collector threads included), which other work on the machine " +
    "disturbs less than wall time. *Build* is the time to create the jobs, declare " +
    "their requirements and add them to the scheduler; *bytes/job* is the peak RSS above the " +
    "RSS before building, per job. *timeout*: the peer's runs of that cell went beyond its time " +
    `budget (for all its runs together: ${budgets}), and larger sizes of that workload were not tried.`,
  "",
  "Targets, as measured in this run:",
  "",
  ...verdictLines,
  "",
].join("\n");

console.log(`\n${markdown}`);
const results = join(here, "results");
mkdirSync(results, { recursive: true });
const report = {
  date: new Date().toISOString(),
  machine,
  options: { sizes, workloads, systems, runs, quick, budgetScale },
  elapsedSeconds: elapsed,
  cells,
  targets: verdicts,
  errors,
};
writeFileSync(join(results, "latest.json"), `${JSON.stringify(report, null, 1)}\n`);
writeFileSync(join(results, "latest.md"), markdown);
if (fullMatrix) {
  // The whole matrix's figures are kept in the repository, next to the
  // README's table made from them.
  writeFileSync(join(results, "full.json"), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(join(results, "full.md"), markdown);
  writeFileSync(join(results, "README-section.md"), readmeSection(markdown));
}
if (errors.length > 0) {
  console.error(`${errors.length} run(s) failed their check; see bench/results/latest.json`);
  process.exitCode = 1;
}

/** The README's Performance section around the table of a full run. */
function readmeSection(table) {
  return `## Performance

The scheduler's own cost, measured against the simplest correct scheduler
(dependency counters, a ready queue, a window: \`bench/lower-bound.mjs\`) and
against two peers, [p-graph](https://www.npmjs.com/package/p-graph) and
[\`async.auto\`](https://caolan.github.io/async/v3/docs.html#auto). Every job
is a no-op that yields once, so what is timed is scheduling alone. Workloads,
each built from a fixed seed so that every system runs the same graph:
**flat** (independent jobs), **chain** (each job requires the previous one),
**layered** (layers of 100, each job requiring 3 random jobs of the layer
before), **windowed** (flat with \`jobsWindow: 64\`, each job awaiting one
macrotask), **fan-in** (N jobs and one requiring them all) and **nested**
(100 nested schedulers of N/100 jobs each). Each run checks its own outcome:
every job ran once, after its requirements, never above the window.

${table}
Run it with \`npm run bench\` (the whole matrix, six to eight minutes on this
machine) or \`npm run bench -- --quick\` (a half-minute subset); options
\`--sizes\`, \`--workloads\`, \`--systems\` and \`--runs\` narrow it down. Raw
figures go to \`bench/results/latest.json\` (those of the run above: \`full.json\`
there); what the profiles showed, and what the engine does about it, is in
\`bench/NOTES.md\`. The targets the bench checks are ambitious on purpose:
a run shows which ones hold on the machine at hand, and the cells near a
limit move from run to run on a shared two-core machine. One does not hold
here: building a million jobs costs more than running them. Since ready
jobs start in bursts, a run of jobs that end at once costs a fraction of
the lower bound's, while building the jobs costs more than building its
tasks: V8 allocates the lower bound's object literals straight into the
old generation, and never does so for instances of a class, which jobs
are (the notes give the figures).
`;
}
