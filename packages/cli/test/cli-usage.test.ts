/**
 * Usage mistakes say what is wrong, the option likely meant and where the
 * help is, all in the same words (not parseArgs' own); the help lists every
 * key a workflow file takes.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseCommandLine } from "../src/cli.js";
import { hasControl } from "../src/diagnostics.js";
import { MAIN_HELP } from "../src/help.js";
import { UsageError } from "../src/invocation.js";
import { JOB_KEYS, TOP_KEYS } from "../src/workflow-schema.js";
import { cli } from "./cli-program.js";

const _ROOT = new URL("../../../", import.meta.url).pathname;

function usageMessage(...argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (error) {
    assert.ok(error instanceof UsageError, `not a UsageError: ${(error as Error).stack}`);
    return error.message;
  }
  assert.fail(`accepted: ${argv.join(" ")}`);
}

describe("usage mistakes", () => {
  test("an unknown option names the option likely meant, or those the command takes", () => {
    // Every option of run, and no other: the list follows the command's own.
    assert.match(
      usageMessage("run", "x.yaml", "--bogus"),
      /^unknown option --bogus; the options of run are --window, --timeout, --verbose, (--[a-z-]+, )*--dry-run, (--[a-z-]+, )*--help$/,
    );
    assert.doesNotMatch(usageMessage("run", "x.yaml", "--bogus"), /--details|--output/);
    assert.equal(
      usageMessage("run", "x.yaml", "--windwo", "3"),
      "unknown option --windwo (did you mean --window?)",
    );
    assert.equal(
      usageMessage("list", "x.yaml", "--dryrun"),
      "unknown option --dryrun; the options of list are --details, --ascii, --help",
    );
    assert.equal(
      usageMessage("--dryrun", "run", "x.yaml"),
      "unknown option --dryrun (did you mean --dry-run?)",
    );
    assert.match(usageMessage("check", "x.yaml", "-x"), /^unknown option -x; the options of check/);
    assert.match(usageMessage("--bogus=1"), /^unknown option --bogus; the options are --help/);
  });

  test("an option without its value, or with one it does not take", () => {
    assert.equal(
      usageMessage("run", "x.yaml", "--window"),
      "option --window needs a value, as in --window=VALUE or --window VALUE",
    );
    assert.equal(usageMessage("run", "x.yaml", "--verbose=1"), "option --verbose takes no value");
  });

  test("a timeout too long for a timer", () => {
    assert.equal(
      usageMessage("run", "x.yaml", "--timeout", "1000h"),
      '--timeout must be at most 596h31m (2^31 - 1 ms, the longest a timer waits), got "1000h"',
    );
    assert.match(usageMessage("run", "x.yaml", "--timeout", "30"), /^--timeout expects a duration/);
  });

  test("the command line prints it as every usage mistake, escaped, and exits 2", async () => {
    const bogus = await cli("run", "x.yaml", "--bogus");
    assert.equal(bogus.code, 2);
    assert.match(
      bogus.stderr,
      /^asyncjobs: unknown option --bogus; the options of run are --window, [^\n]*\nRun "asyncjobs --help" for usage\.\n$/,
    );
    const escaped = await cli("\x1b[2Jrun", "x.yaml");
    assert.equal(escaped.code, 2);
    assert.equal(hasControl(escaped.stderr), false);
    assert.match(escaped.stderr, /unknown command "\\x1b\[2Jrun"/);
  });
});

describe("--help", () => {
  test("lists every key of a job and of the top of the file", () => {
    const start = MAIN_HELP.indexOf("Keys of a job:");
    assert.ok(start > 0);
    const paragraph = MAIN_HELP.slice(start, MAIN_HELP.indexOf("\n\n", start));
    const words = new Set(paragraph.match(/[A-Za-z]+/g));
    const missing = [...new Set([...JOB_KEYS, ...TOP_KEYS])].filter((key) => !words.has(key));
    assert.deepEqual(missing, []);
  });
});
