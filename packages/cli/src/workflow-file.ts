/**
 * Workflow files (YAML or JSON): parsed with positions, checked against the
 * schema, then for what a schema cannot say (ids, requirements, cycles,
 * commands that need a shell), every mistake reported with its line and
 * column before anything starts. Then turned into schedulers.
 */
import { readFile } from "node:fs/promises";
import { CommandJob, CommandLineError, splitCommandLine } from "@asyncjobs/node";
import type { SshInventory, SshJob, SshNode } from "@asyncjobs/ssh";
import type { AbstractJob, ExtraJobOptions, RetryOptions } from "asyncjobs";
import { Scheduler } from "asyncjobs";
import { type Document, isMap, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import type { core } from "zod";
import { type Diagnostic, suggestion, WorkflowError } from "./diagnostics.js";
import { parseDuration } from "./duration.js";
import { LOCAL_HOST, loadSsh, type SshModule } from "./ssh-loader.js";
import {
  JOB_KEYS,
  type JobEntry,
  RETRY_KEYS,
  type RetrySpec,
  TOP_KEYS,
  type WorkflowSpec,
  workflowSchema,
} from "./workflow-schema.js";

type Path = readonly (string | number)[];

/** A workflow file read and validated, ready to become schedulers. */
export interface WorkflowFile {
  file: string;
  spec: WorkflowSpec;
}

/** Settings a group hands down to its jobs. */
interface Inherited {
  shell: boolean | string;
  cwd: string | undefined;
  env: Record<string, string> | undefined;
  on: string | undefined;
  via: string | string[] | undefined;
}

class Locator {
  readonly #doc: Document.Parsed;
  readonly #lines: LineCounter;
  readonly diagnostics: Diagnostic[] = [];
  readonly #seen = new Set<string>();

  constructor(doc: Document.Parsed, lines: LineCounter) {
    this.#doc = doc;
    this.#lines = lines;
  }

  /** The node at `path`, or the nearest enclosing one that exists. */
  node(path: Path): Node | undefined {
    for (let length = path.length; length >= 0; length--) {
      const found = this.#doc.getIn(path.slice(0, length), true);
      if (found && typeof found === "object" && "range" in found) return found as Node;
    }
    return this.#doc.contents ?? undefined;
  }

  /** The key node of `key` in the mapping at `path`. */
  keyNode(path: Path, key: string): Node | undefined {
    const map = this.#doc.getIn(path, true);
    if (!isMap(map)) return undefined;
    for (const pair of map.items) {
      if (isScalar(pair.key) && String(pair.key.value) === key) return pair.key;
    }
    return undefined;
  }

  /** Records a mistake at `node` (at `offset` characters into it, for scalars). */
  add(message: string, node: Node | undefined, offset = 0, length?: number): void {
    const range = node?.range ?? [0, 1, 1];
    const start = range[0] + offset;
    const { line, col } = this.#lines.linePos(start);
    const span = length ?? Math.max(1, Math.min(range[1], this.lineEnd(start)) - start);
    const key = `${line}:${col}:${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.diagnostics.push({ message, line, column: col, length: span });
  }

  /** The line a node starts on. */
  lineOf(node: Node | undefined): number {
    return this.#lines.linePos(node?.range?.[0] ?? 0).line;
  }

  addAt(message: string, path: Path): void {
    this.add(message, this.node(path));
  }

  lineEnd(offset: number): number {
    const starts = this.#lines.lineStarts;
    for (const start of starts) if (start > offset) return start - 1;
    return Number.POSITIVE_INFINITY;
  }
}

/** Reads and validates a YAML or JSON workflow; throws a {@link WorkflowError} listing every mistake. */
export async function readWorkflowFile(file: string): Promise<WorkflowFile> {
  let source: string;
  try {
    source = await readFile(file, "utf8");
  } catch (error) {
    throw new WorkflowError(file, `cannot read the file: ${(error as Error).message}`);
  }
  return parseWorkflow(file, source);
}

/** Validates the text of a workflow file; throws a {@link WorkflowError} listing every mistake. */
export function parseWorkflow(file: string, source: string): WorkflowFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const diagnostics = doc.errors.map((error) => {
      const pos = error.linePos?.[0] ?? { line: 1, col: 1 };
      const end = error.linePos?.[1];
      const length = end && end.line === pos.line ? Math.max(1, end.col - pos.col) : 1;
      return { message: error.message.split("\n")[0]!, line: pos.line, column: pos.col, length };
    });
    throw new WorkflowError(file, "the file cannot be parsed", diagnostics, source);
  }
  const data: unknown = doc.toJS();
  const locator = new Locator(doc, lineCounter);
  const parsed = workflowSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportIssue(locator, issue, [], data);
  }
  checkSemantics(locator, data);
  if (locator.diagnostics.length > 0 || !parsed.success) {
    throw new WorkflowError(file, "the workflow has mistakes", locator.diagnostics, source);
  }
  return { file, spec: parsed.data };
}

function valueAt(data: unknown, path: Path): unknown {
  let value = data;
  for (const step of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[step];
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string":
      return `the text ${JSON.stringify(value.length > 30 ? `${value.slice(0, 30)}…` : value)}`;
    case "number":
    case "boolean":
      return `${typeof value === "number" ? "the number" : ""} ${String(value)}`.trim();
    default:
      return "a mapping";
  }
}

function reportIssue(locator: Locator, issue: core.$ZodIssue, prefix: Path, data: unknown): void {
  const path = [...prefix, ...(issue.path as (string | number)[])];
  switch (issue.code) {
    case "unrecognized_keys": {
      const inRetry = path[path.length - 1] === "retry";
      const known = path.length === 0 ? TOP_KEYS : inRetry ? RETRY_KEYS : JOB_KEYS;
      const where =
        path.length === 0 ? "at the top of the file" : inRetry ? "in retry:" : "in a job";
      for (const key of issue.keys) {
        locator.add(
          `unknown key "${key}" ${where}${suggestion(key, known)}`,
          locator.keyNode(path, key) ?? locator.node(path),
        );
      }
      return;
    }
    case "invalid_union": {
      // When one branch got further (an argument list with one bad item),
      // its own complaint is the precise one.
      const deeper = issue.errors.find((branch) => branch.some((inner) => inner.path.length > 0));
      if (deeper) {
        for (const inner of deeper) reportIssue(locator, inner, path, data);
        return;
      }
      break;
    }
    case "invalid_type": {
      const value = valueAt(data, path);
      if (value === undefined && path.length > 0) {
        locator.addAt(`missing "${String(path[path.length - 1])}": ${issue.message}`, path);
        return;
      }
      locator.addAt(`${issue.message}, got ${describe(value)}`, path);
      return;
    }
  }
  locator.addAt(issue.message, path);
}

interface EntryInfo {
  path: Path;
  entry: Record<string, unknown>;
  id: string | undefined;
  /** Path of the group (its jobs: list's owner) the entry belongs to. */
  group: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function ids(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
  return [];
}

/** Ids, requirements, cycles, entry kinds and command lines: what the schema cannot check. */
function checkSemantics(locator: Locator, data: unknown): void {
  if (!isRecord(data)) return;
  const entries: EntryInfo[] = [];
  const byId = new Map<string, EntryInfo>();
  const groups = new Map<string, EntryInfo[]>();

  const walk = (
    list: unknown,
    listPath: Path,
    inheritedShell: unknown,
    pools: PoolScope,
    window: unknown,
    inheritedOn: unknown,
  ): void => {
    if (!Array.isArray(list)) return;
    const group = listPath.join("/");
    const members: EntryInfo[] = [];
    groups.set(group, members);
    list.forEach((entry, index) => {
      if (!isRecord(entry)) return;
      const path = [...listPath, index];
      const id = typeof entry.id === "string" && entry.id !== "" ? entry.id : undefined;
      const info: EntryInfo = { path, entry, id, group };
      entries.push(info);
      members.push(info);
      if (id !== undefined) {
        const first = byId.get(id);
        if (first) {
          const line = locator.lineOf(locator.node([...first.path, "id"]));
          locator.add(
            `duplicate id "${id}": already the id of the job on line ${line} (ids are unique in a file)`,
            locator.node([...path, "id"]),
          );
        } else {
          byId.set(id, info);
        }
      }
      checkPoolAndWeight(locator, entry, path, pools, window);
      const shell = entry.shell ?? inheritedShell;
      const on = entry.on ?? inheritedOn;
      // A remote command line is read by the host's shell, as with ssh.
      const remote = typeof on === "string" && on !== LOCAL_HOST;
      const hasRun = entry.run !== undefined;
      const hasJobs = entry.jobs !== undefined;
      if (hasRun && hasJobs) {
        locator.add(
          "a job has either run: (a command) or jobs: (a group), not both",
          locator.keyNode(path, "jobs"),
        );
      } else if (!hasRun && !hasJobs) {
        locator.add(
          "a job needs run: (a command to run) or jobs: (a group of jobs)",
          locator.node(path),
        );
      } else if (hasRun) {
        for (const key of ["window", "pools"]) {
          if (entry[key] !== undefined) {
            locator.add(
              `"${key}" applies to groups (jobs:), not to a command`,
              locator.keyNode(path, key),
            );
          }
        }
        if (typeof entry.run === "string" && (shell === undefined || shell === false) && !remote) {
          checkCommandLine(locator, entry.run, [...path, "run"]);
        }
        if (remote && entry.readyWhen !== undefined) {
          locator.add(
            `"readyWhen" applies to local commands, not to one on a host (on: ${on})`,
            locator.keyNode(path, "readyWhen"),
          );
        }
      } else {
        for (const key of ["capture", "readyWhen"]) {
          if (entry[key] !== undefined) {
            locator.add(
              `"${key}" applies to commands (run:), not to a group`,
              locator.keyNode(path, key),
            );
          }
        }
        walk(entry.jobs, [...path, "jobs"], shell, innerScope(pools, entry), entry.window, on);
      }
    });
  };
  const top = { limits: new Map(), held: new Map() };
  walk(
    data.jobs,
    ["jobs"],
    data.shell,
    innerScope(top, { pools: data.pools }),
    data.window,
    data.on,
  );

  const allIds = [...byId.keys()];
  for (const info of entries) {
    const requiresPath = [...info.path, "requires"];
    const required = ids(info.entry.requires);
    required.forEach((id, index) => {
      const at = locator.node(
        Array.isArray(info.entry.requires) ? [...requiresPath, index] : requiresPath,
      );
      const target = byId.get(id);
      if (target === undefined) {
        locator.add(`unknown requirement "${id}": no job has this id${suggestion(id, allIds)}`, at);
      } else if (target === info) {
        locator.add(`job "${id}" requires itself`, at);
      } else if (target.group !== info.group) {
        locator.add(
          `"${id}" is in another group: a job can only require jobs of its own group ` +
            "(require the group that holds it, by the group's id)",
          at,
        );
      }
    });
  }

  for (const members of groups.values()) reportCycles(locator, members, byId);
}

/** What the jobs of a group may know about pools. */
interface PoolScope {
  /** The pools declared by the group and those above it, with their limits. */
  limits: ReadonlyMap<string, unknown>;
  /** Slots of each pool held by the enclosing groups while their jobs run. */
  held: ReadonlyMap<string, number>;
}

/** The scope below a group: its own pools added, and the slots it holds itself. */
function innerScope(outer: PoolScope, group: Record<string, unknown>): PoolScope {
  const { pools, pool, weight } = group;
  const limits = isRecord(pools)
    ? new Map([...outer.limits, ...Object.entries(pools)])
    : outer.limits;
  if (typeof pool !== "string") return { limits, held: outer.held };
  const held = new Map(outer.held);
  held.set(pool, (held.get(pool) ?? 0) + (typeof weight === "number" ? weight : 1));
  return { limits, held };
}

/**
 * A job's pool must be declared (pools:) by its group or one that holds it,
 * and its weight must fit its group's window and its pool's limit:
 * otherwise it could never start.
 */
function checkPoolAndWeight(
  locator: Locator,
  entry: Record<string, unknown>,
  path: Path,
  scope: PoolScope,
  window: unknown,
): void {
  const { pool, weight } = entry;
  if (typeof pool === "string" && pool !== "" && !scope.limits.has(pool)) {
    locator.add(
      `unknown pool "${pool}": declare it under pools: in this group or one that holds it` +
        suggestion(pool, scope.limits.keys()),
      locator.node([...path, "pool"]),
    );
  }
  const slots = typeof weight === "number" ? weight : 1;
  if (typeof weight === "number" && typeof window === "number" && window > 0 && weight > window) {
    locator.add(
      `weight ${weight} is more than the window of ${window} of its group: the job could never start`,
      locator.node([...path, "weight"]),
    );
  }
  const limit = typeof pool === "string" ? scope.limits.get(pool) : undefined;
  if (typeof limit !== "number") return;
  // A group in the pool holds its slots while its own jobs run: they get only what is left.
  const held = scope.held.get(pool as string) ?? 0;
  if (slots + held > limit) {
    const needs =
      held === 0
        ? `weight ${slots} is`
        : `weight ${slots}, with ${held} held by its enclosing groups, is`;
    locator.add(
      `${needs} more than the ${limit} slot${limit === 1 ? "" : "s"} of pool "${pool}": the job could never start`,
      locator.node([...path, typeof weight === "number" ? "weight" : "pool"]),
    );
  }
}

function checkCommandLine(locator: Locator, line: string, path: Path): void {
  try {
    splitCommandLine(line);
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    const node = locator.node(path);
    const quoted = isScalar(node) && (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE");
    locator.add(error.message, node, error.index + (quoted ? 1 : 0), 1);
  }
}

/** Reports each cycle among a group's jobs once, as `a → b → c → a`, at the requires: of its first job. */
function reportCycles(locator: Locator, members: EntryInfo[], byId: Map<string, EntryInfo>): void {
  const inGroup = new Set(members);
  const state = new Map<EntryInfo, "active" | "finished">();
  const stack: EntryInfo[] = [];
  const reported = new Set<string>();
  const visit = (info: EntryInfo): void => {
    state.set(info, "active");
    stack.push(info);
    for (const id of ids(info.entry.requires)) {
      const next = byId.get(id);
      if (next === undefined || next === info || !inGroup.has(next)) continue;
      const seen = state.get(next);
      if (seen === "active") {
        const cycle = stack.slice(stack.indexOf(next));
        const names = cycle.map((member) => member.id!);
        const key = [...names].sort().join("\u0000");
        if (!reported.has(key)) {
          reported.add(key);
          // Shown in the direction of the work: each job before the one that requires it.
          const order = [...names].reverse();
          const text = [...order, order[0]].join(" → ");
          const head = cycle[cycle.length - 1]!;
          locator.add(
            `cycle in requires: ${text}`,
            locator.keyNode(head.path, "requires") ?? locator.node(head.path),
          );
        }
      } else if (seen === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(info, "finished");
  };
  for (const member of members) if (!state.has(member)) visit(member);
}

/** Options given on the command line, which win over the file's. */
export interface WorkflowOverrides {
  /** The top scheduler's window. */
  window?: number | undefined;
  /** The top scheduler's timeout, in ms. */
  timeout?: number | undefined;
}

function stringEnv(
  env: Record<string, string | number | boolean> | undefined,
): Record<string, string> | undefined {
  if (env === undefined) return undefined;
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, String(value)]));
}

function inherit(
  parent: Inherited,
  entry: {
    shell?: boolean | string | undefined;
    cwd?: string | undefined;
    env?: Record<string, string | number | boolean> | undefined;
    on?: string | undefined;
    via?: string | string[] | undefined;
  },
): Inherited {
  const env = stringEnv(entry.env);
  return {
    shell: entry.shell ?? parent.shell,
    cwd: entry.cwd ?? parent.cwd,
    env: env === undefined ? parent.env : { ...parent.env, ...env },
    on: entry.on ?? parent.on,
    via: entry.via ?? parent.via,
  };
}

function durationOf(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDuration(text);
}

/** A `retry:` key as jobs take it: durations in ms. */
function retryOf(spec: RetrySpec | undefined): number | RetryOptions | undefined {
  if (spec === undefined || typeof spec === "number") return spec;
  const { retries, delay, factor, maxDelay, jitter } = spec;
  return {
    retries,
    ...(delay === undefined ? {} : { delay: durationOf(delay)! }),
    ...(factor === undefined ? {} : { factor }),
    ...(maxDelay === undefined ? {} : { maxDelay: durationOf(maxDelay)! }),
    ...(jitter === undefined ? {} : { jitter }),
  };
}

/** The options beyond the original that any entry, command or group, may set. */
function extrasOf(entry: JobEntry): ExtraJobOptions {
  const retry = retryOf(entry.retry);
  return {
    ...(retry === undefined ? {} : { retry }),
    ...(entry.trigger === undefined ? {} : { trigger: entry.trigger }),
    ...(entry.weight === undefined ? {} : { weight: entry.weight }),
    ...(entry.pool === undefined ? {} : { pool: entry.pool }),
  };
}

/** Whether a job of `entries` runs on a remote host (`on:` other than local), or `on` is already remote. */
function namesRemoteHost(entries: readonly JobEntry[], on: string | undefined): boolean {
  return entries.some((entry) => {
    const own = entry.on ?? on;
    if (entry.jobs !== undefined) return namesRemoteHost(entry.jobs, own);
    return own !== undefined && own !== LOCAL_HOST;
  });
}

/**
 * Builds the schedulers of a validated workflow: one Scheduler per group,
 * one CommandJob per command, one SshJob per command on a host. SSH support
 * is loaded only when the workflow names hosts.
 */
export async function buildWorkflow(
  workflow: WorkflowFile,
  overrides: WorkflowOverrides = {},
): Promise<Scheduler> {
  const { spec } = workflow;
  const top = inherit(
    { shell: false, cwd: undefined, env: undefined, on: undefined, via: undefined },
    spec,
  );
  let remote: Remote | undefined;
  if (spec.hosts !== undefined || namesRemoteHost(spec.jobs, spec.on)) {
    const ssh = await loadSsh();
    try {
      remote = { ssh, hosts: ssh.workflowHosts(workflow.file, spec.hosts) };
    } catch (error) {
      throw new WorkflowError(workflow.file, (error as Error).message);
    }
  }
  const scheduler = new Scheduler({
    label: spec.label ?? workflow.file,
    critical: spec.critical ?? true,
    jobsWindow: overrides.window ?? spec.window ?? null,
    timeout: overrides.timeout ?? durationOf(spec.timeout) ?? null,
    ...(spec.pools === undefined ? {} : { pools: spec.pools }),
  });
  addJobs(scheduler, spec.jobs, top, remote, workflow.file);
  return scheduler;
}

/** The SSH package and the workflow's hosts, for a workflow that names hosts. */
interface Remote {
  ssh: SshModule;
  hosts: SshInventory;
}

function addJobs(
  scheduler: Scheduler,
  entries: readonly JobEntry[],
  settings: Inherited,
  remote: Remote | undefined,
  file: string,
): void {
  const made = new Map<string, AbstractJob>();
  const pending: [AbstractJob, JobEntry][] = [];
  for (const entry of entries) {
    const own = inherit(settings, entry);
    let job: AbstractJob;
    if (entry.jobs !== undefined) {
      const group = new Scheduler({
        label: entry.label ?? entry.id ?? "group",
        critical: entry.critical ?? true,
        forever: entry.forever ?? false,
        jobsWindow: entry.window ?? null,
        timeout: durationOf(entry.timeout) ?? null,
        ...(entry.pools === undefined ? {} : { pools: entry.pools }),
        ...extrasOf(entry),
      });
      addJobs(group, entry.jobs, own, remote, file);
      job = group;
    } else if (own.on !== undefined && own.on !== LOCAL_HOST) {
      // namesRemoteHost() saw this entry, so SSH was loaded.
      job = remoteJob(entry, own, remote!, file);
    } else {
      const label = entry.label ?? entry.id;
      job = new CommandJob(entry.run!, {
        ...(label === undefined ? {} : { label }),
        critical: entry.critical ?? true,
        forever: entry.forever ?? false,
        timeout: durationOf(entry.timeout) ?? null,
        shell: own.shell,
        ...(own.cwd === undefined ? {} : { cwd: own.cwd }),
        ...(own.env === undefined ? {} : { env: own.env }),
        capture: entry.capture ?? false,
        ...(entry.readyWhen === undefined ? {} : { readyWhen: entry.readyWhen }),
        ...extrasOf(entry),
      });
    }
    if (entry.id !== undefined) made.set(entry.id, job);
    pending.push([job, entry]);
    scheduler.add(job);
  }
  for (const [job, entry] of pending) {
    for (const id of ids(entry.requires)) {
      const required = made.get(id);
      if (required) job.requires(required);
    }
  }
}

/** The SshJob of a `run:` entry with `on:` (a name of the hosts inventory, or a target). */
function remoteJob(entry: JobEntry, own: Inherited, remote: Remote, file: string): SshJob {
  let node: SshNode;
  try {
    node = remote.hosts.node(own.on!, own.via);
  } catch (error) {
    throw new WorkflowError(
      file,
      `job ${entry.id ?? entry.label ?? "?"}: ${(error as Error).message}`,
    );
  }
  const label = entry.label ?? entry.id;
  try {
    return remote.ssh.remoteCommandJob(node, entry.run!, {
      ...(label === undefined ? {} : { label }),
      critical: entry.critical ?? true,
      forever: entry.forever ?? false,
      timeout: durationOf(entry.timeout) ?? null,
      ...(own.cwd === undefined ? {} : { cwd: own.cwd }),
      ...(own.env === undefined ? {} : { env: own.env }),
      capture: entry.capture ?? false,
      ...extrasOf(entry),
    });
  } catch (error) {
    // A bad env name or an out-of-range duration, said of the job it is on.
    throw new WorkflowError(
      file,
      `job ${entry.id ?? entry.label ?? "?"}: ${(error as Error).message}`,
    );
  }
}
