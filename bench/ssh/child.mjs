/**
 * One measured asyncjobs run of the SSH bench, in a fresh process: the same
 * short command on every host, twice over the same nodes (the second round
 * reuses the connections), then every connection closed. Prints one JSON
 * line. Times are performance.now() readings, i.e. milliseconds since this
 * process started, so that start-up counts as it does for pssh.
 *
 *   node bench/ssh/child.mjs HOSTS_JSON KEY_FILE WINDOW
 */
import { readFileSync } from "node:fs";
import { captureFormatter, fanOut, SshNode } from "../../packages/ssh/dist/index.js";

const [hostsFile, keyFile, windowText] = process.argv.slice(2);
const hosts = JSON.parse(readFileSync(hostsFile, "utf8"));
const window = Number(windowText);
const nodes = hosts.map(
  (target) =>
    new SshNode(target, {
      keyFile,
      connectTimeout: 60_000,
      // As pssh is run: no host key checking (and nothing written to ~/.ssh/known_hosts).
      hostKeyPolicy: "off",
    }),
);
const options = { window, formatter: captureFormatter() };
const okCount = (report) => report.rows.filter((row) => row.ok && row.result === "ok").length;

const start = performance.now();
const first = await fanOut(nodes, "echo ok", options);
const firstEnd = performance.now();
const second = await fanOut(nodes, "echo ok", options);
const secondEnd = performance.now();
await SshNode.closeAll();
process.stdout.write(
  `${JSON.stringify({
    ready: start,
    firstEnd,
    first: firstEnd - start,
    second: secondEnd - firstEnd,
    okFirst: okCount(first),
    okSecond: okCount(second),
    errors: first.failed
      .concat(second.failed)
      .slice(0, 3)
      .map((row) => String(row.error)),
    maxRssKiB: process.resourceUsage().maxRSS,
  })}\n`,
);
