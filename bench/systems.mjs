/**
 * How each system builds a bench graph and runs it, written the way a user
 * of that system would. `build` turns the graph into the system's own
 * structures (jobs, tasks, nodes), each job calling `body(i)`; `run` runs
 * them and settles when every job is done.
 */
import { pathToFileURL } from "node:url";
import { groupRange } from "./workloads.mjs";

/** The range of jobs of each scheduler to build: the nested ones, or all jobs at once. */
function ranges(graph) {
  if (graph.groups === 0) return [[0, graph.count]];
  return Array.from({ length: graph.groups }, (_, group) => groupRange(graph, group));
}

/**
 * The lower bound's build is what a user of any system builds: one object
 * per job with its id, a label, its function and the list of the objects it
 * requires; nested groups become tasks that run their own graph.
 */
function lowerBound(entry) {
  return {
    async load() {
      return import("./lower-bound.mjs");
    },
    build(library, graph, body) {
      const runGraph = library[entry];
      const { start, requires } = graph;
      const all = new Array(graph.count);
      const groups = ranges(graph).map(([from, to]) => {
        const tasks = new Array(to - from);
        for (let i = from; i < to; i++) {
          const first = start[i];
          const required = new Array(start[i + 1] - first);
          for (let k = 0; k < required.length; k++) required[k] = all[requires[first + k]];
          const task = { id: i - from, label: `j${i}`, run: () => body(i), requires: required };
          all[i] = task;
          tasks[i - from] = task;
        }
        return tasks;
      });
      if (graph.groups === 0) return { runGraph, tasks: groups[0], window: graph.window };
      const tasks = groups.map((inner, k) => ({
        id: k,
        label: `group${k}`,
        run: () => runGraph(inner, graph.window),
        requires: [],
      }));
      return { runGraph, tasks, window: 0 };
    },
    run({ runGraph, tasks, window }) {
      return runGraph(tasks, window);
    },
  };
}

export const SYSTEMS = {
  asyncjobs: {
    // Measured from the built package, so that no transform costs anything.
    // ASYNCJOBS_DIST points at another build, to compare two versions.
    async load() {
      const entry = process.env.ASYNCJOBS_DIST;
      return import(entry ? pathToFileURL(entry).href : "../packages/core/dist/index.js");
    },
    // Each job made with its options (a label, its requirements), the
    // scheduler's jobs added in one update() per scheduler.
    build({ Job, PureScheduler, Scheduler }, graph, body) {
      const { start, requires } = graph;
      const jobs = new Array(graph.count);
      const schedulers = [];
      for (const [from, to] of ranges(graph)) {
        const scheduler =
          graph.groups === 0
            ? new PureScheduler({ jobsWindow: graph.window })
            : new Scheduler({ jobsWindow: graph.window });
        for (let i = from; i < to; i++) {
          const first = start[i];
          const count = start[i + 1] - first;
          let job;
          if (count === 0) job = new Job(() => body(i), { label: `j${i}` });
          else if (count === 1) {
            job = new Job(() => body(i), { label: `j${i}`, required: jobs[requires[first]] });
          } else {
            const required = new Array(count);
            for (let k = 0; k < count; k++) required[k] = jobs[requires[first + k]];
            job = new Job(() => body(i), { label: `j${i}`, required });
          }
          jobs[i] = job;
        }
        scheduler.update(from === 0 && to === graph.count ? jobs : jobs.slice(from, to));
        schedulers.push(scheduler);
      }
      if (graph.groups === 0) return schedulers[0];
      const outer = new PureScheduler();
      outer.update(schedulers);
      return outer;
    },
    async run(scheduler) {
      if (!(await scheduler.run())) throw new Error(`the run failed: ${scheduler.why()}`);
    },
  },

  // The lower bound, in two flavours (bench/lower-bound.mjs): the bench
  // takes the faster of the two, cell by cell.
  "lower-bound": lowerBound("runGraphInBursts"),
  "lower-bound-naive": lowerBound("runGraph"),

  "p-graph": {
    async load() {
      return import("p-graph");
    },
    // Node ids are the jobs' labels.
    build({ PGraph }, graph, body) {
      const { start, requires } = graph;
      const built = ranges(graph).map(([from, to]) => {
        const nodes = new Map();
        const dependencies = [];
        for (let i = from; i < to; i++) {
          const label = `j${i}`;
          nodes.set(label, { run: () => body(i) });
          for (let e = start[i]; e < start[i + 1]; e++)
            dependencies.push([`j${requires[e]}`, label]);
        }
        return new PGraph(nodes, dependencies);
      });
      const concurrency = graph.window > 0 ? graph.window : undefined;
      if (graph.groups === 0) return { graph: built[0], concurrency };
      const outer = new Map(built.map((inner, k) => [k + 1, { run: () => inner.run({}) }]));
      return { graph: new PGraph(outer, []), concurrency: undefined };
    },
    run({ graph, concurrency }) {
      return graph.run({ concurrency });
    },
  },

  "async.auto": {
    async load() {
      return import("async");
    },
    // Task functions are async functions, which async.auto calls with the
    // results so far and settles from their promise.
    build(async, graph, body) {
      const { start, requires } = graph;
      const built = ranges(graph).map(([from, to]) => {
        const tasks = {};
        for (let i = from; i < to; i++) {
          const run = async () => body(i);
          const count = start[i + 1] - start[i];
          // Task names are the jobs' labels.
          if (count === 0) tasks[`j${i}`] = run;
          else {
            const spec = new Array(count + 1);
            for (let k = 0; k < count; k++) spec[k] = `j${requires[start[i] + k]}`;
            spec[count] = run;
            tasks[`j${i}`] = spec;
          }
        }
        return tasks;
      });
      const auto = async.default?.auto ?? async.auto;
      const window = graph.window > 0 ? graph.window : undefined;
      if (graph.groups === 0) return { auto, tasks: built[0], window };
      const outer = {};
      built.forEach((inner, k) => {
        outer[k] = async () => auto(inner);
      });
      return { auto, tasks: outer, window: undefined };
    },
    run({ auto, tasks, window }) {
      return window === undefined ? auto(tasks) : auto(tasks, window);
    },
  },
};

export const SYSTEM_NAMES = Object.keys(SYSTEMS);
