/**
 * SSH support, loaded only for a workflow that needs it: `@asyncjobs/ssh`
 * pulls in ssh2 and its crypto, about 370 ms of start-up that a local
 * workflow (and `--help`) should not pay.
 */

/** The SSH package's module. */
export type SshModule = typeof import("@asyncjobs/ssh");

/** The value of `on:` that means "here", to run a job locally inside a remote group. */
export const LOCAL_HOST = "local";

/** Imports `@asyncjobs/ssh`, once. */
export function loadSsh(): Promise<SshModule> {
  return import("@asyncjobs/ssh");
}

/**
 * Closes the SSH connections of the run, if SSH was loaded at all (by a
 * workflow file that names hosts, or by a TypeScript workflow that imports
 * the package itself): open connections would keep the process alive.
 * `@asyncjobs/ssh` publishes its `closeAll` under a global symbol when it
 * loads, so that this needs no import.
 */
export async function closeSshConnections(): Promise<void> {
  const closeAll = (globalThis as { [key: symbol]: unknown })[Symbol.for("asyncjobs.ssh.closeAll")];
  if (typeof closeAll === "function") await (closeAll as () => Promise<void>)();
}
