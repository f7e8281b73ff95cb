/**
 * `asyncjobs runs` and `asyncjobs show`: looking back at the runs a
 * workflow's journal holds, without loading the workflow itself (it may
 * have changed, or no longer be valid).
 */
import { relative } from "node:path";
import {
  FileJournal,
  type JournalRun,
  type JournalRunSummary,
  recordedJobs,
  summarizeRun,
} from "@asyncjobs/node";
import type { JobEndRecord, RunStartRecord } from "asyncjobs";
import { formatDuration } from "./duration.js";

/** Thrown for a RUN that the journal does not hold. */
export class NoSuchRunError extends Error {
  override name = "NoSuchRunError";
}

/** `2026-12-02 05:38:00`, local time. */
export function formatTime(ms: number): string {
  const date = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
  );
}

/** `5 jobs: 3 done, 1 resumed, 1 failed` (zero counts left out). */
export function countsText(summary: JournalRunSummary): string {
  const { counts } = summary;
  const parts: string[] = [];
  const add = (count: number, word: string): void => {
    if (count > 0) parts.push(`${count} ${word}`);
  };
  add(counts.done, "done");
  add(counts.resumed, "resumed");
  add(counts.failed, "failed");
  add(counts.cancelled, "cancelled");
  add(counts.skipped, "skipped");
  add(counts.notRun, "not run");
  const jobs = `${counts.jobs} job${counts.jobs === 1 ? "" : "s"}`;
  return parts.length === 0 ? jobs : `${jobs}: ${parts.join(", ")}`;
}

function journalPlace(journal: FileJournal): string {
  const near = relative(process.cwd(), journal.directory);
  return near === "" ? "." : near.startsWith("..") ? journal.directory : near;
}

/** Lays out rows of cells in columns, two spaces apart. */
function columns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, k) => {
      widths[k] = Math.max(widths[k] ?? 0, [...cell].length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, k) =>
          k === row.length - 1 ? cell : cell + " ".repeat(widths[k]! - [...cell].length),
        )
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}

/** `asyncjobs runs FILE`: prints the runs of the workflow's journal; resolves with the exit status. */
export function listRuns(
  file: string,
  out: { write(text: string): unknown } = process.stdout,
): number {
  const journal = FileJournal.forWorkflow(file);
  const runs = journal.runs();
  if (runs.length === 0) {
    out.write(`${file}: no run recorded yet (journal: ${journalPlace(journal)})\n`);
    return 0;
  }
  out.write(
    `${file}: ${runs.length} run${runs.length === 1 ? "" : "s"} in ${journalPlace(journal)}\n`,
  );
  const rows: string[][] = [["#", "run", "started", "took", "outcome", "jobs"]];
  runs.forEach((run, k) => {
    rows.push([
      String(k + 1),
      run.id,
      formatTime(run.started),
      formatDuration(run.ended - run.started),
      run.outcome,
      countsText(run),
    ]);
  });
  out.write(columns(rows));
  return 0;
}

/** The run that `which` names: a number as `runs` prints it, an id, or the last one. */
function pickRun(journal: FileJournal, file: string, which: string | undefined): JournalRun {
  const ids = journal.runIds().filter((id) => summarizeRun(journal.read(id)) !== undefined);
  if (ids.length === 0) throw new NoSuchRunError(`${file}: no run recorded yet`);
  if (which === undefined) return journal.read(ids[ids.length - 1]!);
  if (/^\d+$/.test(which)) {
    const id = ids[Number(which) - 1];
    if (id === undefined) {
      throw new NoSuchRunError(
        `${file}: no run number ${which}; the journal holds runs 1 to ${ids.length}`,
      );
    }
    return journal.read(id);
  }
  if (!ids.includes(which)) {
    throw new NoSuchRunError(
      `${file}: no run ${which} in the journal (see asyncjobs runs ${file})`,
    );
  }
  return journal.read(which);
}

const UNICODE = {
  critical: "⚠",
  raised: "★",
  fine: "☉",
  idle: "⚐",
  running: "↺",
  done: "☓",
  skipped: "⊘",
  resumed: "↷",
  forever: "∞",
};
const ASCII = {
  critical: "!",
  raised: ":(",
  fine: ":)",
  idle: ">",
  running: "o",
  done: "x",
  skipped: "-",
  resumed: "=",
  forever: "8",
};

/** The badge a listing would have shown for a job that ended as `end` says. */
function badge(
  job: RunStartRecord["jobs"][number],
  end: JobEndRecord | undefined,
  ascii: boolean,
): string {
  const symbols = ascii ? ASCII : UNICODE;
  const blank = (text: string): string => " ".repeat(text.length);
  const outcome = end?.outcome;
  const critical = job.critical ? symbols.critical : blank(symbols.critical);
  let result = blank(symbols.raised);
  if (outcome === "failed") result = symbols.raised;
  else if (outcome === "done" || outcome === "resumed" || outcome === "cancelled")
    result = symbols.fine;
  let lifecycle = symbols.idle;
  if (outcome === "done" || outcome === "failed") lifecycle = symbols.done;
  else if (outcome === "resumed") lifecycle = symbols.resumed;
  else if (outcome === "cancelled") lifecycle = symbols.running;
  else if (outcome === "skipped") lifecycle = symbols.skipped;
  const forever = job.forever ? symbols.forever : blank(symbols.forever);
  return `${critical} ${result} ${lifecycle} ${forever}`;
}

/** What a listing line says of a job's end. */
function endText(job: RunStartRecord["jobs"][number], end: JobEndRecord | undefined): string {
  if (job.scheduler) return "";
  if (end === undefined) return "[not done]";
  switch (end.outcome) {
    case "failed":
      return job.critical ? `!! CRIT. EXC. => ${end.error}!!` : `!! exception => ${end.error}!!`;
    case "cancelled":
      return "[cancelled]";
    case "skipped":
      return "[skipped]";
    default: {
      if (end.result === undefined)
        return end.outcome === "resumed" ? "[[resumed]]" : "[[ -> done]]";
      const value = typeof end.result === "string" ? end.result : JSON.stringify(end.result);
      const short = value.length > 60 ? `${value.slice(0, 59)}…` : value;
      return `[[ -> ${short.replace(/\n/g, "⏎")}]]`;
    }
  }
}

/** `asyncjobs show FILE [RUN]`: prints the debrief of a past run; resolves with the exit status. */
export function showRun(
  file: string,
  which: string | undefined,
  out: { write(text: string): unknown } = process.stdout,
): number {
  const journal = FileJournal.forWorkflow(file);
  let run: JournalRun;
  try {
    run = pickRun(journal, file, which);
  } catch (error) {
    if (!(error instanceof NoSuchRunError)) throw error;
    process.stderr.write(`asyncjobs show: ${error.message}\n`);
    return 1;
  }
  const summary = summarizeRun(run)!;
  const start = run.records.find(
    (record): record is RunStartRecord => record.type === "run-start",
  )!;
  const ends = recordedJobs(run.records) as Map<string, JobEndRecord>;
  const ascii = process.env.ASYNCJOBS_ASCII === "1";
  const number = journal.runIds().indexOf(run.id) + 1;
  out.write(
    `run ${number} of ${file} (${run.id}), started ${formatTime(summary.started)}, ` +
      `took ${formatDuration(summary.ended - summary.started)}: ${summary.outcome}` +
      `${summary.why !== undefined && summary.why !== "FINE" ? ` (${summary.why})` : ""}` +
      `${run.torn ? "; its journal ends with a torn line" : ""}\n`,
  );
  const width = String(start.jobs.length).length;
  const ids = new Map(start.jobs.map((job, k) => [job.key, String(k + 1).padStart(width, "0")]));
  const depthOf = (job: RunStartRecord["jobs"][number]): number => {
    let depth = 0;
    let group = job.group;
    while (group !== undefined) {
      depth++;
      group = start.jobs.find((other) => other.key === group)?.group;
    }
    return depth;
  };
  for (const job of start.jobs) {
    const end = ends.get(job.key);
    const requires = job.requires.map((key) => ids.get(key) ?? "??");
    const line = [
      ids.get(job.key),
      job.scheduler ? " ".repeat(badge(job, end, ascii).length) : badge(job, end, ascii),
      `${"> ".repeat(depthOf(job))}<${job.label}>`,
      endText(job, end),
      requires.length > 0 ? `requires={${requires.join(", ")}}` : "",
    ]
      .filter((part) => part !== "")
      .join(" ");
    out.write(`${line}\n`);
  }
  out.write(`${countsText(summary)}\n`);
  for (const job of start.jobs) {
    const end = ends.get(job.key);
    if (end?.outcome !== "failed") continue;
    out.write(`\n${job.label} failed: ${end.error}\n`);
    for (const line of end.tail ?? []) out.write(`  | ${line}\n`);
  }
  return 0;
}
