/**
 * How many jobs the engine starts in one go before letting the jobs it has
 * started take their next step.
 *
 * Without a window, a run used to start every ready job in one synchronous
 * loop. With a million jobs that means a million job states, promises and
 * queued continuations alive at once, and the garbage collector copying
 * them over and over: at a million jobs, most of the run. Instead, the runs
 * of this realm share a budget of {@link LAUNCHES_PER_TURN} starts; once it
 * is spent, a run stops starting jobs and resumes one microtask later, after
 * the continuations already queued. Jobs that finish at once (a few
 * microtasks of work) are then done and collected before the next burst
 * starts, and memory stays bounded by the burst rather than the graph.
 *
 * Nothing waits for a timer or for I/O: every ready job still starts in the
 * same macrotask as before, so jobs that wait on anything real all run at
 * once, as "no limit" says. Only the order between starts and the first
 * steps of already started jobs changes, beyond the first burst.
 */

/** What yields: a run that resumes starting jobs when asked. */
export interface Resumable {
  resume(): void;
}

/** Starts per burst: large enough that a burst's cost dwarfs the microtask between two. */
export const LAUNCHES_PER_TURN = 1024;

/**
 * The starts left in this burst, decremented by the engine itself (a call
 * per start costs before the optimiser inlines it).
 */
export const budget = { left: LAUNCHES_PER_TURN };
let waiting: Resumable[] = [];

function nextBurst(): void {
  budget.left = LAUNCHES_PER_TURN;
  const runs = waiting;
  waiting = [];
  for (let k = 0; k < runs.length; k++) runs[k]!.resume();
}

/**
 * For a run that found the budget spent: calls `run.resume()` a microtask
 * later, once the jobs already started have had their turn, with a whole
 * budget again. The run must start nothing more until then.
 */
export function waitForNextBurst(run: Resumable): void {
  if (waiting.push(run) === 1) queueMicrotask(nextBurst);
}

/**
 * Gives a top-level run the whole budget for its first burst, whatever
 * earlier runs left of it: how a run starts does not depend on what ran
 * before it.
 */
export function freshBudget(): void {
  if (waiting.length === 0) budget.left = LAUNCHES_PER_TURN;
}
