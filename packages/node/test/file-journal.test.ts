/**
 * FileJournal on its own: a file per run, what load() reads back, torn
 * lines, pruning, format versions, and a run resumed through it.
 */
import assert from "node:assert/strict";
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileJournal, parseJournal } from "@asyncjobs/node";
import { Job, PureScheduler } from "asyncjobs";

const top = mkdtempSync(join(tmpdir(), "asyncjobs-file-journal-"));
after(() => rmSync(top, { recursive: true, force: true }));
let count = 0;
const folder = (): string => join(top, `j${++count}`);

function pair(calls: string[]) {
  const a = new Job(
    () => {
      calls.push("a");
      return { n: 1 };
    },
    { label: "a" },
  );
  const b = new Job(
    ({ results }) => {
      calls.push("b");
      return (results(a) as { n: number }).n + 1;
    },
    { label: "b", required: a },
  );
  return new PureScheduler(a, b);
}

describe("FileJournal", () => {
  it("writes one JSON line per record in a file per run, and a new object reads it back", async () => {
    const dir = folder();
    const calls: string[] = [];
    await pair(calls).run({ journal: new FileJournal(dir) });
    const [name] = readdirSync(dir);
    assert.match(name!, /^\d{8}-\d{6}-\d{3}-\d+-[0-9a-f]{4}\.jsonl$/);
    const text = readFileSync(join(dir, name!), "utf8");
    assert.ok(text.endsWith("\n"));
    const { records, torn } = parseJournal(text);
    assert.equal(torn, false);
    assert.deepEqual(
      records.map((record) => record.type),
      ["run-start", "job-start", "job-end", "job-start", "job-end", "run-end"],
    );
    const loaded = new FileJournal(dir).load();
    assert.deepEqual(loaded?.get("a")?.result, { n: 1 });
    assert.equal(loaded?.get("b")?.result, 2);
    calls.length = 0;
    const again = pair(calls);
    assert.equal(await again.run({ journal: new FileJournal(dir), resume: true }), true);
    assert.deepEqual(calls, []);
    assert.equal([...again.jobs][1]!.result(), 2);
  });

  it("skips torn and foreign lines instead of failing", () => {
    const { records, torn } = parseJournal(
      '{"type":"run-start","v":1}\nnot json\n[1]\n{"type":"job-end","ke',
    );
    assert.equal(records.length, 1);
    assert.equal(torn, true);
  });

  it("reuses one object for several runs, each in a file of its own", async () => {
    const dir = folder();
    const journal = new FileJournal(dir);
    const calls: string[] = [];
    await pair(calls).run({ journal });
    const firstRun = journal.currentRun;
    await pair(calls).run({ journal, resume: true });
    assert.notEqual(journal.currentRun, firstRun);
    assert.deepEqual(calls, ["a", "b"]);
    assert.equal(journal.runs().length, 2);
    assert.deepEqual(
      journal.runs().map((run) => [run.outcome, run.counts.done, run.counts.resumed]),
      [
        ["success", 2, 0],
        ["success", 0, 2],
      ],
    );
  });

  it("lists runs in the order they started, several within one millisecond", async () => {
    const dir = folder();
    const journal = new FileJournal(dir, { keep: 100 });
    const started: string[] = [];
    for (let k = 0; k < 12; k++) {
      await new PureScheduler().run({ journal });
      started.push(journal.currentRun!);
    }
    assert.deepEqual(journal.runIds(), started);
  });

  it("keeps the last `keep` runs", async () => {
    const dir = folder();
    for (let k = 0; k < 4; k++) await pair([]).run({ journal: new FileJournal(dir, { keep: 2 }) });
    assert.equal(readdirSync(dir).length, 2);
  });

  it("refuses a journal written in a newer format, and bad options", async () => {
    const dir = folder();
    await pair([]).run({ journal: new FileJournal(dir) });
    const [name] = readdirSync(dir);
    const file = join(dir, name!);
    writeFileSync(file, readFileSync(file, "utf8").replace('"v":1', '"v":2'));
    assert.throws(
      () => new FileJournal(dir).load(),
      /written in journal format 2, newer than this version reads \(1\)/,
    );
    assert.throws(() => new FileJournal(dir, { keep: 0 }), /option "keep" must be an integer >= 1/);
    assert.throws(
      () => new FileJournal(dir, { kept: 2 } as unknown as { keep: number }),
      /unknown option "kept"/,
    );
  });

  it("reads a run with no end (killed) as unfinished, and resumes from what it recorded", async () => {
    const dir = folder();
    const journal = new FileJournal(dir);
    await pair([]).run({ journal });
    const file = join(dir, `${journal.currentRun}.jsonl`);
    const lines = readFileSync(file, "utf8").split("\n");
    // Keep a's end, drop the rest, then tear a line in half.
    writeFileSync(file, `${lines.slice(0, 3).join("\n")}\n`);
    appendFileSync(file, lines[3]!.slice(0, 12));
    const [summary] = new FileJournal(dir).runs();
    assert.equal(summary?.outcome, "unfinished");
    assert.equal(summary?.counts.notRun, 1);
    const calls: string[] = [];
    await pair(calls).run({ journal: new FileJournal(dir), resume: true });
    assert.deepEqual(calls, ["b"]);
  });

  it("flushes with fsync when asked", async () => {
    const dir = folder();
    const journal = new FileJournal(dir, { fsync: true });
    assert.equal(await pair([]).run({ journal }), true);
    assert.equal(journal.runs()[0]?.outcome, "success");
  });
});
