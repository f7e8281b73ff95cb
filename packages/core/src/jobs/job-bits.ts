/**
 * The bits of `AbstractJob._bits`, in one place: the job's own flags, and
 * the mark requirements.ts sets for a moment while it checks a long list of
 * requirements for repeats.
 */

export const CRITICAL = 1;
export const FOREVER = 2;
export const RAISED = 4;
/** Set on a job only while addRequirements() walks a list holding it (see requirements.ts). */
export const LISTED = 8;
