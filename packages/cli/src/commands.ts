/**
 * The commands that read a workflow without running it: check, list and
 * graph. Loaded on demand by the command line.
 */
import { writeFile } from "node:fs/promises";
import { extname } from "node:path";
import type { PureScheduler } from "asyncjobs";
import { isScheduler } from "asyncjobs/extend";
import { WorkflowError } from "./diagnostics.js";
import { EXIT, type Invocation, UsageError } from "./invocation.js";
import { loadScheduler } from "./load-workflow.js";

function countJobs(scheduler: PureScheduler): { jobs: number; groups: number } {
  let jobs = 0;
  let groups = 0;
  for (const job of scheduler.iterateJobs({ scanSchedulers: true })) {
    // A Scheduler at the top is yielded too: it is the run, not a group of it.
    if ((job as unknown) === scheduler) continue;
    if (isScheduler(job)) groups++;
    else jobs++;
  }
  return { jobs, groups };
}

/** A graph's cycle, or a requirement outside its scheduler, as a file error. */
export function checkGraph(file: string, scheduler: PureScheduler): void {
  if (scheduler.checkCycles()) return;
  try {
    for (const job of scheduler.iterateJobs({ scanSchedulers: true })) {
      if (isScheduler(job)) [...job.topologicalOrder()];
    }
    [...scheduler.topologicalOrder()];
  } catch (error) {
    throw new WorkflowError(file, (error as Error).message);
  }
  throw new WorkflowError(file, "the graph has a cycle, or a group where no job can start");
}

export async function check(invocation: Invocation): Promise<number> {
  const scheduler = await loadScheduler(invocation);
  checkGraph(invocation.file, scheduler);
  const { jobs, groups } = countJobs(scheduler);
  const inGroups = groups > 0 ? ` in ${groups + 1} schedulers` : "";
  process.stdout.write(
    `${invocation.file}: valid, ${jobs} job${jobs === 1 ? "" : "s"}${inGroups}, no cycle\n`,
  );
  return EXIT.ok;
}

export async function list(invocation: Invocation): Promise<number> {
  const scheduler = await loadScheduler(invocation);
  checkGraph(invocation.file, scheduler);
  scheduler.list({ details: invocation.details });
  return EXIT.ok;
}

export async function graph(invocation: Invocation): Promise<number> {
  const scheduler = await loadScheduler(invocation);
  checkGraph(invocation.file, scheduler);
  const output = invocation.output;
  if (output === undefined) {
    process.stdout.write(
      invocation.format === "mmd" ? scheduler.mermaidFormat() : scheduler.dotFormat(),
    );
    return EXIT.ok;
  }
  const extension = extname(output).toLowerCase();
  try {
    switch (extension) {
      case ".dot":
      case ".gv":
        await writeFile(output, scheduler.dotFormat());
        break;
      case ".mmd":
        await writeFile(output, scheduler.mermaidFormat());
        break;
      case ".svg":
      case ".png":
        await scheduler.exportAsGraphic(
          output.slice(0, -extension.length),
          extension === ".svg" ? "svg" : "png",
        );
        break;
      default:
        throw new UsageError(`-o ${output}: the name must end in .svg, .png, .dot or .mmd`);
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    process.stderr.write(`asyncjobs graph: cannot write ${output}: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
  process.stdout.write(`wrote ${output}\n`);
  return EXIT.ok;
}
