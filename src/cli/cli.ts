/**
 * The `asyncjobs` command line: argument parsing and the subcommands run,
 * list, check and graph.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { parseArgs } from "node:util";
import type { PureScheduler } from "../engine/pure-scheduler.js";
import { isScheduler } from "../jobs/abstract-job.js";
import { WorkflowError } from "./diagnostics.js";
import { DURATION_HINT, MAX_TIMEOUT_HINT, MAX_TIMEOUT_MS, parseDuration } from "./duration.js";
import { COMMAND_HELP, MAIN_HELP } from "./help.js";
import { runWorkflow } from "./run.js";
import { buildWorkflow, readWorkflowFile } from "./workflow-file.js";
import { loadWorkflowModule, MODULE_EXTENSIONS } from "./workflow-module.js";

/** Exit statuses of the command line. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** A mistake in the command line itself. */
export class UsageError extends Error {
  override name = "UsageError";
}

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  window: { type: "string", short: "w" },
  timeout: { type: "string", short: "t" },
  verbose: { type: "boolean", short: "v" },
  ascii: { type: "boolean" },
  plain: { type: "boolean" },
  "dry-run": { type: "boolean", short: "n" },
  details: { type: "boolean", short: "d" },
  output: { type: "string", short: "o" },
  format: { type: "string", short: "f" },
} as const;

type OptionName = keyof typeof OPTIONS;

/** Which options each command takes (help and version go everywhere). */
const ALLOWED: Record<string, readonly OptionName[]> = {
  run: ["window", "timeout", "verbose", "ascii", "plain", "dry-run"],
  list: ["details", "ascii"],
  check: [],
  graph: ["output", "format"],
};

/** The parsed command line. */
export interface Invocation {
  command: string;
  file: string;
  window?: number | undefined;
  timeout?: number | undefined;
  verbose: boolean;
  ascii: boolean;
  plain: boolean;
  dryRun: boolean;
  details: boolean;
  output?: string | undefined;
  format?: string | undefined;
}

function version(): string {
  const url = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

/** Reads the command line; returns the text to print instead for help and version. */
export function parseCommandLine(argv: readonly string[]): Invocation | { print: string } {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.version) return { print: `${version()}\n` };
  if (command === "help") {
    const topic = rest[0];
    if (topic === undefined) return { print: MAIN_HELP };
    const text = COMMAND_HELP[topic];
    if (text === undefined) throw new UsageError(`no such command: ${topic}`);
    return { print: text };
  }
  if (values.help) return { print: (command && COMMAND_HELP[command]) || MAIN_HELP };
  if (command === undefined) throw new UsageError("missing a command: run, list, check or graph");
  const allowed = ALLOWED[command];
  if (allowed === undefined) {
    throw new UsageError(`unknown command "${command}": expected run, list, check, graph or help`);
  }
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || name === "help" || name === "version") continue;
    if (!allowed.includes(name as OptionName)) {
      throw new UsageError(`option --${name} does not apply to ${command}`);
    }
  }
  if (rest.length === 0) throw new UsageError(`${command}: missing the workflow FILE`);
  if (rest.length > 1) throw new UsageError(`${command}: one FILE only, got ${rest.join(" ")}`);
  const invocation: Invocation = {
    command,
    file: rest[0]!,
    verbose: values.verbose === true,
    ascii: values.ascii === true,
    plain: values.plain === true,
    dryRun: values["dry-run"] === true,
    details: values.details === true,
    output: values.output,
    format: values.format,
  };
  if (values.window !== undefined) {
    const window = Number(values.window);
    if (!/^\d+$/.test(values.window) || !Number.isSafeInteger(window)) {
      throw new UsageError(`--window expects a whole number >= 0, got "${values.window}"`);
    }
    invocation.window = window;
  }
  if (values.timeout !== undefined) {
    const timeout = parseDuration(values.timeout);
    if (timeout === undefined) {
      throw new UsageError(`--timeout expects ${DURATION_HINT}, got "${values.timeout}"`);
    }
    if (timeout > MAX_TIMEOUT_MS) {
      throw new UsageError(`--timeout must be ${MAX_TIMEOUT_HINT}, got "${values.timeout}"`);
    }
    invocation.timeout = timeout;
  }
  if (values.format !== undefined && !["dot", "mmd"].includes(values.format)) {
    throw new UsageError(`--format expects dot or mmd, got "${values.format}"`);
  }
  return invocation;
}

/** Loads the scheduler a workflow FILE describes, with the command line's overrides applied. */
export async function loadScheduler(invocation: Invocation): Promise<PureScheduler> {
  const { file } = invocation;
  if (MODULE_EXTENSIONS.test(file)) {
    const scheduler = await loadWorkflowModule(file);
    if (invocation.window !== undefined) scheduler.jobsWindow = invocation.window;
    if (invocation.timeout !== undefined) scheduler.timeout = invocation.timeout;
    return scheduler;
  }
  if (!/\.(ya?ml|json)$/i.test(file)) {
    throw new WorkflowError(
      file,
      "unknown kind of file: expected .yaml, .yml, .json, or a .js/.ts module",
    );
  }
  const workflow = await readWorkflowFile(file);
  return buildWorkflow(workflow, { window: invocation.window, timeout: invocation.timeout });
}

function countJobs(scheduler: PureScheduler): { jobs: number; groups: number } {
  let jobs = 0;
  let groups = 0;
  for (const job of scheduler.iterateJobs({ scanSchedulers: true })) {
    if (isScheduler(job)) groups++;
    else jobs++;
  }
  return { jobs, groups };
}

/** A graph's cycle, or a requirement outside its scheduler, as a file error. */
function checkGraph(file: string, scheduler: PureScheduler): void {
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

async function check(invocation: Invocation): Promise<number> {
  const scheduler = await loadScheduler(invocation);
  checkGraph(invocation.file, scheduler);
  const { jobs, groups } = countJobs(scheduler);
  const inGroups = groups > 0 ? ` in ${groups + 1} schedulers` : "";
  process.stdout.write(
    `${invocation.file}: valid, ${jobs} job${jobs === 1 ? "" : "s"}${inGroups}, no cycle\n`,
  );
  return EXIT.ok;
}

async function list(invocation: Invocation): Promise<number> {
  const scheduler = await loadScheduler(invocation);
  checkGraph(invocation.file, scheduler);
  scheduler.list({ details: invocation.details });
  return EXIT.ok;
}

async function graph(invocation: Invocation): Promise<number> {
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

/** Runs the command line `argv` (without `node` and the script); resolves with the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const invocation = parseCommandLine(argv);
    if ("print" in invocation) {
      process.stdout.write(invocation.print);
      return EXIT.ok;
    }
    if ("ascii" in invocation && invocation.ascii) process.env.ASYNCJOBS_ASCII = "1";
    switch (invocation.command) {
      case "check":
        return await check(invocation);
      case "list":
        return await list(invocation);
      case "graph":
        return await graph(invocation);
      default: {
        const scheduler = await loadScheduler(invocation);
        if (invocation.dryRun) {
          checkGraph(invocation.file, scheduler);
          scheduler.list();
          return EXIT.ok;
        }
        return await runWorkflow(scheduler, invocation);
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`asyncjobs: ${error.message}\nRun "asyncjobs --help" for usage.\n`);
      return EXIT.usage;
    }
    if (error instanceof WorkflowError) {
      process.stderr.write(error.report());
      return EXIT.usage;
    }
    throw error;
  }
}
