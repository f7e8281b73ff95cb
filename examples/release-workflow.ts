/**
 * A release pipeline written in TypeScript: `asyncjobs run` loads this file
 * as it is (no build step) and runs the scheduler its default export returns.
 *
 *     npx asyncjobs run examples/release-workflow.ts
 *
 * It mixes programs (CommandJob) with plain async functions (Job), and
 * nests a scheduler for the artefacts, which are built two at a time.
 */

import { CommandJob } from "@asyncjobs/node";
import { Job, Scheduler, Sequence, sleep } from "asyncjobs";

/** A command run through the shell, so that the example works anywhere. */
function sh(label: string, script: string, options: { critical?: boolean } = {}) {
  return new CommandJob(script, { label, shell: true, ...options });
}

export default function release(): Scheduler {
  const version = new CommandJob(["node", "-p", "require('./package.json').version"], {
    label: "read version",
    capture: true,
  });

  const changelog = new Job(
    async ({ signal }) => {
      await sleep(300, signal);
      return `release ${String(version.result())}`;
    },
    { label: "changelog", required: version },
  );

  const artefacts = new Scheduler(
    sh("tarball", "echo 'packing'; sleep 0.6; echo 'asyncjobs.tgz'"),
    sh("docs", 'for page in api cli tutorial; do echo "rendered $page"; sleep 0.2; done'),
    sh("checksums", "sleep 0.3; echo 'sha256 written'"),
    { label: "artefacts", jobsWindow: 2, required: version },
  );

  const publish = new Sequence(
    sh("tag", "echo 'tagged'"),
    sh("upload", 'for part in 1 2 3; do echo "uploaded part $part/3"; sleep 0.2; done'),
    { required: [changelog, artefacts] },
  );

  return new Scheduler(version, changelog, artefacts, publish, { timeout: 60_000 });
}
