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

export const SYSTEMS = {
  asyncjobs: {
    // Measured from the built package, so that no transform costs anything.
    // ASYNCJOBS_DIST points at another build, to compare two versions.
    async load() {
      const entry = process.env.ASYNCJOBS_DIST;
      return import(entry ? pathToFileURL(entry).href : "../dist/index.js");
    },
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
          const job = new Job(() => body(i));
          const first = start[i];
          const count = start[i + 1] - first;
          if (count === 1) job.requires(jobs[requires[first]]);
          else if (count > 1) {
            const required = new Array(count);
            for (let k = 0; k < count; k++) required[k] = jobs[requires[first + k]];
            job.requires(required);
          }
          scheduler.add(job);
          jobs[i] = job;
        }
        schedulers.push(scheduler);
      }
      if (graph.groups === 0) return schedulers[0];
      const outer = new PureScheduler();
      for (const scheduler of schedulers) outer.add(scheduler);
      return outer;
    },
    async run(scheduler) {
      if (!(await scheduler.run())) throw new Error(`the run failed: ${scheduler.why()}`);
    },
  },

  "lower-bound": {
    async load() {
      return import("./lower-bound.mjs");
    },
    build({ runGraph }, graph, body) {
      const { start, requires } = graph;
      const groups = ranges(graph).map(([from, to]) => {
        const tasks = new Array(to - from);
        for (let i = from; i < to; i++) {
          const first = start[i];
          const required = new Array(start[i + 1] - first);
          for (let k = 0; k < required.length; k++) required[k] = requires[first + k] - from;
          tasks[i - from] = { run: () => body(i), requires: required };
        }
        return tasks;
      });
      if (graph.groups === 0) return { runGraph, tasks: groups[0], window: graph.window };
      const tasks = groups.map((inner) => ({
        run: () => runGraph(inner, graph.window),
        requires: [],
      }));
      return { runGraph, tasks, window: 0 };
    },
    run({ runGraph, tasks, window }) {
      return runGraph(tasks, window);
    },
  },

  "p-graph": {
    async load() {
      return import("p-graph");
    },
    // Node ids are numbers from 1: p-graph treats a falsy id as "no task".
    build({ PGraph }, graph, body) {
      const { start, requires } = graph;
      const built = ranges(graph).map(([from, to]) => {
        const nodes = new Map();
        const dependencies = [];
        for (let i = from; i < to; i++) {
          nodes.set(i + 1, { run: () => body(i) });
          for (let e = start[i]; e < start[i + 1]; e++) dependencies.push([requires[e] + 1, i + 1]);
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
          if (count === 0) tasks[i] = run;
          else {
            const spec = new Array(count + 1);
            for (let k = 0; k < count; k++) spec[k] = String(requires[start[i] + k]);
            spec[count] = run;
            tasks[i] = spec;
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
