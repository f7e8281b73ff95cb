/**
 * The ssh package's README: one command on one host. SSH_TARGET says which
 * host (default: server.example), SSH_KEY which key.
 */
import { Run, SshJob, SshNode } from "@asyncjobs/ssh";
import { Scheduler } from "asyncjobs";

const node = new SshNode(process.env.SSH_TARGET ?? "deploy@server.example", {
  ...(process.env.SSH_KEY ? { keyFile: process.env.SSH_KEY } : {}),
});
const job = new SshJob(node, new Run("uname -a"), { label: "uname" });
await new Scheduler(job).run();
await SshNode.closeAll();
