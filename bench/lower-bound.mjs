/**
 * The lower bound: the simplest correct scheduler, to measure the others
 * against. It takes what a user of any system builds: one object per job,
 * `{ id, label, run, requires }` (`id`: the task's position in the list,
 * `requires`: the task objects it requires). A run lays the graph out in
 * typed arrays (pending counts, successors as offsets into one array), then
 * runs it with dependency counters, a FIFO ready queue of indices and a
 * window; no validation, states, events, cancellation or timeout. Resolves
 * once every task is done, rejects with the first error.
 *
 * Two ways of starting ready tasks, and the bench takes, cell by cell, the
 * faster of the two as the bound:
 * - `runGraph` (naive): every ready task is started in one synchronous loop;
 * - `runGraphInBursts`: at most BURST starts, then the next ones one
 *   microtask later, from a budget shared by a run and the runs nested in it
 *   (as the engine does: bench/NOTES.md, "Every ready job started in one go").
 *   With a million ready jobs the naive loop keeps them all alive at once
 *   and drowns in its own garbage; on a chain or narrow layers the bursts'
 *   bookkeeping is pure cost.
 */

/** Starts per burst, as in the engine (src/engine/bursts.ts). */
const BURST = 1024;

/** Pending counts, successors (CSR) and the entry tasks of `tasks`. */
function layout(tasks) {
  const n = tasks.length;
  const pending = new Int32Array(n);
  const offsets = new Int32Array(n + 1);
  let edges = 0;
  for (let i = 0; i < n; i++) {
    const requires = tasks[i].requires;
    const count = requires.length;
    pending[i] = count;
    edges += count;
    for (let k = 0; k < count; k++) offsets[requires[k].id + 1]++;
  }
  for (let i = 0; i < n; i++) offsets[i + 1] += offsets[i];
  const fill = offsets.slice(0, n);
  const successors = new Int32Array(edges);
  const ready = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    const requires = tasks[i].requires;
    if (requires.length === 0) ready[tail++] = i;
    for (let k = 0; k < requires.length; k++) successors[fill[requires[k].id]++] = i;
  }
  return { pending, offsets, successors, ready, tail };
}

/** The budget of starts left in the current burst, shared by every run of the process. */
let budget = BURST;
let refillQueued = false;
/** Runs waiting for the next burst. */
let waiting = [];
function refill() {
  refillQueued = false;
  budget = BURST;
  const now = waiting;
  waiting = [];
  for (let k = 0; k < now.length; k++) now[k]();
}
function waitForBurst(pump) {
  waiting.push(pump);
  if (!refillQueued) {
    refillQueued = true;
    queueMicrotask(refill);
  }
}

function run(tasks, window, bursts) {
  const n = tasks.length;
  if (n === 0) return Promise.resolve();
  const limit = window > 0 ? window : Number.POSITIVE_INFINITY;
  const { pending, offsets, successors, ready, tail: entries } = layout(tasks);
  if (entries === 0) return Promise.reject(new Error("no task is free to start"));
  return new Promise((resolve, reject) => {
    let head = 0;
    let tail = entries;
    let running = 0;
    let done = 0;
    let parked = false;
    const pump = () => {
      parked = false;
      while (head < tail && running < limit) {
        if (bursts) {
          if (budget === 0) {
            if (!parked) {
              parked = true;
              waitForBurst(pump);
            }
            return;
          }
          budget--;
        }
        const i = ready[head++];
        running++;
        Promise.resolve(tasks[i].run()).then(() => finish(i), reject);
      }
    };
    const finish = (i) => {
      running--;
      done++;
      for (let e = offsets[i]; e < offsets[i + 1]; e++) {
        const j = successors[e];
        if (--pending[j] === 0) ready[tail++] = j;
      }
      if (done === n) resolve();
      else if (!parked) pump();
    };
    pump();
  });
}

/** Runs `tasks`, starting every ready task at once. */
export function runGraph(tasks, window = 0) {
  return run(tasks, window, false);
}

/** Runs `tasks`, starting ready tasks in bursts of {@link BURST}, one microtask apart. */
export function runGraphInBursts(tasks, window = 0) {
  return run(tasks, window, true);
}
