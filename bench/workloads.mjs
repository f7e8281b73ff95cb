/**
 * The bench workloads: graphs generated from a fixed seed, so that every
 * system runs the very same graph. A graph is held in compressed form, the
 * requirements of job i being `requires[start[i] .. start[i + 1])`, which
 * costs the harness little memory next to what the systems build from it.
 */

export const WORKLOADS = ["flat", "chain", "layered", "windowed", "fan-in", "nested"];

/** Width of a layer in the layered workload, and how many jobs of the layer before each job requires. */
const LAYER_WIDTH = 100;
const LAYER_FAN = 3;
/** Window of the windowed workload. */
export const WINDOW = 64;
/** How many nested schedulers the nested workload holds. */
export const NESTED_GROUPS = 100;

/** A small, fast, seeded generator (mulberry32): the same graph in every process. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The graph of `workload` at size `n`:
 * - `count` jobs, `start`/`requires` their requirements (indices),
 * - `window` (0: none), `macrotask` (each job awaits one macrotask),
 * - `groups` (0, or how many nested schedulers split the jobs in equal
 *   contiguous ranges; requirements then stay inside a range).
 */
export function makeGraph(workload, n) {
  let count = n;
  let edges = 0;
  if (workload === "chain") edges = n - 1;
  else if (workload === "layered") edges = Math.max(0, n - LAYER_WIDTH) * LAYER_FAN;
  else if (workload === "fan-in") {
    count = n + 1;
    edges = n;
  } else if (!["flat", "windowed", "nested"].includes(workload)) {
    throw new Error(`unknown workload ${workload}`);
  }
  const start = new Int32Array(count + 1);
  const requires = new Int32Array(edges);
  let e = 0;
  const next = random(0x5eed + n);
  for (let i = 0; i < count; i++) {
    start[i] = e;
    if (workload === "chain" && i > 0) requires[e++] = i - 1;
    else if (workload === "layered" && i >= LAYER_WIDTH) {
      // Three distinct jobs of the previous layer.
      const base = (Math.floor(i / LAYER_WIDTH) - 1) * LAYER_WIDTH;
      const first = e;
      while (e - first < LAYER_FAN) {
        const pick = base + Math.floor(next() * LAYER_WIDTH);
        let seen = false;
        for (let k = first; k < e; k++) if (requires[k] === pick) seen = true;
        if (!seen) requires[e++] = pick;
      }
    } else if (workload === "fan-in" && i === n) {
      for (let k = 0; k < n; k++) requires[e++] = k;
    }
  }
  start[count] = e;
  return {
    workload,
    count,
    start,
    requires,
    window: workload === "windowed" ? WINDOW : 0,
    macrotask: workload === "windowed",
    groups: workload === "nested" ? NESTED_GROUPS : 0,
  };
}

/** The range of jobs of nested scheduler `group`. */
export function groupRange(graph, group) {
  const size = Math.ceil(graph.count / graph.groups);
  return [group * size, Math.min(graph.count, (group + 1) * size)];
}
