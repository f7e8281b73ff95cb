/**
 * One measured run, in a fresh process: `node bench/child.mjs <system> <workload> <size>`.
 * Builds the graph, runs it, checks the outcome, and prints one JSON line.
 * Run by bench.mjs with --expose-gc, so that the memory baseline is taken
 * after a full collection.
 */
import { performance } from "node:perf_hooks";
import { makeProbe } from "./probe.mjs";
import { SYSTEMS } from "./systems.mjs";
import { makeGraph } from "./workloads.mjs";

const [system, workload, sizeText] = process.argv.slice(2);
const size = Number(sizeText);
const adapter = SYSTEMS[system];
if (adapter === undefined || !(size > 0)) {
  console.error("usage: node bench/child.mjs <system> <workload> <size>");
  process.exit(2);
}

const graph = makeGraph(workload, size);
const { body, check } = makeProbe(graph);
const library = await adapter.load();
globalThis.gc?.();
const baselineRss = process.memoryUsage.rss();

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const handle = adapter.build(library, graph, body);
const t1 = performance.now();
const cpu1 = process.cpuUsage();
// --settle (bench.mjs): the objects the build made are promoted by a full
// collection, timed as neither build nor run, instead of by the run's first
// scavenges.
if (process.env.BENCH_SETTLE === "1") globalThis.gc?.();
const runStart = performance.now();
const runCpuStart = process.cpuUsage();
await adapter.run(handle);
const t2 = performance.now();
const cpu2 = process.cpuUsage();
/** CPU time of the whole process (helper threads included), which contention inflates less than wall time. */
const cpuMs = (from, to) => (to.user + to.system - from.user - from.system) / 1000;

const peakRss = process.resourceUsage().maxRSS * 1024;
const { maxRunning } = check();
process.stdout.write(
  `${JSON.stringify({
    system,
    workload,
    size,
    jobs: graph.count,
    buildMs: t1 - t0,
    runMs: t2 - runStart,
    buildCpuMs: cpuMs(cpu0, cpu1),
    runCpuMs: cpuMs(runCpuStart, cpu2),
    baselineRss,
    peakRss,
    maxRunning,
  })}\n`,
);
