/**
 * The paths big graphs are built through: a job's `required` and `label`
 * options taken as they are, and `update()` with an array of jobs. They
 * must keep the contract of the general paths: the same requirements, the
 * same errors naming what is at fault, all or nothing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Job, PureScheduler, Sequence } from "asyncjobs";

const noop = () => undefined;

describe("a job's options", () => {
  it("store a required job, an array of jobs, and anything else, as requires() does", () => {
    const a = new Job(noop, { label: "a" });
    const b = new Job(noop, { label: "b" });
    const c = new Job(noop, { label: "c" });
    const one = new Job(noop, { label: "one", required: a });
    const many = new Job(noop, { label: "many", required: [a, b, c] });
    const repeated = new Job(noop, { label: "repeated", required: [a, a, b] });
    const nested = new Job(noop, { label: "nested", required: [[a], new Set([b]), null] });
    const sequence = new Sequence(new Job(noop), c);
    const last = new Job(noop, { label: "last", required: sequence });
    assert.deepEqual([...one.required], [a]);
    assert.deepEqual([...many.required], [a, b, c]);
    assert.deepEqual([...repeated.required], [a, b]);
    assert.deepEqual([...nested.required], [a, b]);
    assert.deepEqual([...last.required], [c]);
  });

  it("take many requirements at once (a fan-in), each once, never the job itself", () => {
    const many = Array.from({ length: 20 }, (_, i) => new Job(noop, { label: `m${i}` }));
    const fanIn = new Job(noop, { label: "fan-in", required: [...many, ...many] });
    assert.deepEqual([...fanIn.required], many);
    const self = new Job(noop);
    self.requires([...many, self]);
    assert.deepEqual([...self.required], many);
    self.requires(many.slice(0, 10));
    assert.equal(self.required.size, 20);
  });

  it("do not keep the array given: changing it afterwards changes nothing", () => {
    const a = new Job(noop);
    const b = new Job(noop);
    const required = [a];
    const job = new Job(noop, { required });
    required.push(b);
    assert.deepEqual([...job.required], [a]);
  });

  it("still name the constructor and the option at fault", () => {
    assert.throws(
      () => new Job(noop, { label: 3 as unknown as string }),
      /Job\(\): option "label" must be a string/,
    );
    assert.throws(
      () => new Job(noop, { critical: "yes" as unknown as boolean }),
      /Job\(\): option "critical" must be a boolean/,
    );
    assert.throws(
      () => new Job(noop, { weight: 0 }),
      /Job\(\): option "weight" must be an integer >= 1/,
    );
    assert.throws(
      () => new Job(noop, { required: [{ not: "a job" }] as never }),
      /requires\(\): expected a job/,
    );
    assert.throws(() => new Job(noop, { lable: "typo" } as never), /unknown option "lable"/);
  });

  it("refuse options with a prototype of their own, and take plain ones", () => {
    const options = Object.create({ inherited: true }) as object;
    // A plain object is one whose prototype is Object.prototype or null:
    // this one is not, and is refused as such rather than for its key.
    assert.throws(() => new Job(noop, options), /options must be a plain object/);
    const plain: Record<string, unknown> = { label: "x" };
    assert.equal(new Job(noop, plain).label, "x");
  });
});

describe("a long list of requirements given at once (a fan-in)", () => {
  const many = (count: number) =>
    Array.from({ length: count }, (_, k) => new Job(() => k, { label: `r${k}` }));
  /** The transient mark of requirements.ts: a list walked for repeats leaves none behind. */
  const LISTED = 8;
  const marked = (jobs: Job[]) =>
    jobs.filter((job) => ((job as unknown as { _bits: number })._bits & LISTED) !== 0);

  it("keeps each requirement once, never the job itself, and answers results()", async () => {
    const inputs = many(40);
    const fanIn = new Job(({ results }) => inputs.reduce((sum, job) => sum + results(job), 0), {
      label: "sum",
      required: inputs,
    });
    assert.deepEqual([...fanIn.required], inputs);
    const repeated = new Job(noop, { required: [...inputs, inputs[3]!, inputs[0]!] });
    assert.deepEqual([...repeated.required], inputs);
    const self: Job[] = [...inputs];
    const selfish = new Job(noop);
    selfish.requires(self.concat(selfish));
    assert.deepEqual([...selfish.required], inputs);
    assert.deepEqual(marked(inputs), []);
    assert.equal(await new PureScheduler(...inputs, fanIn).run(), true);
    assert.equal(fanIn.result(), (39 * 40) / 2);
  });

  it("can then lose and gain requirements one at a time", () => {
    const inputs = many(20);
    const job = new Job(noop, { required: inputs });
    job.requires(inputs[5]!, { remove: true });
    const extra = new Job(noop);
    job.requires(extra, inputs[6]!);
    assert.deepEqual([...job.required], [...inputs.filter((_, k) => k !== 5), extra]);
  });

  it("leaves no mark behind when reading the list throws half-way", () => {
    const inputs = many(20);
    const hostile = new Proxy(inputs, {
      get(target, key, receiver) {
        if (key === "12" && reads++ > 0) throw new Error("boom");
        return Reflect.get(target, key, receiver);
      },
    });
    let reads = 0;
    assert.throws(() => new Job(noop, { required: hostile }), /boom/);
    assert.deepEqual(marked(inputs), []);
    assert.deepEqual([...new Job(noop, { required: inputs }).required], inputs);
  });
});

describe("update() with an array of jobs", () => {
  it("adds them all, in order, each once", () => {
    const jobs = [new Job(noop), new Job(noop), new Job(noop)];
    const scheduler = new PureScheduler();
    scheduler.update([jobs[0]!, jobs[1]!, jobs[0]!, jobs[2]!]);
    assert.deepEqual([...scheduler.jobs], jobs);
    assert.ok(jobs.every((job) => scheduler.jobs.has(job)));
  });

  it("appends to a scheduler that has jobs, skipping its members and repeats", () => {
    const [a, b, c, d] = [new Job(noop), new Job(noop), new Job(noop), new Job(noop)];
    const elsewhere = new PureScheduler(new Job(noop), d);
    elsewhere.remove(d);
    const scheduler = new PureScheduler(a, b);
    scheduler.update([c, a, d, c, b]);
    assert.deepEqual([...scheduler.jobs], [a, b, c, d]);
    scheduler.remove(a);
    assert.deepEqual([...scheduler.jobs], [b, c, d]);
    assert.ok([b, c, d].every((job) => scheduler.jobs.has(job)));
    assert.equal(scheduler.jobs.has(a), false);
  });

  it("adds nothing when one of them belongs to another scheduler", () => {
    const taken = new Job(noop, { label: "taken" });
    new PureScheduler(taken);
    const free = new Job(noop);
    const scheduler = new PureScheduler();
    assert.throws(
      () => scheduler.update([free, taken]),
      /"taken" already belongs to another scheduler/,
    );
    assert.equal(scheduler.size, 0);
    assert.equal(scheduler.jobs.has(free), false);
  });

  it("takes sequences among jobs, and refuses anything else naming its position", () => {
    const first = new Job(noop);
    const second = new Job(noop);
    const alone = new Job(noop);
    const scheduler = new PureScheduler();
    scheduler.update([alone, new Sequence(first, second)]);
    assert.deepEqual([...scheduler.jobs], [alone, first, second]);
    const other = new PureScheduler();
    assert.throws(() => other.update([new Job(noop), 42 as never]), /item 2 must be a job/);
    assert.equal(other.size, 0);
  });

  it("runs the graph it built", async () => {
    const order: number[] = [];
    const jobs: Job[] = [];
    for (let i = 0; i < 20; i++) {
      jobs.push(
        new Job(() => order.push(i), {
          label: `j${i}`,
          required: i === 0 ? undefined : [jobs[i - 1]!],
        }),
      );
    }
    const scheduler = new PureScheduler();
    scheduler.update(jobs);
    assert.equal(await scheduler.run(), true);
    assert.deepEqual(
      order,
      Array.from({ length: 20 }, (_, i) => i),
    );
  });
});
