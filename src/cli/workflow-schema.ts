/**
 * The shape of a workflow file, as a zod schema. Semantic checks (ids,
 * requirements, cycles) come after it, in workflow-file.ts.
 */
import { z } from "zod";
import { DURATION_HINT, parseDuration } from "./duration.js";

const text = (what: string) => z.string({ error: `expected ${what}` });
const flag = (name: string) => z.boolean({ error: `"${name}" must be true or false` });

const duration = z
  .string({ error: `expected ${DURATION_HINT}` })
  .refine((value) => parseDuration(value) !== undefined, { error: `expected ${DURATION_HINT}` });

const window = z
  .number({ error: "expected a number of jobs (0 for no limit)" })
  .int({ error: "expected a whole number of jobs" })
  .min(0, { error: "expected a number of jobs >= 0 (0 for no limit)" });

const command = z.union(
  [
    text("a command line").min(1, { error: "the command is empty" }),
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

const shell = z.union([z.boolean(), z.string()], {
  error: "expected true, false, or the path of a shell",
});

/** Keys shared by the top of the file, groups and jobs. */
const common = {
  label: text("a label (a string)").optional(),
  timeout: duration.optional(),
  critical: flag("critical").optional(),
  shell: shell.optional(),
  cwd: text("a directory (a string)").optional(),
  env: environment.optional(),
};

/** Keys the top of the file, groups and jobs all accept. */
interface CommonKeys {
  label?: string | undefined;
  timeout?: string | undefined;
  critical?: boolean | undefined;
  shell?: boolean | string | undefined;
  cwd?: string | undefined;
  env?: Record<string, string | number | boolean> | undefined;
}

/** One entry of a `jobs:` list: a command (`run`) or a nested group (`jobs`). */
export interface JobEntry extends CommonKeys {
  id?: string | undefined;
  run?: string | string[] | undefined;
  jobs?: JobEntry[] | undefined;
  requires?: string | string[] | undefined;
  forever?: boolean | undefined;
  window?: number | undefined;
  capture?: boolean | undefined;
}

/** The whole file. */
export interface WorkflowSpec extends CommonKeys {
  window?: number | undefined;
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
  },
  { error: "expected a job (a mapping with run: or jobs:)" },
);

/** The schema of a workflow file. */
export const workflowSchema: z.ZodType<WorkflowSpec> = z.strictObject(
  {
    ...common,
    window: window.optional(),
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
];

/** The keys the top of a workflow file accepts, for suggestions. */
export const TOP_KEYS: readonly string[] = [
  "label",
  "window",
  "timeout",
  "critical",
  "shell",
  "cwd",
  "env",
  "jobs",
];
