/**
 * docs/performance.md, made by a full `npm run bench` from the tables of its
 * run (bench/results/full.md); test/docs-performance.test.ts checks that the
 * page is what this makes from the figures kept in the repository.
 */

/** docs/performance.md around the tables of a full run. */
export function performanceDoc(tables) {
  return `# Performance

<!-- Written by \`npm run bench\` (the whole matrix) from bench/results/full.md; edit bench/bench.mjs, not this file. -->

The scheduler's own cost, measured against the simplest correct scheduler
(\`bench/lower-bound.mjs\`) and against two peers,
[p-graph](https://www.npmjs.com/package/p-graph) and
[\`async.auto\`](https://caolan.github.io/async/v3/docs.html#auto). Every job
is a no-op that yields once, so what is timed is scheduling alone.

**The bound.** Every system builds what a user builds: one job per node
with its function, a label (\`j\${i}\`) and its list of requirements. The
bound's tasks are object literals \`{ id, label, run, requires }\`; its run
lays them out in typed arrays (pending counts, successors as offsets into
one array) and runs them with dependency counters, a ready queue of indices
and a window, with no validation, states, events, cancellation or timeout.
It comes in two flavours and each cell takes the faster: one starts ready
tasks in bursts of 1 024, one microtask apart, from a budget shared by the
run and the runs nested in it, as the engine does (at a million ready jobs,
starting them all in one loop keeps them all alive at once, and the
collector copies them over and over); the other starts them all at once,
which is cheaper on chains and narrow layers, where few jobs are ready at a
time.

**Workloads**, each built from a fixed seed so that every system runs the
same graph: **flat** (independent jobs), **chain** (each job requires the
previous one), **layered** (layers of 100, each job requiring 3 random jobs
of the layer before), **windowed** (flat with \`jobsWindow: 64\`, each job
awaiting one macrotask), **fan-in** (N jobs and one requiring them all) and
**nested** (100 nested schedulers of N/100 jobs each). Each run checks its
own outcome: every job ran once, after its requirements, never above the
window.

${tables}
Run it with \`npm run bench\` (the whole matrix, seven to ten minutes on this
machine) or \`npm run bench -- --quick\` (a subset in a minute or two);
options \`--sizes\`, \`--workloads\`, \`--systems\` and \`--runs\` narrow it
down, and \`node bench/startup.mjs\` measures the start-up figures alone.
Raw figures go to \`bench/results/latest.json\` (those of the run above:
\`full.json\` there); what the profiles showed, and what the engine does
about it, is in \`bench/NOTES.md\`. The machine is two cores shared with
other work: wall times move from run to run, and the CPU ratios, taken in
the same invocation, move less.

**Building.** A job is an instance of a class (\`new Job(...)\`, \`class ...
extends AbstractJob\` are the contract), and V8 never allocates class
instances straight into the old generation, as it does for object literals
it has seen survive: every scavenge during a build copies the jobs made
since the last one. The bound's tasks are such literals. Adding a whole
array of jobs at once (\`scheduler.update(jobs)\`, as the bench does) costs
no more per job than adding them one by one, without a per-call check.

**Pictures.** Graphviz and resvg are WebAssembly, compiled by V8 on first
use. Left alone, V8 recompiles their hot functions with its optimising
compiler in background threads, which cost several times the CPU of a
first picture; the renderers keep their code baseline-compiled instead
(\`src/presentation/wasm-tiering.ts\`), and the PNG is encoded with the
runtime's native deflate rather than resvg's encoder.
`;
}
