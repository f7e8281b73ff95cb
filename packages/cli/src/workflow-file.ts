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
import { type Node, parseDocument, visit } from "yaml";
import type { core } from "zod";
import {
  type Diagnostic,
  hasControl,
  linePosition,
  lineStarts,
  Suggester,
  visible,
  WorkflowError,
} from "./diagnostics.js";
import { parseDuration } from "./duration.js";
import {
  JsonSyntaxError,
  type Path,
  parseJson,
  type SourceTree,
  type Span,
  yamlTree,
} from "./source-tree.js";
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

/** A workflow file read and validated, ready to become schedulers. */
export interface WorkflowFile {
  file: string;
  spec: WorkflowSpec;
  /** Its text, for the code frames of mistakes found while building. */
  source?: string | undefined;
  /** Where the value at a path of the file is, for mistakes found while building. */
  where?: ((path: Path) => Omit<Diagnostic, "message">) | undefined;
}

/** Settings a group hands down to its jobs. */
interface Inherited {
  shell: boolean | string;
  cwd: string | undefined;
  env: Record<string, string> | undefined;
  on: string | undefined;
  via: string | string[] | undefined;
  /** Where the `on:` in force was set, for mistakes about its host. */
  onPath: Path;
}

/**
 * How far a YAML file's aliases may expand, in the yaml library's measure
 * (uses of an anchor times the aliases inside it): far more than a workflow
 * needs, and an alias bomb ("billion laughs") is refused before it takes the
 * memory. Aliases of content without aliases inside do not count.
 */
export const MAX_ALIAS_COUNT = 100;

/** How many cycles a file's report spells out; a graph of many more gets the first ones. */
const REPORTED_CYCLES = 20;

/** How many jobs of a long cycle its message names. */
const CYCLE_SHOWN = 5;

/** A name from the file, cut short for a message: a million-character id must not fill the terminal. */
function short(name: string): string {
  return name.length > 60 ? `${name.slice(0, 60)}…` : name;
}

class Locator {
  readonly #tree: SourceTree;
  readonly #starts: readonly number[];
  readonly diagnostics: Diagnostic[] = [];
  readonly #seen = new Set<string>();
  /** Suggestions for the whole file share one budget of work. */
  readonly suggester = new Suggester();
  /** Cycles spelled out so far. */
  cycles = 0;

  constructor(tree: SourceTree, starts: readonly number[]) {
    this.#tree = tree;
    this.#starts = starts;
  }

  /** The value at `path`, or the nearest enclosing one that exists. */
  node(path: Path): Span | undefined {
    for (let length = path.length; length >= 0; length--) {
      const found = this.#tree.value(path.slice(0, length));
      if (found) return found;
    }
    return undefined;
  }

  /** The key `key` in the mapping at `path`. */
  keyNode(path: Path, key: string): Span | undefined {
    return this.#tree.key(path, key);
  }

  /** Where `span` is (at `offset` characters into it, for scalars), underlined to its end or its line's. */
  position(span: Span | undefined, offset = 0, length?: number): Omit<Diagnostic, "message"> {
    const start = (span?.start ?? 0) + offset;
    const end = span?.end ?? start + 1;
    const { line, column } = linePosition(this.#starts, start);
    const lineEnd = (this.#starts[line] ?? Number.POSITIVE_INFINITY) - 1;
    return { line, column, length: length ?? Math.max(1, Math.min(end, lineEnd) - start) };
  }

  /** Records a mistake at `span` (at `offset` characters into it, for scalars). */
  add(message: string, span: Span | undefined, offset = 0, length?: number): void {
    const position = this.position(span, offset, length);
    const key = `${position.line}:${position.column}:${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.diagnostics.push({ message, ...position });
  }

  /** The line a span starts on. */
  lineOf(span: Span | undefined): number {
    return linePosition(this.#starts, span?.start ?? 0).line;
  }

  addAt(message: string, path: Path): void {
    this.add(message, this.node(path));
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

/**
 * Validates the text of a workflow file; throws a {@link WorkflowError}
 * listing every mistake. A `.json` file is read as strict JSON, anything else
 * as YAML, unless `format` says.
 */
export function parseWorkflow(
  file: string,
  source: string,
  format: "yaml" | "json" = /\.json$/i.test(file) ? "json" : "yaml",
): WorkflowFile {
  const starts = lineStarts(source);
  const { data, tree } =
    format === "json" ? readJson(file, source, starts) : readYaml(file, source, starts);
  const locator = new Locator(tree, starts);
  const parsed = workflowSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportIssue(locator, issue, [], data);
  }
  checkSemantics(locator, data);
  if (locator.diagnostics.length > 0 || !parsed.success) {
    throw new WorkflowError(file, "the workflow has mistakes", locator.diagnostics, source);
  }
  return {
    file,
    spec: parsed.data,
    source,
    where: (path) => locator.position(locator.node(path)),
  };
}

function readJson(
  file: string,
  source: string,
  starts: readonly number[],
): { data: unknown; tree: SourceTree } {
  try {
    const { value, tree } = parseJson(source);
    return { data: value, tree };
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const { line, column } = linePosition(starts, error.offset);
    throw new WorkflowError(
      file,
      "the file is not valid JSON",
      [{ message: error.message, line, column, length: error.length }],
      source,
    );
  }
}

/** Parser errors of one kind are reported this many times at most (a deep file repeats them). */
const SAME_SYNTAX_ERROR = 3;

function readYaml(
  file: string,
  source: string,
  starts: readonly number[],
): { data: unknown; tree: SourceTree } {
  const doc = parseDocument(source, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const diagnostics: Diagnostic[] = [];
    const times = new Map<string, number>();
    for (const error of doc.errors) {
      // The library's words for this one speak to programmers.
      const message =
        error.code === "MULTIPLE_DOCS"
          ? "a second YAML document starts here: a workflow file holds one"
          : error.message.split("\n")[0]!;
      const seen = times.get(message) ?? 0;
      times.set(message, seen + 1);
      if (seen >= SAME_SYNTAX_ERROR) continue;
      // The parser's own offsets: linePos is only set with prettyErrors.
      const [start, end] = error.pos;
      const { line, column } = linePosition(starts, start);
      const lineEnd = (starts[line] ?? source.length + 1) - 1;
      const length = Math.max(1, Math.min(end, lineEnd) - start);
      diagnostics.push({ message, line, column, length });
    }
    throw new WorkflowError(file, "the file cannot be parsed", diagnostics, source);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // The yaml library throws a ReferenceError when aliases expand too much.
    if (!(error instanceof ReferenceError)) throw error;
    const bomb = /excessive alias count/i.test(error.message);
    let first: Node | undefined;
    visit(doc, {
      Alias(_, node) {
        first = node;
        return visit.BREAK;
      },
    });
    const range = first?.range ?? [0, 1];
    const { line, column } = linePosition(starts, range[0]);
    throw new WorkflowError(
      file,
      "the file cannot be parsed",
      [
        {
          message: bomb
            ? "the aliases (*name) of this file expand too much: refused as an alias bomb"
            : error.message,
          line,
          column,
          length: Math.max(1, range[1] - range[0]),
        },
      ],
      source,
    );
  }
  return { data, tree: yamlTree(doc) };
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
          `unknown key "${short(key)}" ${where}${locator.suggester.suggestion(key, known)}`,
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
            `duplicate id "${short(id)}": already the id of the job on line ${line} (ids are unique in a file)`,
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
        locator.add(
          `unknown requirement "${short(id)}": no job has this id${locator.suggester.suggestion(id, allIds)}`,
          at,
        );
      } else if (target === info) {
        locator.add(`job "${short(id)}" requires itself`, at);
      } else if (target.group !== info.group) {
        locator.add(
          `"${short(id)}" is in another group: a job can only require jobs of its own group ` +
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
      `unknown pool "${short(pool)}": declare it under pools: in this group or one that holds it` +
        locator.suggester.suggestion(pool, scope.limits.keys()),
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
    const span = locator.node(path);
    locator.add(error.message, span, error.index + (span?.quoted ? 1 : 0), 1);
  }
}

/**
 * Reports cycles among a group's jobs, as `a → b → c → a`, at the requires:
 * of the job that closes each. The walk is depth-first with a stack of its
 * own, not the call stack, so that a chain of any length is checked.
 */
function reportCycles(locator: Locator, members: EntryInfo[], byId: Map<string, EntryInfo>): void {
  const inGroup = new Set(members);
  /** A job's position on the stack while it is there, -1 once finished. */
  const state = new Map<EntryInfo, number>();
  const stack: EntryInfo[] = [];
  const required: string[][] = [];
  const cursor: number[] = [];
  const push = (info: EntryInfo): void => {
    state.set(info, stack.length);
    stack.push(info);
    required.push(ids(info.entry.requires));
    cursor.push(0);
  };
  for (const root of members) {
    if (state.has(root)) continue;
    push(root);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const info = stack[top]!;
      const list = required[top]!;
      if (cursor[top]! >= list.length) {
        state.set(info, -1);
        stack.pop();
        required.pop();
        cursor.pop();
        continue;
      }
      const next = byId.get(list[cursor[top]!++]!);
      if (next === undefined || next === info || !inGroup.has(next)) continue;
      const at = state.get(next);
      if (at === undefined) push(next);
      else if (at >= 0 && locator.cycles < REPORTED_CYCLES) {
        locator.cycles++;
        // Each job on the stack requires the next; shown in the direction of
        // the work, each job before the one that requires it.
        const order = stack
          .slice(at)
          .map((member) => short(member.id!))
          .reverse();
        const text =
          order.length <= CYCLE_SHOWN + 2
            ? [...order, order[0]].join(" → ")
            : `${[...order.slice(0, CYCLE_SHOWN), "…", order[order.length - 1], order[0]].join(" → ")} (a cycle of ${order.length} jobs)`;
        locator.add(
          `cycle in requires: ${text}`,
          locator.keyNode(info.path, "requires") ?? locator.node(info.path),
        );
      }
    }
  }
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
  path: Path,
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
    onPath: entry.on === undefined ? parent.onPath : [...path, "on"],
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

/**
 * The label of an entry, as the views will show it: the file's text must not
 * drive the terminal while the jobs run, so its control characters are
 * escaped here, once, for every view.
 */
function labelOf(entry: JobEntry): string | undefined {
  const label = entry.label ?? entry.id;
  return label === undefined ? undefined : visible(label);
}

/** Whether a job of `entries` runs on a remote host (`on:` other than local), or `on` is already remote. */
function namesRemoteHost(entries: readonly JobEntry[], on: string | undefined): boolean {
  // A stack of its own rather than recursion: groups may nest deep.
  const pending: [readonly JobEntry[], string | undefined][] = [[entries, on]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [list, inherited] = next;
    for (const entry of list) {
      const own = entry.on ?? inherited;
      if (entry.jobs !== undefined) pending.push([entry.jobs, own]);
      else if (own !== undefined && own !== LOCAL_HOST) return true;
    }
  }
  return false;
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
    { shell: false, cwd: undefined, env: undefined, on: undefined, via: undefined, onPath: [] },
    [],
    spec,
  );
  let remote: Remote | undefined;
  if (spec.hosts !== undefined || namesRemoteHost(spec.jobs, spec.on)) {
    const ssh = await loadSsh();
    try {
      remote = { ssh, hosts: ssh.workflowHosts(workflow.file, spec.hosts) };
    } catch (error) {
      throw buildError(workflow, (error as Error).message, ["hosts"]);
    }
  }
  const scheduler = new Scheduler({
    label: visible(spec.label ?? workflow.file),
    critical: spec.critical ?? true,
    jobsWindow: overrides.window ?? spec.window ?? null,
    timeout: overrides.timeout ?? durationOf(spec.timeout) ?? null,
    ...(spec.pools === undefined ? {} : { pools: spec.pools }),
  });
  addJobs(scheduler, spec.jobs, ["jobs"], top, { workflow, remote, keys: new Set() }, "");
  return scheduler;
}

/** A mistake found while building, at `path` in the file when its positions are known. */
function buildError(workflow: WorkflowFile, message: string, path: Path): WorkflowError {
  if (workflow.where === undefined) return new WorkflowError(workflow.file, message);
  return new WorkflowError(
    workflow.file,
    "the workflow has mistakes",
    [{ message, ...workflow.where(path) }],
    workflow.source,
  );
}

/** The SSH package and the workflow's hosts, for a workflow that names hosts. */
interface Remote {
  ssh: SshModule;
  hosts: SshInventory;
}

/** What every group of a workflow is built with. */
interface Building {
  workflow: WorkflowFile;
  /** Set when the workflow names hosts. */
  remote: Remote | undefined;
  /** The journal keys given so far, to keep them unique. */
  keys: Set<string>;
}

function addJobs(
  scheduler: Scheduler,
  entries: readonly JobEntry[],
  listPath: Path,
  settings: Inherited,
  building: Building,
  where: string,
): void {
  const made = new Map<string, AbstractJob>();
  const pending: [AbstractJob, JobEntry][] = [];
  for (const [index, entry] of entries.entries()) {
    const path = [...listPath, index];
    const own = inherit(settings, path, entry);
    const key = keyOf(entry, building.keys, `${where}${index + 1}`);
    let job: AbstractJob;
    if (entry.jobs !== undefined) {
      const group = new Scheduler({
        label: visible(entry.label ?? entry.id ?? "group"),
        critical: entry.critical ?? true,
        forever: entry.forever ?? false,
        jobsWindow: entry.window ?? null,
        timeout: durationOf(entry.timeout) ?? null,
        ...(entry.pools === undefined ? {} : { pools: entry.pools }),
        key,
        ...extrasOf(entry),
      });
      addJobs(group, entry.jobs, [...path, "jobs"], own, building, `${key}/`);
      job = group;
    } else if (own.on !== undefined && own.on !== LOCAL_HOST) {
      job = remoteJob(entry, own, building, path, key);
    } else {
      const label = labelOf(entry);
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
        key,
        ...extrasOf(entry),
      });
    }
    // Without a label, a job shows its command line: escaped too, if need be.
    const shown = job.label ?? job.textLabel();
    if (shown !== undefined && hasControl(shown)) job.label = visible(shown);
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
/**
 * The key a job has in the run journal: its id, else its label, else its
 * position (`3`, `tests/2`); made unique with `#2`, `#3` where labels repeat.
 */
function keyOf(entry: JobEntry, keys: Set<string>, position: string): string {
  const base = entry.id ?? entry.label ?? position;
  let key = base;
  for (let n = 2; keys.has(key); n++) key = `${base}#${n}`;
  keys.add(key);
  return key;
}

function remoteJob(
  entry: JobEntry,
  own: Inherited,
  building: Building,
  path: Path,
  key: string,
): SshJob {
  let node: SshNode;
  try {
    // namesRemoteHost() saw this entry, so SSH was loaded.
    node = building.remote!.hosts.node(own.on!, own.via);
  } catch (error) {
    const name = entry.id ?? entry.label;
    const message = (error as Error).message;
    throw buildError(
      building.workflow,
      name === undefined ? message : `job ${short(name)}: ${message}`,
      own.onPath,
    );
  }
  const label = labelOf(entry);
  try {
    return building.remote!.ssh.remoteCommandJob(node, entry.run!, {
      ...(label === undefined ? {} : { label }),
      critical: entry.critical ?? true,
      forever: entry.forever ?? false,
      timeout: durationOf(entry.timeout) ?? null,
      ...(own.cwd === undefined ? {} : { cwd: own.cwd }),
      ...(own.env === undefined ? {} : { env: own.env }),
      capture: entry.capture ?? false,
      key,
      ...extrasOf(entry),
    });
  } catch (error) {
    // A bad env name or an out-of-range duration, said of the job it is on.
    const name = entry.id ?? entry.label;
    const message = (error as Error).message;
    throw buildError(
      building.workflow,
      name === undefined ? message : `job ${short(name)}: ${message}`,
      path,
    );
  }
}
