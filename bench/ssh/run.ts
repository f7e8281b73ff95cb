/**
 * The SSH fan-out bench: one short command on 100 hosts (10 network
 * namespaces × 10 sshd ports), under windows of 10 and 50, with asyncjobs'
 * fanOut and with Debian's parallel-ssh (pssh) on the same hosts in the
 * same run, alternating which goes first. Each run is a fresh process;
 * wall time and the peak memory of its whole process tree (sampled from
 * /proc) are recorded, and asyncjobs also times a second round over the
 * same nodes, which reuses the connections. Medians of `--runs` runs are
 * printed and written to bench/ssh/RESULTS.md.
 *
 *   npm run bench:ssh                  (builds first; needs root, ip, sshd; pssh optional)
 *   npm run bench:ssh -- --runs 5 --windows 10,50,100
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { makeTestKeys } from "../../packages/ssh/test/ssh/keys.js";
import { NetLab, netnsUnavailable } from "../../packages/ssh/test/ssh/netns.js";
import { Sshd, sshdUnavailable } from "../../packages/ssh/test/ssh/sshd.js";

const here = dirname(fileURLToPath(import.meta.url));
const PSSH = "/usr/bin/parallel-ssh";

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    windows: { type: "string", default: "10,50" },
    namespaces: { type: "string", default: "10" },
    ports: { type: "string", default: "10" },
  },
});
const runs = Number(flags.runs);
const windows = flags.windows.split(",").map(Number);
const namespaceCount = Number(flags.namespaces);
const portCount = Number(flags.ports);

interface Sample {
  wallMs: number;
  peakRssKiB: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

/** The pids of a process and all its descendants, through /proc/<pid>/task/<tid>/children. */
async function tree(pid: number): Promise<number[]> {
  const found = [pid];
  for (let index = 0; index < found.length; index++) {
    const member = found[index]!;
    const tasks = await readdir(`/proc/${member}/task`).catch(() => [] as string[]);
    for (const task of tasks) {
      const text = await readFile(`/proc/${member}/task/${task}/children`, "utf8").catch(() => "");
      for (const child of text.split(" ")) if (child.trim() !== "") found.push(Number(child));
    }
  }
  return found;
}

/** Resident memory of a process tree, summed over its processes. */
async function treeRssKiB(pid: number): Promise<number> {
  let total = 0;
  for (const member of await tree(pid)) {
    try {
      const status = await readFile(`/proc/${member}/status`, "utf8");
      const match = /VmRSS:\s+(\d+) kB/.exec(status);
      if (match) total += Number(match[1]);
    } catch {
      // Gone already.
    }
  }
  return total;
}

/** Runs a program, timing it and sampling its tree's memory every 20 ms. */
function measure(file: string, args: string[]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    let peak = 0;
    let sampling = false;
    const timer = setInterval(async () => {
      if (sampling || child.pid === undefined) return;
      sampling = true;
      peak = Math.max(peak, await treeRssKiB(child.pid));
      sampling = false;
    }, 20);
    child.once("error", reject);
    child.once("close", (code) => {
      clearInterval(timer);
      resolve({ wallMs: performance.now() - started, peakRssKiB: peak, stdout, stderr, code });
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const reason = sshdUnavailable() ?? (await netnsUnavailable());
  if (reason !== undefined) {
    console.error(`bench:ssh cannot run here: ${reason}`);
    process.exitCode = 1;
    return;
  }
  const havePssh = await measure(PSSH, ["--version"]).then(
    (sample) => sample.code === 0,
    () => false,
  );
  if (!havePssh) console.log("parallel-ssh is missing (apt-get install pssh): asyncjobs only");

  const keys = await makeTestKeys("asyncjobs-bench-ssh-");
  const work = await mkdtemp(join(os.tmpdir(), "asyncjobs-bench-ssh-work-"));
  const lab = await NetLab.create();
  const servers: Sshd[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
    await lab.destroy();
    await keys.remove();
    await rm(work, { recursive: true, force: true });
  };
  process.once("SIGINT", () => {
    void stop().then(() => process.exit(130));
  });
  try {
    const hosts: string[] = [];
    for (let index = 0; index < namespaceCount; index++) {
      const host = await lab.add();
      const started = await Promise.all(
        Array.from({ length: portCount }, (_, port) =>
          Sshd.start({ keys, address: host.address, port: 2201 + port, netns: host.netns }),
        ),
      );
      servers.push(...started);
      hosts.push(...started.map((server) => `root@${server.address}:${server.port}`));
    }
    const hostsJson = join(work, "hosts.json");
    const hostsTxt = join(work, "hosts.txt");
    await writeFile(hostsJson, JSON.stringify(hosts));
    await writeFile(hostsTxt, `${hosts.join("\n")}\n`);
    const loadAtStart = os.loadavg()[0]!;
    console.log(
      `${hosts.length} hosts (${namespaceCount} namespaces × ${portCount} sshd), ${os.cpus().length} cores, load ${loadAtStart.toFixed(1)}`,
    );

    const ours = (window: number): Promise<Sample> =>
      measure(process.execPath, [join(here, "child.mjs"), hostsJson, keys.userKey, String(window)]);
    const pssh = (window: number): Promise<Sample> =>
      measure(PSSH, [
        "-h",
        hostsTxt,
        "-p",
        String(window),
        "-t",
        "60",
        "-x",
        `-i ${keys.userKey} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes`,
        "echo ok",
      ]);

    // One untimed round so that every sshd has served a connection once.
    await ours(50);

    const rows: string[] = [];
    const results: Record<string, unknown>[] = [];
    for (const window of windows) {
      const mine: { wall: number; first: number; second: number; rss: number }[] = [];
      const theirs: { wall: number; rss: number }[] = [];
      for (let run = 0; run < runs; run++) {
        const order = run % 2 === 0 ? ["ours", "pssh"] : ["pssh", "ours"];
        for (const who of order) {
          if (who === "ours") {
            const sample = await ours(window);
            const report = JSON.parse(sample.stdout.trim().split("\n").pop() ?? "{}") as {
              firstEnd: number;
              first: number;
              second: number;
              okFirst: number;
              okSecond: number;
              errors: string[];
            };
            if (report.okFirst !== hosts.length || report.okSecond !== hosts.length) {
              throw new Error(`asyncjobs run failed: ${JSON.stringify(report)} ${sample.stderr}`);
            }
            mine.push({
              wall: report.firstEnd,
              first: report.first,
              second: report.second,
              rss: sample.peakRssKiB,
            });
          } else if (havePssh) {
            const sample = await pssh(window);
            const successes = sample.stdout
              .split("\n")
              .filter((line) => line.includes("[SUCCESS]"));
            if (successes.length !== hosts.length) {
              throw new Error(
                `pssh run failed (${successes.length} ok):\n${sample.stdout}${sample.stderr}`,
              );
            }
            theirs.push({ wall: sample.wallMs, rss: sample.peakRssKiB });
          }
        }
      }
      const wall = median(mine.map((run) => run.wall));
      const first = median(mine.map((run) => run.first));
      const second = median(mine.map((run) => run.second));
      const rss = median(mine.map((run) => run.rss));
      const psshWall = havePssh ? median(theirs.map((run) => run.wall)) : Number.NaN;
      const psshRss = havePssh ? median(theirs.map((run) => run.rss)) : Number.NaN;
      results.push({ window, wall, first, second, rss, psshWall, psshRss, mine, theirs });
      rows.push(
        `| ${window} | ${(wall / 1000).toFixed(2)} s | ${havePssh ? `${(psshWall / 1000).toFixed(2)} s` : "-"} | ${havePssh ? `${(psshWall / wall).toFixed(2)}×` : "-"} | ${(first / 1000).toFixed(2)} s | ${(second / 1000).toFixed(2)} s | ${(first / second).toFixed(1)}× | ${(rss / 1024).toFixed(0)} MiB | ${havePssh ? `${(psshRss / 1024).toFixed(0)} MiB` : "-"} |`,
      );
    }
    const table = [
      `${hosts.length} hosts (${namespaceCount} network namespaces × ${portCount} sshd), command \`echo ok\`, median of ${runs} runs, ${os.cpus().length} cores, load average ${loadAtStart.toFixed(1)} at the start (${new Date().toISOString().slice(0, 10)})`,
      "",
      "| window | asyncjobs wall | pssh wall | pssh / asyncjobs | 1st round | 2nd round (reused) | 1st / 2nd | asyncjobs peak RSS | pssh peak RSS (tree) |",
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...rows,
      "",
      "asyncjobs wall: from process start to the end of the first round (Node start-up and module loading included). pssh wall: the whole `parallel-ssh` process. Peak RSS: the sum over the process and its children (pssh runs one `ssh` per host), sampled every 20 ms (so short-lived processes may be missed).",
      "",
    ].join("\n");
    console.log(table);
    await writeFile(join(here, "RESULTS.md"), `# SSH fan-out bench\n\n${table}`);
  } finally {
    await stop();
  }
}

await main();
