/**
 * A job that prints, and optionally sleeps: handy in tutorials and tests.
 */
import {
  checkDuration,
  checkString,
  rejectUnknownOptions,
  splitTrailingOptions,
} from "../util/options.js";
import { writeOut } from "../util/output.js";
import { sleep } from "../util/sleep.js";
import { AbstractJob, JOB_OPTION_NAMES, type JobOptions } from "./abstract-job.js";
import type { JobContext } from "./context.js";

/** Options of {@link PrintJob}. */
export interface PrintJobOptions extends JobOptions {
  /** Milliseconds to sleep after printing. */
  sleep?: number | null;
  /** A line printed before the messages, not part of `details()`. */
  banner?: string | null;
}

const PRINT_JOB_OPTION_NAMES: ReadonlySet<string> = new Set([
  ...JOB_OPTION_NAMES,
  "sleep",
  "banner",
]);

function textOf(message: unknown): string {
  return typeof message === "string" ? message : String(message);
}

/**
 * Prints its messages (space-separated, like `console.log`), then sleeps for
 * `sleep` milliseconds if asked to.
 *
 * @example
 * ```ts
 * new PrintJob("hello", "world", { sleep: 100, label: "greet" });
 * ```
 */
export class PrintJob extends AbstractJob<void> {
  /** The messages this job prints. */
  readonly messages: readonly unknown[];
  /** Milliseconds to sleep after printing, or null. */
  readonly sleep: number | null;
  /** The line printed before the messages, if any. */
  readonly banner: string | undefined;

  constructor(...messagesThenOptions: [...unknown[], PrintJobOptions] | unknown[]) {
    const { items, options } = splitTrailingOptions<PrintJobOptions>(messagesThenOptions);
    rejectUnknownOptions("PrintJob()", options, PRINT_JOB_OPTION_NAMES);
    const { sleep: sleepMs, banner, ...jobOptions } = options;
    // Checked before super(), which may add the job to a scheduler: a bad
    // option must leave that scheduler as it was.
    const sleep = checkDuration("PrintJob()", "sleep", sleepMs);
    const checkedBanner = checkString("PrintJob()", "banner", banner);
    super(jobOptions);
    this.messages = items;
    this.sleep = sleep;
    this.banner = checkedBanner;
  }

  /** Prints the banner (if any) and the messages, then sleeps `sleep` milliseconds (abortably). */
  override async run(context: JobContext): Promise<void> {
    if (this.banner !== undefined) writeOut(`${this.banner}\n`);
    writeOut(`${this.messages.map(textOf).join(" ")}\n`);
    if (this.sleep !== null && this.sleep > 0) await sleep(this.sleep, context.signal);
  }

  /** `print <the messages>`, cut after 40 characters. */
  override textLabel(): string {
    // Unset while AbstractJob's constructor names the job in an error message.
    const text = (this.messages ?? []).map(textOf).join(" ");
    return `print ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
  }

  /** The messages, and the sleep that follows them. */
  override details(): string {
    const text = this.messages.map(textOf).join(" ");
    return this.sleep ? `${text} (then sleep ${this.sleep} ms)` : text;
  }
}
