/**
 * Entry of the runtime bundle: runs the core subset, prints one line per test
 * and a summary, then reports the outcome the way the runtime understands
 * (an exit code in Node, Deno and Bun; a global the browser page reads).
 */
import "./core-subset.js";
import { runAll, type Summary } from "./harness.js";

interface Host {
  Deno?: { exit(code: number): never };
  process?: { exitCode?: number };
  asyncjobsRuntimeTests?: Promise<Summary>;
}

const host = globalThis as Host;

const outcome = runAll((line) => console.log(line)).then((summary) => {
  console.log(`# ${summary.passed} passed, ${summary.failed} failed`);
  const code = summary.failed === 0 && summary.passed > 0 ? 0 : 1;
  if (host.Deno) host.Deno.exit(code);
  else if (host.process) host.process.exitCode = code;
  return summary;
});
host.asyncjobsRuntimeTests = outcome;
