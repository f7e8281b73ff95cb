/**
 * The job every system runs, and the check of a run: each job records when
 * it started and finished on a shared clock, and how many jobs ran at once.
 * Recording is a few typed-array writes, the same for every system; the
 * check happens after the timed part.
 */
export function makeProbe(graph) {
  const started = new Int32Array(graph.count);
  const finished = new Int32Array(graph.count);
  let clock = 0;
  let running = 0;
  let maxRunning = 0;
  let repeats = 0;

  const enter = (i) => {
    if (started[i] !== 0) repeats++;
    started[i] = ++clock;
    if (++running > maxRunning) maxRunning = running;
  };
  const leave = (i) => {
    running--;
    finished[i] = ++clock;
  };
  const macrotask = () => new Promise((resolve) => setImmediate(resolve));

  /** A no-op that yields once (one macrotask in the windowed workload). */
  const body = graph.macrotask
    ? async (i) => {
        enter(i);
        await macrotask();
        leave(i);
      }
    : async (i) => {
        enter(i);
        await null;
        leave(i);
      };

  /** Throws unless every job ran once, after its requirements, never above the window. */
  const check = () => {
    if (repeats > 0) throw new Error(`${repeats} job(s) ran more than once`);
    for (let i = 0; i < graph.count; i++) {
      if (started[i] === 0 || finished[i] === 0) throw new Error(`job ${i} did not run to its end`);
      for (let e = graph.start[i]; e < graph.start[i + 1]; e++) {
        const required = graph.requires[e];
        if (finished[required] > started[i]) {
          throw new Error(`job ${i} started before its requirement ${required} was done`);
        }
      }
    }
    if (graph.window > 0 && maxRunning > graph.window) {
      throw new Error(`${maxRunning} jobs ran at once, above the window of ${graph.window}`);
    }
    return { maxRunning };
  };

  return { body, check };
}
