/**
 * What a workflow file needs to run jobs on remote hosts: the hosts it
 * names (through its inventory), and the SshJob of a `run:` entry with
 * `on:`. The command line builds its remote jobs with these.
 */
import { dirname, isAbsolute, join } from "node:path";
import { describeValue } from "asyncjobs/extend";
import { Run } from "./commands.js";
import { captureFormatter } from "./formatters.js";
import { SshInventory } from "./inventory.js";
import { SshJob, type SshJobOptions } from "./job.js";
import type { SshNode } from "./node.js";
import { shellJoin, shellQuote } from "./text.js";

/**
 * The hosts of a workflow file: its inventory (`hosts:`, a path relative to
 * the workflow file) or none. Throws an Error naming the inventory file on
 * any mistake in it.
 */
export function workflowHosts(
  workflowFile: string,
  inventoryPath: string | undefined,
): SshInventory {
  if (inventoryPath === undefined) return new SshInventory();
  const file = isAbsolute(inventoryPath)
    ? inventoryPath
    : join(dirname(workflowFile), inventoryPath);
  return SshInventory.readFile(file);
}

/** Options of {@link remoteCommandJob}: the job's, and what a `run:` entry adds. */
export interface RemoteCommandOptions extends SshJobOptions {
  /** Folder to run in, on the host. */
  cwd?: string;
  /** Variables exported for the command, on the host. */
  env?: Record<string, string>;
  /** Make the command's output the job's result. */
  capture?: boolean;
}

/** What a POSIX shell takes as a variable name: anything else would be read as shell code. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The job of a workflow's `run:` entry on `node`: `cwd` and `env` become
 * part of the command line, the values quoted. Throws a TypeError naming
 * the first `env` name that is not a shell variable name
 * (`[A-Za-z_][A-Za-z0-9_]*`), since it would be spliced into the remote
 * shell's command line.
 */
export function remoteCommandJob(
  node: SshNode,
  command: string | readonly string[],
  options: RemoteCommandOptions = {},
): SshJob {
  const { cwd, env, capture, ...jobOptions } = options;
  for (const [name, value] of Object.entries(env ?? {})) {
    if (!VARIABLE_NAME.test(name)) {
      throw new TypeError(
        `env: ${JSON.stringify(name)} is not a variable name a remote shell accepts (letters, digits and _, not starting with a digit)`,
      );
    }
    if (typeof value !== "string") {
      throw new TypeError(
        `env: the value of ${name} must be a string, got ${describeValue(value)}`,
      );
    }
  }
  const line = typeof command === "string" ? command : shellJoin(command);
  const prefix: string[] = [];
  if (cwd !== undefined) prefix.push(`cd ${shellQuote(cwd)} || exit 1;`);
  const exports = Object.entries(env ?? {}).map(([name, value]) => `${name}=${shellQuote(value)}`);
  if (exports.length > 0) prefix.push(`export ${exports.join(" ")};`);
  const run = new Run(prefix.length === 0 ? line : `${prefix.join(" ")} ${line}`, { label: line });
  return new SshJob(
    node,
    run,
    capture === true ? { ...jobOptions, formatter: captureFormatter() } : jobOptions,
  );
}
