/**
 * The same steps on three hosts that are reachable only through a gateway
 * (a jump host), then a fan-out with its per-host table. GATEWAY and HOSTS
 * (comma-separated, [user@]host[:port]) say where, SSH_KEY with which key;
 * by default all four are localhost:
 *
 *   GATEWAY=me@gw.example.org HOSTS=10.0.0.1,10.0.0.2,10.0.0.3 npx tsx examples/ssh-three-hosts.ts
 */

import {
  captureFormatter,
  fanOut,
  RunString,
  SshJob,
  SshNode,
  type SshNodeOptions,
} from "@asyncjobs/ssh";
import { Job, Scheduler } from "asyncjobs";

const auth: SshNodeOptions = process.env.SSH_KEY ? { keyFile: process.env.SSH_KEY } : {};
const gateway = new SshNode(process.env.GATEWAY ?? "localhost", { ...auth, label: "gateway" });
const targets = (process.env.HOSTS ?? "localhost,localhost,localhost").split(",");
const nodes = targets.map(
  (target, index) => new SshNode(target, { ...auth, gateway, label: `node${index + 1}` }),
);

// Each node gets a stamp; the fan-out reads them back once all three are there.
const stamp = nodes.map(
  (node) =>
    new SshJob(
      node,
      new RunString('mkdir -p "$1" && date +%s > "$1/stamp"', {
        args: ["/tmp/asyncjobs-three-hosts"],
      }),
    ),
);
const report = new Job(
  async () => {
    const result = await fanOut(nodes, "cat /tmp/asyncjobs-three-hosts/stamp", {
      window: 3,
      formatter: captureFormatter(),
    });
    console.log(result.table());
    return result.ok;
  },
  { label: "report", required: stamp },
);

try {
  await new Scheduler(...stamp, report).run();
} finally {
  await SshNode.closeAll();
}
