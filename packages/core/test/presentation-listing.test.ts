/**
 * list(), listSafe(), debrief(), toString() and the verbose lines: the
 * original's layout, the ASCII fallback, and what they print.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { inspect } from "node:util";
import {
  type AbstractJob,
  Job,
  PrintJob,
  PureScheduler,
  Scheduler,
  Sequence,
  Watch,
} from "asyncjobs";
import { captureText } from "./presentation-capture.js";
import { deferred, gatedJob, quickJob } from "./support.js";

const ENVIRONMENT = ["ASYNCJOBS_ASCII", "LC_ALL", "LC_CTYPE", "LANG", "TERM"] as const;
const savedEnvironment = Object.fromEntries(ENVIRONMENT.map((name) => [name, process.env[name]]));

function restoreEnvironment(): void {
  for (const name of ENVIRONMENT) {
    const value = savedEnvironment[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

beforeEach(() => {
  restoreEnvironment();
  process.env.ASYNCJOBS_ASCII = "0";
});
afterEach(restoreEnvironment);

/** Lines of what `fn` prints; checks that it also returned exactly that text. */
async function printed(fn: () => string): Promise<string[]> {
  let returned = "";
  const output = await captureText(() => {
    returned = fn();
  });
  assert.equal(output, returned, "prints what it returns");
  return output === "" ? [] : output.replace(/\n$/, "").split("\n");
}

/** A job that throws `error` when run. */
function failing(label: string, error: unknown, critical = false): Job<never> {
  return new Job<never>(
    async () => {
      throw error;
    },
    { label, critical },
  );
}

describe("list()", () => {
  it("lays jobs out as the original: id, badge, main, result, requirements", async () => {
    const a = quickJob("a", 12);
    const b = quickJob("b", "text", { required: a });
    const c = quickJob("c", { x: [1, 2] }, { required: [a, b], critical: false });
    const scheduler = new PureScheduler(c, b, a);
    assert.deepEqual(await printed(() => scheduler.list()), [
      "1 ⚠   ⚐   <Job `a`> [not done]",
      "2 ⚠   ⚐   <Job `b`> [not done] requires={1}",
      "3     ⚐   <Job `c`> [not done] requires={1, 2}",
    ]);
    assert.equal(await scheduler.run(), true);
    assert.deepEqual(await printed(() => scheduler.list()), [
      "1 ⚠ ☉ ☓   <Job `a`> [[ -> 12]]",
      "2 ⚠ ☉ ☓   <Job `b`> [[ -> text]] requires={1}",
      '3   ☉ ☓   <Job `c`> [[ -> {"x":[1,2]}]] requires={1, 2}',
    ]);
  });

  it("numbers nested jobs too, zero-padded to the total count, indented per level", async () => {
    const leaves = Array.from({ length: 7 }, (_, index) => quickJob(`j${index + 1}`, index));
    const deepest = new Scheduler(quickJob("d1", 0), quickJob("d2", 0), { label: "deepest" });
    const middle = new Scheduler(new Sequence(quickJob("m1", 0), deepest), { label: "middle" });
    const main = new PureScheduler(new Sequence(...leaves.slice(0, 3), middle), ...leaves.slice(3));
    const lines = await printed(() => main.list());
    // 7 jobs + middle (1 + m1 + deepest (1 + 2)) = 12: ids 01 to 12.
    const ids = lines.filter((line) => !line.includes("--end--")).map((line) => line.slice(0, 2));
    assert.deepEqual(ids, ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]);
    const middleLine = lines.find((line) => line.includes("<Scheduler `middle`>"))!;
    const middleId = middleLine.slice(0, 2);
    assert.match(
      middleLine,
      /^\d\d ⚠ {3}⚐ {3}<Scheduler `middle`> \[not done\] requires=\{\d\d\} -> entries=\{\d\d\}$/,
    );
    const m1 = lines.find((line) => line.includes("`m1`"))!;
    assert.match(m1, /^\d\d ⚠ {3}⚐ {3}> <Job `m1`> \[not done\]$/);
    assert.equal(middleLine.endsWith(`entries={${m1.slice(0, 2)}}`), true);
    const d1 = lines.find((line) => line.includes("`d1`"))!;
    assert.match(d1, /^\d\d ⚠ {3}⚐ {3}>> <Job `d1`> \[not done\]$/);
    const deepestLine = lines.find((line) => line.includes("<Scheduler `deepest`> "))!;
    const deepestId = deepestLine.slice(0, 2);
    assert.match(
      deepestLine,
      new RegExp(
        `> <Scheduler \`deepest\`> \\[not done\\] requires=\\{${m1.slice(0, 2)}\\} -> entries=\\{\\d\\d, \\d\\d\\}$`,
      ),
    );
    // Each nested scheduler closes with its exits, after its last job.
    const deepestEnd = lines.indexOf(
      lines.find((line) => line.startsWith(`${deepestId} --end-- << <Scheduler \`deepest\`>`))!,
    );
    const middleEnd = lines.indexOf(
      lines.find((line) => line.startsWith(`${middleId} --end-- < <Scheduler \`middle\`>`))!,
    );
    assert.ok(deepestEnd > lines.indexOf(d1) && middleEnd === deepestEnd + 1);
    assert.equal(
      lines[middleEnd],
      `${middleId} --end-- < <Scheduler \`middle\`> exits={${deepestId}}`,
    );
    assert.match(lines[deepestEnd]!, /exits=\{\d\d, \d\d\}$/);
  });

  it("shows details() only when asked to", async () => {
    const job = new PrintJob("hello", "world", { label: "greet", sleep: 5 });
    const scheduler = new PureScheduler(job);
    assert.deepEqual(await printed(() => scheduler.list()), [
      "1 ⚠   ⚐   <PrintJob `greet`> [not done]",
    ]);
    assert.deepEqual(await printed(() => scheduler.list({ details: true })), [
      "1 ⚠   ⚐   <PrintJob `greet`> [not done]",
      "hello world (then sleep 5 ms)",
    ]);
    assert.throws(() => scheduler.list({ details: "yes" as unknown as boolean }), /details/);
  });

  it("names exceptions by constructor, or by type for thrown primitives", async () => {
    const scheduler = new PureScheduler(
      failing("typed", new TypeError("bad type")),
      failing("text", "boom"),
      failing("number", 42),
    );
    assert.equal(await scheduler.run(), true);
    const lines = await printed(() => scheduler.list());
    assert.ok(lines.includes("1   ★ ☓   <Job `typed`> !! exception => TypeError:bad type!!"));
    assert.ok(lines.includes("2   ★ ☓   <Job `text`> !! exception => string:boom!!"));
    assert.ok(lines.includes("3   ★ ☓   <Job `number`> !! exception => number:42!!"));
  });

  it("on a cycle, throws naming the cycle and pointing to listSafe(), which works", async () => {
    const a = quickJob("a", 1);
    const b = quickJob("b", 2, { required: a });
    a.requires(b);
    const scheduler = new PureScheduler(a, b, quickJob("free", 3));
    assert.throws(
      () => scheduler.list(),
      (error: Error) =>
        /"a" requires "b" requires "a"|"b" requires "a" requires "b"/.test(error.message) &&
        /listSafe\(\)/.test(error.message),
    );
    assert.deepEqual(await printed(() => scheduler.listSafe()), [
      "1 ⚠   ⚐   <Job `a`> [not done] requires={2}",
      "2 ⚠   ⚐   <Job `b`> [not done] requires={1}",
      "3 ⚠   ⚐   <Job `free`> [not done]",
    ]);
  });

  it("says ?? for a job's id before any listing", () => {
    const job = quickJob("alone", 1);
    assert.equal(job.reprId(), "??");
    assert.equal(job.reprMain(), "<Job `alone`>");
    assert.equal(new Job(async function fetchIt() {}).reprMain(), "<Job `Job[fetchIt (...)]`>");
  });
});

describe("toString() and console.log", () => {
  it("show a job as its badge, main part, result and requirements", async () => {
    const a = quickJob("a", 1);
    const b = quickJob("b", 2, { required: a });
    const scheduler = new Scheduler(a, b);
    // Ids come from the listings; requirements are numbered on demand when they have none yet.
    assert.equal(String(b), "⚠   ⚐   <Job `b`> [not done] requires={1}");
    await scheduler.run();
    assert.equal(String(b), "⚠ ☉ ☓   <Job `b`> [[ -> 2]] requires={1}");
    assert.equal(
      String(quickJob("c", 3, { required: quickJob("outside", 4) })),
      "⚠   ⚐   <Job `c`> [not done] requires={??}",
    );
    assert.equal(inspect(b), String(b));
    assert.equal(inspect([b]), `[ ${String(b)} ]`);
  });

  it("show a scheduler as its counts", async () => {
    const gate = gatedJob("gated");
    const scheduler = new Scheduler(
      quickJob("quick", 1),
      gate.job,
      quickJob("later", 2, { required: gate.job }),
    );
    assert.equal(String(scheduler), "Scheduler with 0 done + 0 ongoing + 3 idle = 3 job(s)");
    const run = scheduler.run();
    await gate.started;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(String(scheduler), "Scheduler with 1 done + 1 ongoing + 1 idle = 3 job(s)");
    assert.equal(inspect(scheduler), String(scheduler));
    gate.open("done");
    await run;
    assert.equal(
      String(new PureScheduler()),
      "PureScheduler with 0 done + 0 ongoing + 0 idle = 0 job(s)",
    );
  });
});

describe("the ASCII fallback", () => {
  const job = (): AbstractJob => quickJob("x", 1, { forever: true });

  it("is forced by ASYNCJOBS_ASCII=1, and refused by ASYNCJOBS_ASCII=0", () => {
    process.env.ASYNCJOBS_ASCII = "1";
    assert.equal(job().reprShort(), "!    > 8");
    process.env.ASYNCJOBS_ASCII = "0";
    process.env.LANG = "en_US.ISO-8859-1";
    assert.equal(job().reprShort(), "⚠   ⚐ ∞");
  });

  it("is chosen when the locale's charset is not UTF-8, or on the bare Linux console", () => {
    delete process.env.ASYNCJOBS_ASCII;
    delete process.env.LC_ALL;
    delete process.env.LC_CTYPE;
    process.env.TERM = "xterm-256color";
    process.env.LANG = "fr_FR.ISO-8859-15";
    assert.equal(job().reprShort(), "!    > 8");
    process.env.LC_ALL = "en_US.UTF-8";
    assert.equal(job().reprShort(), "⚠   ⚐ ∞");
    process.env.LC_ALL = "C.UTF-8";
    process.env.TERM = "linux";
    assert.equal(job().reprShort(), "!    > 8");
  });

  it("keeps the listing's layout", async () => {
    process.env.ASYNCJOBS_ASCII = "1";
    const a = quickJob("a", 1, { critical: false });
    const scheduler = new PureScheduler(new Sequence(a, failing("b", new Error("no"), true)));
    await scheduler.run();
    assert.deepEqual(await printed(() => scheduler.list()), [
      "1   :) x   <Job `a`> [[ -> 1]]",
      "2 ! :( x   <Job `b`> !! CRIT. EXC. => Error:no!! requires={1}",
    ]);
  });
});

describe("debrief()", () => {
  it("prints why(), the listing, the counts, then each exception with its stack, critical first", async () => {
    const innerBoom = new Error("inner boom");
    const inner = new Scheduler(failing("deep", innerBoom, true), { label: "inner" });
    const scheduler = new PureScheduler(
      new Sequence(quickJob("first", 1), failing("soft", new RangeError("soft failure")), inner),
    );
    assert.equal(await scheduler.run(), false);
    const lines = await printed(() => scheduler.debrief());
    assert.equal(lines[0], "----- a CRITICAL job has raised an exception");
    const countsAt = lines.findIndex((line) => line.startsWith("----- scheduler has a total"));
    assert.equal(
      lines[countsAt],
      "----- scheduler has a total of 3 job(s) in 2 schedulers: 3 are done, none is ongoing, none is idle (or scheduled but not running)",
    );
    // The listing sits between why() and the counts.
    assert.deepEqual(lines.slice(1, countsAt), [
      "1 ⚠ ☉ ☓   <Job `first`> [[ -> 1]]",
      "2   ★ ☓   <Job `soft`> !! exception => RangeError:soft failure!! requires={1}",
      "3 ⚠ ★ ☓   <Scheduler `inner`> !! CRIT. EXC. => Error:inner boom!! requires={2} -> entries={4}",
      "4 ⚠ ★ ☓   > <Job `deep`> !! CRIT. EXC. => Error:inner boom!!",
      "3 --end-- < <Scheduler `inner`> exits={4}",
    ]);
    const rest = lines.slice(countsAt + 1);
    assert.equal(rest[0], "===== 3 job(s) with an exception, including 2 critical");
    const headers = rest.filter((line) => /^===== (CRITICAL )?exception in /.test(line));
    assert.deepEqual(headers, [
      "===== CRITICAL exception in 3 ⚠ ★ ☓   <Scheduler `inner`>",
      "===== CRITICAL exception in 4 ⚠ ★ ☓   <Job `deep`>",
      "===== exception in 2   ★ ☓   <Job `soft`>",
    ]);
    const text = rest.join("\n");
    assert.match(text, /<Scheduler `inner`>\n {4}Error: inner boom\n {8}at /);
    // The scheduler raised the very error of its job: its stack is shown once.
    assert.match(text, /<Job `deep`>\n {4}\(the same exception as 3, shown above\)\n/);
    assert.match(text, /<Job `soft`>\n {4}RangeError: soft failure\n {8}at /);
  });

  it("counts cancelled and idle jobs of an unfinished run, and says why it failed", async () => {
    const slow = gatedJob("slow");
    const waiting = quickJob("waiting", 1, { required: slow.job });
    const scheduler = new PureScheduler(slow.job, waiting, { timeout: 20 });
    assert.equal(await scheduler.run(), false);
    const lines = await printed(() => scheduler.debrief());
    assert.equal(lines[0], "----- TIMED OUT after 20 ms");
    assert.ok(
      lines.includes(
        "----- scheduler has a total of 2 job(s): none is done, none is ongoing, 1 is idle (or scheduled but not running), 1 is cancelled",
      ),
    );
    assert.ok(!lines.some((line) => line.startsWith("=====")));
  });

  it("lists a graph with a cycle in no particular order, after naming the cycle", async () => {
    const a = quickJob("a", 1);
    const b = quickJob("b", 2, { required: a });
    a.requires(b);
    const lines = await printed(() => new PureScheduler(a, b).debrief());
    assert.equal(lines[0], "----- FINE");
    assert.match(lines[1]!, /^----- list\(\) needs jobs in topological order, but .*cycle/);
    assert.equal(lines[2], "1 ⚠   ⚐   <Job `a`> [not done] requires={2}");
  });
});

describe("verbose: true", () => {
  it("prints a line per event, timed by the watch", async () => {
    const watch = new Watch();
    const quick = quickJob("quick", 1);
    const soft = failing("soft", new Error("oops"));
    const forever = gatedJob("ticker", { forever: true, critical: false });
    const inner = new Scheduler(quickJob("leaf", 2), { label: "inner" });
    const scheduler = new Scheduler(quick, soft, forever.job, inner, { verbose: true, watch });
    const output = await captureText(() => scheduler.run());
    const lines = output.trimEnd().split("\n");
    for (const line of lines) assert.match(line, /^\d{3}\.\d{3} \S/);
    const text = lines.map((line) => line.slice(8)).join("\n");
    assert.match(text, /^SCHEDULER: entering run\(\) with 4 job\(s\)$/m);
    assert.match(text, /^STARTING \d ⚠ ☉ ↺ {3}<Job `quick`> \[not done\]$/m);
    assert.match(text, /^DONE \d ⚠ ☉ ☓ {3}<Job `quick`> \[\[ -> 1\]\]$/m);
    assert.match(text, /^RAISED EXC\. \d {3}★ ☓ {3}<Job `soft`> !! exception => Error:oops!!$/m);
    assert.match(text, /^SCHEDULER\(inner\): entering run\(\) with 1 job\(s\)$/m);
    assert.match(text, /^\(inner\) DONE \d ⚠ ☉ ☓ {3}<Job `leaf`> \[\[ -> 2\]\]$/m);
    assert.match(text, /^CANCELLED \d {3}☉ ⊗ ∞ <Job `ticker`> \[not done\]$/m);
    assert.match(text, /^SCHEDULER: run ended: FINE$/m);
    assert.match(text, /^SCHEDULER: shutdown ok$/m);
    // Nested lines use the ids of the whole tree: leaf comes right after inner.
    const innerId = /STARTING (\d) ⚠ ☉ ↺ {3}<Scheduler `inner`>/.exec(text)?.[1];
    const leafId = /\(inner\) STARTING (\d) /.exec(text)?.[1];
    assert.equal(Number(leafId), Number(innerId) + 1);
  });

  it("reports a timeout, with the wall clock when there is no watch", async () => {
    const started = deferred();
    const stuck = new Job(
      async ({ signal }) => {
        started.resolve();
        await new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason)),
        );
      },
      { label: "stuck" },
    );
    const scheduler = new PureScheduler(stuck, { timeout: 10, verbose: true });
    const output = await captureText(() => scheduler.run());
    const lines = output.trimEnd().split("\n");
    for (const line of lines) assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} \S/);
    const text = lines.map((line) => line.slice(13)).join("\n");
    assert.match(text, /^CANCELLED 1 ⚠ ☉ ⊗ {3}<Job `stuck`> \[not done\]$/m);
    assert.match(text, /^SCHEDULER: run ended: TIMED OUT after 10 ms$/m);
    assert.match(text, /^SCHEDULER: shutdown ok$/m);
  });

  it("prints nothing when not verbose", async () => {
    const output = await captureText(() => new PureScheduler(quickJob("q", 1)).run());
    assert.equal(output, "");
  });
});
