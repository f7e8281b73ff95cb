/**
 * The lower bound: the simplest correct scheduler, to measure the others
 * against. Each task is `{ run, requires }` (`requires`: indices of tasks).
 * Dependency counters, a FIFO ready queue, a window; no validation, states,
 * events, cancellation or timeout. Resolves once every task is done, rejects
 * with the first error.
 */
export function runGraph(tasks, window = 0) {
  const n = tasks.length;
  const limit = window > 0 ? window : Number.POSITIVE_INFINITY;
  const pending = new Int32Array(n);
  const successors = new Array(n);
  const ready = [];
  for (let i = 0; i < n; i++) {
    const requires = tasks[i].requires;
    pending[i] = requires.length;
    if (requires.length === 0) ready.push(i);
    for (const r of requires) {
      if (successors[r] === undefined) successors[r] = [i];
      else successors[r].push(i);
    }
  }
  if (n > 0 && ready.length === 0) return Promise.reject(new Error("no task is free to start"));
  return new Promise((resolve, reject) => {
    let head = 0;
    let running = 0;
    let done = 0;
    const pump = () => {
      while (head < ready.length && running < limit) {
        const i = ready[head++];
        running++;
        Promise.resolve(tasks[i].run()).then(() => finish(i), reject);
      }
    };
    const finish = (i) => {
      running--;
      done++;
      const next = successors[i];
      if (next !== undefined) for (const j of next) if (--pending[j] === 0) ready.push(j);
      if (done === n) resolve();
      else pump();
    };
    if (n === 0) resolve();
    else pump();
  });
}
