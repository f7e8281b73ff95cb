/**
 * CommandJob's `readyWhen`: a program that keeps running (a server) makes
 * its dependents start once it prints a given line, and is terminated,
 * with its whole process group, once they are done.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { CommandJob, type OutputStream } from "@asyncjobs/node";
import { Job, PureScheduler } from "asyncjobs";

/**
 * A service: starts a helper process of its own (in its process group),
 * prints a few lines on the way, then says it listens, with the pids of
 * the group, on `stream`, and runs until it is terminated.
 */
function serviceScript(stream: "log" | "error"): string {
  return [
    "const helper = require('node:child_process').spawn(process.execPath,",
    "  ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
    "console.log('booting');",
    "setTimeout(() => {",
    "  console.log('loading routes');",
    `  console.${stream}('listening on 127.0.0.1 ' + JSON.stringify({ pgid: process.pid, helper: helper.pid }));`,
    "}, 50);",
    "setInterval(() => {}, 1000);",
  ].join("\n");
}

/** Processes of group `pgid` that are alive (zombies, dead and waiting to be reaped, do not count). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z") members.push(Number(entry));
  }
  return members;
}

/** Polls, with a generous deadline, until group `pgid` has no live member. */
async function groupGone(pgid: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (groupMembers(pgid).length > 0) {
    if (Date.now() > deadline) return false;
    await delay(20);
  }
  return true;
}

interface Seen {
  lines: string[];
  output: (line: string, stream: OutputStream) => void;
}

function recorder(): Seen {
  const lines: string[] = [];
  return { lines, output: (line, stream) => lines.push(`${stream}: ${line}`) };
}

describe("CommandJob readyWhen", { skip: process.platform !== "linux" }, () => {
  for (const [name, readyWhen, stream] of [
    ["a text on stdout", "listening on", "log"],
    ["a pattern on stderr", /^listening on 127\.0\.0\.1 \{/, "error"],
  ] as const) {
    test(`${name}: dependents start after the line, the service is terminated at the end`, async () => {
      const seen = recorder();
      const service = new CommandJob([process.execPath, "-e", serviceScript(stream)], {
        label: "server",
        forever: true,
        readyWhen,
        output: seen.output,
      });
      const outputAtStart: string[][] = [];
      const client = (label: string) =>
        new Job(
          () => {
            outputAtStart.push([...seen.lines]);
            return label;
          },
          { label, required: service },
        );
      const first = client("first request");
      const second = client("second request");
      const scheduler = new PureScheduler(service, first, second);
      const events: string[] = [];
      for (const type of ["job:ready", "job:started", "job:cancelled"] as const) {
        scheduler.events.addEventListener(type, (event) => {
          events.push(`${type} ${event.job.label}`);
        });
      }

      assert.equal(await scheduler.run(), true);
      assert.equal(first.result(), "first request");
      assert.equal(second.result(), "second request");
      assert.equal(outputAtStart.length, 2);
      for (const lines of outputAtStart) {
        assert.ok(
          lines.some((line) =>
            line.startsWith(`std${stream === "log" ? "out" : "err"}: listening`),
          ),
          `a client started before the service said it listens: ${lines.join(" | ")}`,
        );
      }
      assert.deepEqual(
        events.filter((event) => !event.startsWith("job:started")),
        ["job:ready server", "job:cancelled server"],
      );
      assert.ok(events.indexOf("job:ready server") < events.indexOf("job:started first request"));
      assert.equal(service.isCancelled(), true);

      const listening = seen.lines.find((line) => line.includes("listening"))!;
      const pids = JSON.parse(listening.slice(listening.indexOf("{"))) as {
        pgid: number;
        helper: number;
      };
      assert.equal(await groupGone(pids.pgid), true, "the service's process group is gone");
      assert.equal(CommandJob.running, 0);
    });
  }

  test("a service that exits before its line is seen lets its dependents start once done", async () => {
    const service = new CommandJob([process.execPath, "-e", "console.log('no server today')"], {
      label: "short",
      readyWhen: "listening",
      output: () => {},
    });
    const after = new Job(() => "ran", { required: service });
    const scheduler = new PureScheduler(service, after);
    let readies = 0;
    scheduler.events.addEventListener("job:ready", () => readies++);
    assert.equal(await scheduler.run(), true);
    assert.equal(after.result(), "ran");
    assert.equal(readies, 0);
  });

  test("is validated, and a pattern's g and y flags do not make matching stateful", () => {
    assert.throws(
      () => new CommandJob("true", { readyWhen: 3 as never }),
      /"readyWhen" must be a non-empty string or a RegExp, got/,
    );
    assert.throws(() => new CommandJob("true", { readyWhen: "" }), /"readyWhen"/);
    const job = new CommandJob("true", { readyWhen: /ready/gi });
    assert.equal((job.readyWhen as RegExp).flags, "i");
    assert.equal(new CommandJob("true").readyWhen, undefined);
  });
});
