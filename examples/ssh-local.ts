/**
 * Remote jobs against an sshd of your own: by default localhost, port 22,
 * as you, with your agent or ~/.ssh/id_ed25519 (or id_ecdsa, id_rsa).
 * SSH_TARGET ([user@]host[:port]) and SSH_KEY (a key file) say otherwise:
 *
 *   SSH_TARGET=me@localhost:22 SSH_KEY=~/.ssh/id_ed25519 npx tsx examples/ssh-local.ts
 */

import { captureFormatter, Pull, Push, Run, RunString, SshJob, SshNode } from "@asyncjobs/ssh";
import { Scheduler } from "asyncjobs";

const key = process.env.SSH_KEY;
const node = new SshNode(process.env.SSH_TARGET ?? "localhost", key ? { keyFile: key } : {});
const remoteDir = `/tmp/asyncjobs-example-${process.pid}`;

// Output lines are prefixed with the host: [localhost] hello from ...
const hello = new SshJob(node, "echo hello from $(hostname)", { label: "hello" });
// The captured output is the job's result.
const kernel = new SshJob(node, new Run(["uname", "-sr"]), {
  label: "kernel",
  formatter: captureFormatter(),
});
// Files go over SFTP, modes kept; scripts are sent and run with arguments.
const roundTrip = new SshJob(
  node,
  [
    new Push("examples/ssh-local.ts", `${remoteDir}/`),
    new RunString('echo "$1 has $(wc -l < "$1") lines"', { args: [`${remoteDir}/ssh-local.ts`] }),
    new Pull(`${remoteDir}/ssh-local.ts`, `${remoteDir}-back.ts`),
    new Run(["rm", "-r", remoteDir]),
  ],
  { label: "round trip", required: hello },
);

try {
  // One connection serves all three jobs; nothing runs on the host afterwards.
  const ok = await new Scheduler(hello, kernel, roundTrip).run();
  console.log(`ok: ${ok}; kernel: ${kernel.result()}`);
} finally {
  await SshNode.closeAll();
}
