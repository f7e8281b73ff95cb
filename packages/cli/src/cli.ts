/**
 * The `asyncjobs` command line: reads the arguments and hands over to the
 * command (run, list, check, graph).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { closest, visible, WorkflowError } from "./diagnostics.js";
import { DURATION_HINT, MAX_TIMEOUT_HINT, MAX_TIMEOUT_MS, parseDuration } from "./duration.js";
import { COMMAND_HELP, MAIN_HELP } from "./help.js";
import { EXIT, type Invocation, UsageError } from "./invocation.js";
import { loadScheduler } from "./load-workflow.js";

// The modules that read workflows and run them (YAML, zod, tsx, the views,
// CommandJob, the core) load when a command needs them, so that `--help`
// starts fast.

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  window: { type: "string", short: "w" },
  timeout: { type: "string", short: "t" },
  verbose: { type: "boolean", short: "v" },
  quiet: { type: "boolean", short: "q" },
  ascii: { type: "boolean" },
  plain: { type: "boolean" },
  "dry-run": { type: "boolean", short: "n" },
  resume: { type: "boolean", short: "r" },
  details: { type: "boolean", short: "d" },
  output: { type: "string", short: "o" },
  format: { type: "string", short: "f" },
  ui: { type: "boolean" },
  port: { type: "string" },
  host: { type: "string" },
  report: { type: "string" },
} as const;

type OptionName = keyof typeof OPTIONS;

/** Which options each command takes (help and version go everywhere). */
const ALLOWED: Record<string, readonly OptionName[]> = {
  run: [
    "window",
    "timeout",
    "verbose",
    "quiet",
    "ascii",
    "plain",
    "dry-run",
    "ui",
    "port",
    "host",
    "report",
    "resume",
  ],
  runs: [],
  show: ["ascii"],
  list: ["details", "ascii"],
  check: [],
  graph: ["output", "format"],
};

function version(): string {
  const url = new URL("../package.json", import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

/** The options `command` takes, as `--name` (all of them for an unknown command). */
function optionsOf(command: string | undefined): string[] {
  const names = (command && ALLOWED[command]) || (Object.keys(OPTIONS) as OptionName[]);
  return [...names, "help"].map((name) => `--${name}`);
}

/**
 * parseArgs' complaint, said as the other usage mistakes are: what is wrong,
 * and the option that was likely meant, or those the command takes.
 */
function optionError(error: Error & { code?: string }, argv: readonly string[]): UsageError {
  const command = argv.find((arg) => Object.hasOwn(ALLOWED, arg));
  const quoted = /'([^']*)'/.exec(error.message)?.[1] ?? "";
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const given = quoted.split("=")[0]!;
    const known = optionsOf(command);
    const bare = given.replace(/^-+/, "");
    // A short option is one letter: only a long one can be a typo of another.
    const match =
      bare.length > 1
        ? closest(
            bare,
            known.map((name) => name.slice(2)),
          )
        : undefined;
    const where = command === undefined ? "" : ` of ${command}`;
    const hint =
      match === undefined
        ? `; the options${where} are ${known.join(", ")}`
        : ` (did you mean --${match}?)`;
    return new UsageError(`unknown option ${given}${hint}`);
  }
  if (error.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
    if (/argument missing/.test(error.message)) {
      return new UsageError(`option ${name} needs a value, as in ${name}=VALUE or ${name} VALUE`);
    }
    return new UsageError(`option ${name} takes no value`);
  }
  return new UsageError(error.message.replace(/\. To specify a positional.*$/s, ""));
}

/** Reads the command line; returns the text to print instead for help and version. */
export function parseCommandLine(argv: readonly string[]): Invocation | { print: string } {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw optionError(error as Error & { code?: string }, argv);
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
  if (command === undefined) {
    throw new UsageError("missing a command: run, list, check, graph, runs or show");
  }
  const allowed = ALLOWED[command];
  if (allowed === undefined) {
    throw new UsageError(
      `unknown command "${command}": expected run, list, check, graph, runs, show or help`,
    );
  }
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || name === "help" || name === "version") continue;
    if (!allowed.includes(name as OptionName)) {
      throw new UsageError(`option --${name} does not apply to ${command}`);
    }
  }
  if (values.quiet && values.verbose) {
    throw new UsageError(`${command}: --quiet and --verbose contradict each other`);
  }
  if (rest.length === 0) throw new UsageError(`${command}: missing the workflow FILE`);
  const most = command === "show" ? 2 : 1;
  if (rest.length > most) {
    throw new UsageError(
      command === "show"
        ? `show: FILE and at most one RUN, got ${rest.join(" ")}`
        : `${command}: one FILE only, got ${rest.join(" ")}`,
    );
  }
  const invocation: Invocation = {
    command,
    file: rest[0]!,
    verbose: values.verbose === true,
    quiet: values.quiet === true,
    ascii: values.ascii === true,
    plain: values.plain === true,
    dryRun: values["dry-run"] === true,
    resume: values.resume === true,
    run: rest[1],
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
  if (values.ui === true) invocation.ui = true;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) {
      throw new UsageError(`--port expects a port number 0-65535, got "${values.port}"`);
    }
    invocation.port = port;
  }
  if (values.host !== undefined) {
    if (values.host === "") throw new UsageError("--host expects an address, got nothing");
    invocation.host = values.host;
  }
  if ((values.port !== undefined || values.host !== undefined) && values.ui !== true) {
    throw new UsageError(`--${values.port !== undefined ? "port" : "host"} goes with --ui`);
  }
  if (values.report !== undefined) {
    if (values.report === "") throw new UsageError("--report expects a file name, got nothing");
    invocation.report = values.report;
  }
  if (values.format !== undefined && !["dot", "mmd"].includes(values.format)) {
    throw new UsageError(`--format expects dot or mmd, got "${values.format}"`);
  }
  return invocation;
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
        return await (await import("./commands.js")).check(invocation);
      case "list":
        return await (await import("./commands.js")).list(invocation);
      case "graph":
        return await (await import("./commands.js")).graph(invocation);
      case "runs":
        return (await import("./journal-commands.js")).listRuns(invocation.file);
      case "show":
        return (await import("./journal-commands.js")).showRun(invocation.file, invocation.run);
      default: {
        const scheduler = await loadScheduler(invocation);
        if (invocation.dryRun) {
          (await import("./commands.js")).checkGraph(invocation.file, scheduler);
          scheduler.list();
          return EXIT.ok;
        }
        const { runWorkflow } = await import("./run.js");
        return await runWorkflow(scheduler, invocation);
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(
        `asyncjobs: ${visible(error.message)}\nRun "asyncjobs --help" for usage.\n`,
      );
      return EXIT.usage;
    }
    if (error instanceof WorkflowError) {
      process.stderr.write(error.report());
      return EXIT.usage;
    }
    throw error;
  }
}
