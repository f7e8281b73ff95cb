/**
 * What watching a run in the browser costs: the same 10 000-job run, with
 * and without the live view open, alternating, each run in a fresh process
 * (so that one run's garbage or JIT state does not tilt the next). With the
 * view, the run is traced, every job is followed, the graph's first group
 * is laid out, and a client reads the event stream from the start of the
 * run to its end, as an open page does.
 *
 * The jobs do what small real jobs do: each waits 20 ms (a timer, as I/O
 * would), in 20 nested groups of 500 that run side by side, 10 at a time in
 * each (200 at once in all), in layers of 50 where each job needs one of
 * the layer before. The run takes about a second; the view's cost is mostly
 * per job (the core's events that the trace follows, about 5-10 µs a job on
 * a small machine) plus a scan of the jobs per batch, so runs of jobs that
 * take no time at all pay more, in proportion. Prints the median of each
 * and the overhead; fails (exit 1) above the 10% target.
 *
 *   npm run bench:ui                 (builds first)
 *   node bench/ui-overhead.mjs --runs 7 --jobs 10000
 */
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    jobs: { type: "string", default: "10000" },
    child: { type: "string" },
    ms: { type: "string", default: "20" },
    window: { type: "string", default: "10" },
  },
});
const jobs = Number(flags.jobs);
const runs = Number(flags.runs);
const jobMs = Number(flags.ms);
const window = Number(flags.window);

/** The page's part: what it fetches, then the stream; prints "ready", then the bytes read. */
const CLIENT = `
const url = process.argv[1];
const base = url.replace(/\\/\\?token=.*$/, "");
const token = url.replace(/^.*token=/, "");
await (await fetch(base + "/state?token=" + token)).arrayBuffer();
await (await fetch(base + "/graph?token=" + token)).arrayBuffer();
const response = await fetch(base + "/events?token=" + token);
process.stdout.write("ready\\n");
let bytes = 0;
const reader = response.body.getReader();
try {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    JSON.stringify(value.length);
  }
} catch {}
process.stdout.write(bytes + "\\n");
`;

async function child(mode) {
  const { Job, Scheduler } = await import("asyncjobs");
  const groups = 20;
  const perGroup = Math.floor(jobs / groups);
  const top = new Scheduler({ label: "bench" });
  const wait = () => new Promise((resolve) => setTimeout(resolve, jobMs));
  for (let g = 0; g < groups; g++) {
    const group = new Scheduler({ label: `group ${g}`, jobsWindow: window });
    const layer = [];
    for (let i = 0; i < perGroup; i++) {
      // Layers of 50: each job of a layer needs one job of the layer before.
      const job = new Job(wait, { label: `job ${g}.${i}` });
      if (i >= 50) job.requires(layer[i - 50]);
      layer.push(job);
      group.add(job);
    }
    top.add(group);
  }
  let view;
  let reading;
  if (mode === "view") {
    const { serve } = await import("@asyncjobs/ui");
    view = await serve(top);
    // The page is another process, as a browser is: it loads the snapshot
    // and the graph, then reads the event stream until the server closes.
    const client = spawn(process.execPath, ["--input-type=module", "-e", CLIENT, view.url], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let said = "";
    client.stdout.on("data", (chunk) => {
      said += chunk;
    });
    const ready = new Promise((resolve) => {
      client.stdout.once("data", resolve);
    });
    reading = new Promise((resolve) =>
      client.on("exit", () => resolve(Number(said.split("\n")[1]))),
    );
    await ready;
  }
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const ok = await top.run();
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpuStart);
  const cpu = (used.user + used.system) / 1000;
  if (!ok) throw new Error("the bench run failed");
  let streamed = 0;
  if (view !== undefined) {
    await view.close();
    streamed = await reading;
  }
  process.stdout.write(JSON.stringify({ elapsed, cpu, streamed }));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

if (flags.child !== undefined) {
  await child(flags.child);
} else {
  const script = fileURLToPath(import.meta.url);
  const times = { bare: [], view: [] };
  const cpu = { bare: [], view: [] };
  let streamed = 0;
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? ["bare", "view"] : ["view", "bare"];
    for (const mode of order) {
      const result = spawnSync(
        process.execPath,
        [
          script,
          "--child",
          mode,
          "--jobs",
          String(jobs),
          "--ms",
          String(jobMs),
          "--window",
          String(window),
        ],
        { encoding: "utf8" },
      );
      if (result.status !== 0) {
        process.stderr.write(result.stderr);
        process.exit(1);
      }
      const figures = JSON.parse(result.stdout);
      times[mode].push(figures.elapsed);
      cpu[mode].push(figures.cpu);
      if (mode === "view") streamed = Math.max(streamed, figures.streamed);
    }
  }
  const bare = median(times.bare);
  const view = median(times.view);
  const overhead = (view / bare - 1) * 100;
  const list = (values) => values.map((value) => value.toFixed(0)).join(", ");
  console.log(`${jobs} jobs of ${jobMs} ms, ${runs} runs each (median):`);
  console.log(`  without the view  ${bare.toFixed(0)} ms   [${list(times.bare)}]`);
  console.log(`  with the view     ${view.toFixed(0)} ms   [${list(times.view)}]`);
  console.log(
    `  overhead          ${overhead.toFixed(1)}% of the run's time (target: at most 10%)`,
  );
  console.log(
    `  CPU of the run    ${median(cpu.bare).toFixed(0)} ms without, ${median(cpu.view).toFixed(0)} ms with the view; ${(streamed / 1024).toFixed(0)} kB streamed`,
  );
  if (overhead > 10) process.exit(1);
}
