/**
 * What the command line was asked to do, and how it ends: shared by the
 * argument parser, the commands and the run.
 */

/** Exit statuses of the command line. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** A mistake in the command line itself. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The parsed command line. */
export interface Invocation {
  command: string;
  file: string;
  window?: number | undefined;
  timeout?: number | undefined;
  verbose: boolean;
  /** Without a terminal, leave out what the commands print. */
  quiet: boolean;
  ascii: boolean;
  plain: boolean;
  dryRun: boolean;
  details: boolean;
  output?: string | undefined;
  format?: string | undefined;
  /** Serve the browser view of the run. */
  ui?: boolean;
  /** Its port (0: any free one) and address. */
  port?: number | undefined;
  host?: string | undefined;
  /** Where to write the HTML report once the run is over. */
  report?: string | undefined;
}
