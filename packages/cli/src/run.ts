/**
 * `asyncjobs run`: runs a scheduler under a live view (on a terminal) or a
 * plain event log, handles Ctrl-C and the other stop signals, and ends with
 * a summary and, when the run failed, the debrief.
 */
import { constants } from "node:os";
import { CommandJob, FileJournal } from "@asyncjobs/node";
import type { AbstractJob, PureScheduler, RunJournal } from "asyncjobs";
import { formatDuration } from "./duration.js";
import type { Invocation } from "./invocation.js";
import { LiveView } from "./live-view.js";
import { PlainView } from "./plain-view.js";
import { RunModel } from "./run-model.js";
import { closeSshConnections } from "./ssh-loader.js";

/** The reason a run is aborted with when it is interrupted. */
export class InterruptedError extends Error {
  override name = "InterruptedError";
}

interface View {
  start(): void;
  interrupted(): void;
  stop(): void;
  abandon?(): void;
}

/** Whether the badges are drawn in ASCII (the listing's own choice, or --ascii). */
function asciiOnly(model: RunModel, forced: boolean): boolean {
  if (forced) return true;
  const badge = model.rows[0]?.job.reprShort() ?? "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: testing for plain ASCII.
  return badge !== "" && /^[\u0000-\u007f]*$/.test(badge);
}

function titleOf(scheduler: PureScheduler, file: string): string {
  const parts = [`asyncjobs run ${file}`];
  if (scheduler.jobsWindow) parts.push(`window ${scheduler.jobsWindow}`);
  if (scheduler.timeout !== null) parts.push(`timeout ${formatDuration(scheduler.timeout)}`);
  return parts.join(" · ");
}

/**
 * The signals that stop a run as Ctrl-C does: an interrupt, a termination
 * (kill, a service manager), the terminal closed (SIGHUP), Ctrl-\ (SIGQUIT).
 * Without a handler, each would end this process at once and leave every
 * program it started running (they are in sessions of their own, so the
 * terminal's hangup does not reach them) and the terminal's cursor hidden.
 */
const STOP_SIGNALS: readonly NodeJS.Signals[] =
  process.platform === "win32"
    ? ["SIGINT", "SIGTERM", "SIGHUP"]
    : ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

const SIGNAL_WORDS: Partial<Record<NodeJS.Signals, string>> = {
  SIGINT: "interrupted",
  SIGTERM: "terminated",
  SIGHUP: "hung up",
  SIGQUIT: "quit",
};

/** The exit status of a process stopped by `signal`, as a shell reports it: 128 + its number. */
export function signalExitStatus(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 2);
}

/**
 * Listens for the stop signals, and with `keys`, for Ctrl-C typed on the
 * terminal in raw mode (so that keys typed meanwhile do not garble the live
 * view). Keys are read only for the live view: with output to a pipe, a
 * program down the pipe (a pager) may be reading the same terminal.
 */
function listenForInterrupts(
  onInterrupt: (reason: string, status: number) => void,
  keys: boolean,
): () => void {
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = (): void => {
      if (signal === "SIGHUP") ignoreWriteErrors();
      onInterrupt(`${SIGNAL_WORDS[signal]} (${signal})`, signalExitStatus(signal));
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  const stdin = process.stdin;
  let raw = false;
  const onData = (data: Buffer): void => {
    if (data.includes(3)) onInterrupt("interrupted (Ctrl-C)", signalExitStatus("SIGINT"));
  };
  if (keys && stdin.isTTY) {
    try {
      stdin.setRawMode(true);
      raw = true;
      stdin.on("data", onData);
      stdin.resume();
    } catch {
      raw = false;
    }
  }
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    if (raw) {
      stdin.off("data", onData);
      try {
        stdin.setRawMode(false);
      } catch {
        // The terminal is gone: nothing to restore.
      }
      stdin.pause();
      stdin.unref?.();
    }
  };
}

/** The last lines a failed job left on its standard error, when its error keeps them. */
function tailOf(job: AbstractJob | undefined): string[] {
  const error = job?.raisedException() as { stderr?: unknown } | undefined;
  const lines = error?.stderr;
  if (!Array.isArray(lines)) return [];
  return lines.filter((line): line is string => typeof line === "string");
}

/**
 * The workflow's file journal, with the last lines of output of each job
 * that fails added to its end record, for `asyncjobs show`.
 */
function journalWithTails(files: FileJournal, scheduler: PureScheduler): RunJournal {
  const byKey = new Map<string, AbstractJob>();
  for (const job of scheduler.iterateJobs()) {
    // The job's own accessors: a workflow module may bring its own copy of the core.
    const key = job.key ?? job.label;
    if (key !== undefined) byKey.set(key, job);
  }
  return {
    load: () => files.load(),
    record(record) {
      if (record.type === "job-end" && record.outcome === "failed") {
        const tail = tailOf(byKey.get(record.key));
        files.record(tail.length > 0 ? { ...record, tail } : record);
        return;
      }
      files.record(record);
    },
    close: () => files.close(),
  };
}

/**
 * Why the jobs of a workflow module cannot be told apart in a journal (a
 * job with neither key nor label, or two with one key), or undefined when
 * they can. YAML workflows always can: their jobs get keys from their ids.
 */
function unjournaled(scheduler: PureScheduler): string | undefined {
  const seen = new Map<string, AbstractJob>();
  for (const job of scheduler.iterateJobs()) {
    // The job's own accessors: a workflow module may bring its own copy of the core.
    const key = job.key ?? job.label;
    if (key === undefined) {
      return `job "${job.label ?? job.textLabel() ?? "NOLABEL"}" has neither a key nor a label (give each job a key or label)`;
    }
    if (seen.has(key)) return `two jobs have the key "${key}" (give each job a key of its own)`;
    seen.set(key, job);
  }
  return undefined;
}

/**
 * After a hangup the terminal is gone: writing to it fails (EIO). The run
 * still has to cancel its jobs and wait for their programs, so the failed
 * writes are dropped instead of ending the process with an error.
 */
function ignoreWriteErrors(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount("error") === 0) stream.on("error", () => {});
  }
}

/** The browser view and the report, when asked for. */
interface BrowserParts {
  /** Writes the report (when the run started) and stops watching. */
  finish(ran: boolean): Promise<void>;
  /**
   * Closes the server; with `linger`, only once Ctrl-C is pressed, so that
   * the person at the terminal can look at the finished run.
   */
  close(linger: boolean): Promise<void>;
}

/**
 * Loads @asyncjobs/ui (only now: a run without --ui or --report never
 * loads it), starts watching the run, and serves the view with --ui.
 */
async function startBrowserParts(
  scheduler: PureScheduler,
  invocation: Invocation,
  onCancel: () => void,
): Promise<BrowserParts> {
  const ui = await import("@asyncjobs/ui");
  const watch = ui.watchRun(scheduler);
  let view: Awaited<ReturnType<typeof ui.serve>> | undefined;
  if (invocation.ui === true) {
    try {
      view = await ui.serve(watch, {
        port: invocation.port ?? 0,
        ...(invocation.host === undefined ? {} : { host: invocation.host }),
        title: titleOf(scheduler, invocation.file),
        onCancel,
      });
    } catch (error) {
      watch.stop();
      throw error;
    }
    process.stderr.write(`asyncjobs: watch the run at ${view.url}\n`);
  }
  return {
    async finish(ran) {
      const report = invocation.report;
      try {
        if (report !== undefined && ran) {
          try {
            await ui.writeReport(watch, report, { title: titleOf(scheduler, invocation.file) });
            process.stderr.write(`asyncjobs: wrote the report ${report}\n`);
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            process.stderr.write(`asyncjobs: cannot write the report ${report}: ${message}\n`);
          }
        }
      } finally {
        watch.stop();
      }
    },
    async close(linger) {
      if (view === undefined) return;
      if (linger) {
        process.stderr.write(
          `asyncjobs: the run is over; its page stays at ${view.url} until Ctrl-C\n`,
        );
        await new Promise<void>((resolve) => {
          const done = (): void => {
            process.off("SIGINT", done);
            process.off("SIGTERM", done);
            resolve();
          };
          process.on("SIGINT", done);
          process.on("SIGTERM", done);
        });
      }
      await view.close();
    },
  };
}

/** Runs `scheduler` for the command line; resolves with the exit status. */
export async function runWorkflow(
  scheduler: PureScheduler,
  invocation: Invocation,
): Promise<number> {
  const model = new RunModel(scheduler);
  const stdout = process.stdout;
  const live = stdout.isTTY === true && !invocation.plain && process.env.TERM !== "dumb";
  const ascii = asciiOnly(model, invocation.ascii);
  const view: View = live
    ? new LiveView(model, stdout, {
        title: titleOf(scheduler, invocation.file),
        verbose: invocation.verbose,
        ascii,
        color: stdout.hasColors?.() === true,
        capture: [process.stdout, process.stderr],
      })
    : new PlainView(model, stdout, { quiet: invocation.quiet, ascii });

  const controller = new AbortController();
  let interrupted = false;
  let stopListening: () => void = () => {};
  const killOnExit = (): void => CommandJob.killAll();
  process.on("exit", killOnExit);
  let interruptStatus = 130;
  const onInterrupt = (reason: string, status: number): void => {
    if (!interrupted) {
      interrupted = true;
      interruptStatus = status;
      view.interrupted();
      controller.abort(new InterruptedError(reason));
      return;
    }
    // A second interrupt: no more waiting.
    CommandJob.killAll();
    view.abandon?.();
    stopListening();
    process.stderr.write("asyncjobs: interrupted again: exiting at once\n");
    process.exit(status);
  };
  stopListening = listenForInterrupts(onInterrupt, live);

  const files = FileJournal.forWorkflow(invocation.file);
  const problem = unjournaled(scheduler);
  if (problem !== undefined && !invocation.resume) {
    process.stderr.write(`asyncjobs: this run is not journaled: ${problem}\n`);
  }
  if (invocation.resume) {
    let last: string | undefined;
    try {
      if (problem !== undefined) throw new Error(problem);
      last = files.lastRun()?.id;
    } catch (error) {
      stopListening();
      process.off("exit", killOnExit);
      process.stderr.write(`${invocation.file}: cannot resume: ${(error as Error).message}\n`);
      return 2;
    }
    stdout.write(
      last === undefined
        ? `asyncjobs: no earlier run of ${invocation.file} in its journal: running every job\n`
        : `asyncjobs: resuming from run ${last}\n`,
    );
  }
  const journal = problem === undefined ? journalWithTails(files, scheduler) : undefined;

  view.start();
  // After the terminal view, so that the browser's copy of the output wraps
  // the terminal's sink rather than being replaced by it.
  let browser: BrowserParts | undefined;
  if (invocation.ui === true || invocation.report !== undefined) {
    try {
      browser = await startBrowserParts(scheduler, invocation, () =>
        onInterrupt("cancelled from the browser view", signalExitStatus("SIGINT")),
      );
    } catch (error) {
      view.stop();
      stopListening();
      process.off("exit", killOnExit);
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`asyncjobs: cannot serve the browser view: ${message}\n`);
      return 1;
    }
  }
  let ok = false;
  let refused: unknown;
  try {
    ok = await scheduler.run(
      journal === undefined
        ? { signal: controller.signal }
        : { signal: controller.signal, journal, resume: invocation.resume },
    );
  } catch (error) {
    // A critical scheduler rejects when its run fails; before it starts, it
    // rejects on a graph it cannot run.
    if (model.started === undefined) refused = error;
  }
  await CommandJob.whenAllGone();
  await closeSshConnections();
  if (browser !== undefined) await browser.finish(model.started !== undefined);
  view.stop();
  stopListening();
  process.off("exit", killOnExit);

  const summarise = (): number => {
    if (refused !== undefined) {
      const message = refused instanceof Error ? refused.message : String(refused);
      process.stderr.write(`${invocation.file}: cannot run: ${message}\n`);
      return 2;
    }
    const counts = model.counts();
    const elapsed = formatDuration(model.elapsed());
    if (ok) {
      const finished = counts.done + counts.failed;
      const notes: string[] = [];
      if (counts.failed > 0) {
        notes.push(`${counts.failed} non-critical failure${counts.failed === 1 ? "" : "s"}`);
      }
      if (counts.skipped > 0) notes.push(`${counts.skipped} skipped`);
      let resumed = 0;
      for (const job of scheduler.iterateJobs()) if (job.isResumed()) resumed++;
      if (resumed > 0) notes.push(`${resumed} resumed`);
      const failures = notes.length === 0 ? "" : ` (${notes.join(", ")})`;
      stdout.write(
        `asyncjobs: success, ${finished} job${finished === 1 ? "" : "s"} done in ${elapsed}${failures}\n`,
      );
      return 0;
    }
    stdout.write(`asyncjobs: the run failed after ${elapsed}: ${scheduler.why()}\n`);
    scheduler.debrief();
    return interrupted ? interruptStatus : 1;
  };
  const status = summarise();
  if (browser !== undefined) await browser.close(live && refused === undefined && !interrupted);
  return status;
}
