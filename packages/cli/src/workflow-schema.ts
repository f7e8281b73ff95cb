/**
 * The shape of a workflow file, as a zod schema. Semantic checks (ids,
 * requirements, cycles) come after it, in workflow-file.ts.
 */
import { z } from "zod";
import { DURATION_HINT, MAX_TIMEOUT_HINT, MAX_TIMEOUT_MS, parseDuration } from "./duration.js";

const text = (what: string) => z.string({ error: `expected ${what}` });
const flag = (name: string) => z.boolean({ error: `"${name}" must be true or false` });

/**
 * A duration no longer than a timer can wait (a longer one would expire at
 * once, and the core refuses it), `what` naming it in the message: 400
 * digits of hours are a mistake at their position, not Infinity.
 */
const durationOf = (what: string) =>
  z.string({ error: `expected ${DURATION_HINT}` }).superRefine((value, context) => {
    const ms = parseDuration(value);
    const problem =
      ms === undefined
        ? `expected ${DURATION_HINT}`
        : ms > MAX_TIMEOUT_MS
          ? `${what} must be ${MAX_TIMEOUT_HINT}`
          : undefined;
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem, input: value });
  });

const duration = durationOf("a delay");

/** A timeout: a duration no longer than a timer can wait. */
const timeout = durationOf("a timeout");

const window = z
  .number({ error: "expected a number of jobs (0 for no limit)" })
  .int({ error: "expected a whole number of jobs" })
  .min(0, { error: "expected a number of jobs >= 0 (0 for no limit)" });

const command = z.union(
  [
    // A blank line splits into no program at all.
    text("a command line").refine((line) => line.trim() !== "", { error: "the command is empty" }),
    z.array(text("an argument (a string)")).min(1, { error: "the argument list is empty" }),
  ],
  { error: "expected a command line (a string) or a list of arguments" },
);

const requires = z.union([text("a job id"), z.array(text("a job id"))], {
  error: "expected a job id or a list of job ids",
});

const environment = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean()], {
    error: "expected a string (or a number) as the value of an environment variable",
  }),
  { error: "expected a mapping of environment variables" },
);

/** The trigger rules, as jobs take them (see src/jobs/trigger.ts). */
export const TRIGGER_RULES = ["allDone", "allSuccess", "oneFailed", "noneFailed"] as const;

const trigger = z.enum(TRIGGER_RULES, {
  error: `expected one of ${TRIGGER_RULES.join(", ")}`,
});

const retries = z
  .number({ error: "expected a number of retries" })
  .int({ error: "expected a whole number of retries" })
  .min(0, { error: "expected a number of retries >= 0" });

/** `retry: 3`, or the policy with its backoff; durations as everywhere in the file. */
const retry = z.union(
  [
    retries,
    z.strictObject(
      {
        retries,
        delay: duration.optional(),
        factor: z
          .number({ error: "expected a number >= 1 (each wait is the previous one times it)" })
          .min(1, { error: "expected a number >= 1 (each wait is the previous one times it)" })
          .optional(),
        maxDelay: duration.optional(),
        jitter: z
          .union([z.boolean(), z.number().min(0).max(1)], {
            error: "expected true, false, or a fraction from 0 to 1",
          })
          .optional(),
      },
      { error: "expected a number of retries, or a mapping with retries:" },
    ),
  ],
  { error: "expected a number of retries, or a mapping with retries:" },
);

const weight = z
  .number({ error: "expected a number of window slots" })
  .int({ error: "expected a whole number of window slots" })
  .min(1, { error: "expected a number of window slots >= 1" });

const poolName = text("a pool name (a string)").min(1, { error: "the pool name is empty" });

const pools = z.record(
  z.string(),
  z
    .number({ error: "expected the number of slots of the pool" })
    .int({ error: "expected a whole number of slots" })
    .min(1, { error: "expected a number of slots >= 1" }),
  { error: "expected a mapping of pool names to their number of slots" },
);

const shell = z.union([z.boolean(), z.string()], {
  error: "expected true, false, or the path of a shell",
});

/** A host for on: and via:, a name of the hosts inventory or a target. */
const host = text("a host: a name of the hosts inventory, or [user@]host[:port]").min(1, {
  error: "the host is empty",
});

const gateways = z.union([host, z.array(host)], {
  error: "expected a gateway host, or a list of them (the nearest first)",
});

/** Keys shared by the top of the file, groups and jobs. */
const common = {
  label: text("a label (a string)").optional(),
  timeout: timeout.optional(),
  critical: flag("critical").optional(),
  shell: shell.optional(),
  cwd: text("a directory (a string)").optional(),
  env: environment.optional(),
  on: host.optional(),
  via: gateways.optional(),
};

/** Keys the top of the file, groups and jobs all accept. */
interface CommonKeys {
  label?: string | undefined;
  timeout?: string | undefined;
  critical?: boolean | undefined;
  shell?: boolean | string | undefined;
  cwd?: string | undefined;
  env?: Record<string, string | number | boolean> | undefined;
  /** The host the commands run on (`local`: here). */
  on?: string | undefined;
  /** The gateways on the way to it, the nearest first. */
  via?: string | string[] | undefined;
}

/** A job's `retry:` key: a number of retries, or a policy whose durations are text. */
export type RetrySpec =
  | number
  | {
      retries: number;
      delay?: string | undefined;
      factor?: number | undefined;
      maxDelay?: string | undefined;
      jitter?: boolean | number | undefined;
    };

/** One entry of a `jobs:` list: a command (`run`) or a nested group (`jobs`). */
export interface JobEntry extends CommonKeys {
  id?: string | undefined;
  run?: string | string[] | undefined;
  jobs?: JobEntry[] | undefined;
  requires?: string | string[] | undefined;
  forever?: boolean | undefined;
  window?: number | undefined;
  capture?: boolean | undefined;
  retry?: RetrySpec | undefined;
  trigger?: (typeof TRIGGER_RULES)[number] | undefined;
  weight?: number | undefined;
  pool?: string | undefined;
  readyWhen?: string | undefined;
  pools?: Record<string, number> | undefined;
}

/** The whole file. */
export interface WorkflowSpec extends CommonKeys {
  /** The path of a hosts inventory file, relative to the workflow file. */
  hosts?: string | undefined;
  window?: number | undefined;
  pools?: Record<string, number> | undefined;
  jobs: JobEntry[];
}

const jobsList = (): z.ZodType<JobEntry[]> =>
  z
    .array(jobEntry, { error: "expected a list of jobs" })
    .min(1, { error: "a group needs at least one job" });

const jobEntry: z.ZodType<JobEntry> = z.strictObject(
  {
    id: text("an id (a string)").min(1, { error: "the id is empty" }).optional(),
    ...common,
    run: command.optional(),
    get jobs() {
      return jobsList().optional();
    },
    requires: requires.optional(),
    forever: flag("forever").optional(),
    window: window.optional(),
    capture: flag("capture").optional(),
    retry: retry.optional(),
    trigger: trigger.optional(),
    weight: weight.optional(),
    pool: poolName.optional(),
    readyWhen: text("the text of an output line (a string)")
      .min(1, { error: "the readyWhen text is empty" })
      .optional(),
    pools: pools.optional(),
  },
  { error: "expected a job (a mapping with run: or jobs:)" },
);

/** The schema of a workflow file. */
export const workflowSchema: z.ZodType<WorkflowSpec> = z.strictObject(
  {
    ...common,
    hosts: text("the path of a hosts inventory file").optional(),
    window: window.optional(),
    pools: pools.optional(),
    jobs: z
      .array(jobEntry, { error: "expected a list of jobs" })
      .min(1, { error: "a workflow needs at least one job" }),
  },
  { error: "expected a mapping with a jobs: list" },
);

/** The keys a job entry accepts, for suggestions. */
export const JOB_KEYS: readonly string[] = [
  "id",
  "label",
  "run",
  "jobs",
  "requires",
  "critical",
  "forever",
  "timeout",
  "window",
  "shell",
  "cwd",
  "env",
  "capture",
  "retry",
  "trigger",
  "weight",
  "pool",
  "readyWhen",
  "pools",
  "on",
  "via",
];

/** The keys of a `retry:` mapping, for suggestions. */
export const RETRY_KEYS: readonly string[] = ["retries", "delay", "factor", "maxDelay", "jitter"];

/** The keys the top of a workflow file accepts, for suggestions. */
export const TOP_KEYS: readonly string[] = [
  "label",
  "window",
  "pools",
  "timeout",
  "critical",
  "shell",
  "cwd",
  "env",
  "hosts",
  "on",
  "via",
  "jobs",
];
