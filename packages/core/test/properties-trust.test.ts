/**
 * Random graphs with hostile user code: jobs that throw synchronously or
 * reject, retryOn callbacks that throw, event listeners that throw, and
 * meddling during the run (forever toggled, standaloneRun(), shutdown(), a
 * bad label). Whatever happens, the run settles, nothing is left unhandled,
 * each job is shut down once, a job whose retryOn threw fails with that
 * error, and a listener's error is what run() rejects with.
 *
 * Cases: ASYNCJOBS_PROPERTY_RUNS (default 200; `npm run test:stress` runs
 * 10 000). Seed: ASYNCJOBS_PROPERTY_SEED.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AbstractJob, Job, PureScheduler, Scheduler } from "asyncjobs";
import fc from "fast-check";
import { propertyParameters } from "./support/property-config.js";

type Outcome = "resolve" | "reject" | "throwSync";
type RetryOn = "none" | "true" | "false" | "throws";
type Meddle = "none" | "forever" | "standalone" | "shutdown" | "label";

interface NodeSpec {
  outcome: Outcome;
  /** Whether the first attempt fails whatever `outcome` says (so that retries happen). */
  failsFirst: boolean;
  retries: number;
  retryOn: RetryOn;
  critical: boolean;
  forever: boolean;
  shutdown: boolean;
  requires: number[];
  /** 0: in the top scheduler; 1: in the nested one. */
  nest: 0 | 1;
  meddle: Meddle;
}

interface CaseSpec {
  nodes: NodeSpec[];
  listenerThrowsOn: "none" | "job:started" | "job:done" | "job:failed" | "scheduler:ended";
  nestedCritical: boolean;
}

const nodeArbitrary: fc.Arbitrary<Omit<NodeSpec, "requires">> = fc.record({
  outcome: fc.constantFrom<Outcome>("resolve", "resolve", "reject", "throwSync"),
  failsFirst: fc.boolean(),
  retries: fc.integer({ min: 0, max: 2 }),
  retryOn: fc.constantFrom<RetryOn>("none", "true", "false", "throws", "throws"),
  critical: fc.boolean(),
  forever: fc.constantFrom(false, false, false, true),
  shutdown: fc.boolean(),
  nest: fc.constantFrom<0 | 1>(0, 0, 1),
  meddle: fc.constantFrom<Meddle>("none", "none", "forever", "standalone", "shutdown", "label"),
});

const caseArbitrary: fc.Arbitrary<CaseSpec> = fc
  .array(nodeArbitrary, { minLength: 1, maxLength: 10 })
  .chain((nodes) =>
    fc.record({
      nodes: fc.tuple(
        ...nodes.map((node, index) =>
          fc
            .uniqueArray(fc.nat(Math.max(0, index - 1)), { maxLength: index === 0 ? 0 : 3 })
            .map((requires): NodeSpec => ({ ...node, requires })),
        ),
      ),
      listenerThrowsOn: fc.constantFrom(
        "none",
        "none",
        "none",
        "job:started",
        "job:done",
        "job:failed",
        "scheduler:ended",
      ) as fc.Arbitrary<CaseSpec["listenerThrowsOn"]>,
      nestedCritical: fc.boolean(),
    }),
  );

/** A run that has not settled after this long is hung (every job settles within microtasks). */
const HANG_MS = 5000;

async function runCase(spec: CaseSpec): Promise<void> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on("unhandledRejection", onUnhandled);
  try {
    await checkCase(spec);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, [], "unhandled rejections");
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
}

async function checkCase(spec: CaseSpec): Promise<void> {
  const shutdowns: number[] = spec.nodes.map(() => 0);
  const retryOnErrors = new Map<number, Error>();
  const meddlings: Promise<unknown>[] = [];
  const meddlingProblems: string[] = [];
  const jobs: Job[] = [];
  let top: PureScheduler | undefined;
  const meddle = (index: number): void => {
    const node = spec.nodes[index]!;
    const job = jobs[index]!;
    const expectRefusal = (what: string, act: () => unknown, names: RegExp): void => {
      try {
        const result = act();
        if (result instanceof Promise) {
          meddlings.push(
            result.then(
              () => meddlingProblems.push(`${what} was accepted`),
              (error: unknown) => {
                if (!(error instanceof Error) || !names.test(error.message)) {
                  meddlingProblems.push(`${what}: ${String(error)}`);
                }
              },
            ),
          );
        } else if (what !== "forever") {
          meddlingProblems.push(`${what} was accepted`);
        }
      } catch (error) {
        if (!(error instanceof Error) || !names.test(error.message)) {
          meddlingProblems.push(`${what}: ${String(error)}`);
        }
      }
    };
    switch (node.meddle) {
      case "forever":
        // Takes effect at the next run: the run under way must not hang.
        expectRefusal(
          "forever",
          () => {
            job.forever = !job.forever;
          },
          /./,
        );
        break;
      case "standalone":
        expectRefusal("standaloneRun()", () => job.standaloneRun(), new RegExp(`"j${index}"`));
        break;
      case "shutdown":
        expectRefusal("shutdown()", () => top!.shutdown(), /shutdown\(\)/);
        break;
      case "label":
        expectRefusal(
          "label = Symbol()",
          () => {
            (job as unknown as { label: unknown }).label = Symbol("bad");
          },
          /"label"/,
        );
        break;
    }
  };
  spec.nodes.forEach((node, index) => {
    let attempt = 0;
    const fail = (): never => {
      throw new Error(`j${index} failed`);
    };
    const job = new Job(
      () => {
        attempt++;
        if (attempt === 1 && node.meddle !== "none") meddle(index);
        const failing = node.outcome !== "resolve" || (node.failsFirst && attempt === 1);
        if (!failing) return Promise.resolve(index);
        if (node.outcome === "throwSync") fail();
        return Promise.reject(new Error(`j${index} rejected`));
      },
      {
        label: `j${index}`,
        critical: node.critical,
        forever: node.forever,
        ...(node.shutdown
          ? {
              shutdown: () => {
                shutdowns[index]!++;
              },
            }
          : {}),
        ...(node.retries > 0
          ? {
              retry: {
                retries: node.retries,
                ...(node.retryOn === "none"
                  ? {}
                  : {
                      retryOn: () => {
                        if (node.retryOn === "throws") {
                          const error = new Error(`retryOn of j${index}`);
                          retryOnErrors.set(index, error);
                          throw error;
                        }
                        return node.retryOn === "true";
                      },
                    }),
              },
            }
          : {}),
      },
    );
    jobs.push(job);
  });
  const inTop = jobs.filter((_, index) => spec.nodes[index]!.nest === 0);
  const inNested = jobs.filter((_, index) => spec.nodes[index]!.nest === 1);
  const nested =
    inNested.length > 0
      ? new Scheduler(...inNested, { label: "nested", critical: spec.nestedCritical })
      : undefined;
  top = new PureScheduler(...inTop, ...(nested ? [nested] : []));
  // Requirements within one scheduler only (across, the run would refuse to start).
  spec.nodes.forEach((node, index) => {
    for (const required of node.requires) {
      if (spec.nodes[required]!.nest === node.nest) jobs[index]!.requires(jobs[required]!);
    }
  });
  let listenerError: Error | undefined;
  if (spec.listenerThrowsOn !== "none") {
    const type = spec.listenerThrowsOn;
    top.events.addEventListener(type, () => {
      if (listenerError === undefined) listenerError = new Error(`listener of ${type}`);
      throw listenerError;
    });
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<"hang">((resolve) => {
    timer = setTimeout(resolve, HANG_MS, "hang");
  });
  let outcome: unknown;
  let rejected = false;
  try {
    outcome = await Promise.race([top.run(), hang]);
  } catch (error) {
    rejected = true;
    outcome = error;
  } finally {
    clearTimeout(timer);
  }
  assert.notEqual(outcome, "hang", "run() did not settle");
  await Promise.all(meddlings);
  assert.deepEqual(meddlingProblems, []);
  if (listenerError !== undefined) {
    assert.ok(rejected, "a listener threw: run() rejects");
    assert.equal(outcome, listenerError);
  } else {
    assert.ok(!rejected, `run() rejected: ${String(outcome)}`);
    assert.equal(typeof outcome, "boolean");
  }
  // One shutdown per job that has one, whatever happened.
  spec.nodes.forEach((node, index) => {
    assert.equal(shutdowns[index], node.shutdown ? 1 : 0, `shutdowns of j${index}`);
  });
  // A job whose retryOn threw, if it got to the end of that attempt, failed with that error.
  for (const [index, error] of retryOnErrors) {
    const job: AbstractJob = jobs[index]!;
    if (job.isDone()) assert.equal(job.raisedException(), error, `j${index}`);
  }
  // The run is over: the scheduler takes another one.
  assert.equal(top._busy, false);
}

describe("random graphs with hostile user code", () => {
  it("every run settles once, with one shutdown per job, and callbacks' errors where they belong", async () => {
    await fc.assert(fc.asyncProperty(caseArbitrary, runCase), propertyParameters());
  });
});
