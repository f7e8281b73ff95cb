/**
 * (J) A service: a forever job starts a local HTTP server and calls ready()
 * once it listens, so the jobs that require it start then; it is stopped
 * (its job cancelled) once they are done. A slow request has its own
 * timeout, and a summary reads the other jobs' results, typed.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Job, Scheduler, TimeoutError } from "asyncjobs";
import { say } from "./helpers.js";

let port = 0;

const server = new Job(
  async ({ signal, ready }) => {
    const http = createServer((request, response) => {
      const delay = request.url === "/slow" ? 5_000 : 10;
      const timer = setTimeout(() => response.end(`hello from ${request.url}`), delay);
      response.on("close", () => clearTimeout(timer));
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    port = (http.address() as AddressInfo).port;
    say("server listening");
    ready();
    try {
      await new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason)),
      );
    } finally {
      http.closeAllConnections();
      http.close();
      say("server stopped");
    }
  },
  { label: "server", forever: true },
);

function get(path: string, options: { timeout?: number; critical?: boolean } = {}) {
  return new Job(
    async ({ signal }) => {
      const text = await (await fetch(`http://127.0.0.1:${port}${path}`, { signal })).text();
      say(`GET ${path} -> ${text}`);
      return text.length;
    },
    { label: `GET ${path}`, required: server, ...options },
  );
}

const home = get("/home");
const about = get("/about");
const slow = get("/slow", { timeout: 200, critical: false });

const summary = new Job(
  ({ results }) => {
    // results(home) is typed as what home's function returns: a number.
    const total: number = results(home) + results(about);
    say(`summary: ${total} characters received`);
    return total;
  },
  { label: "summary", required: [home, about] },
);

const scheduler = new Scheduler(server, home, about, slow, summary, { trace: true });
say(`run() -> ${await scheduler.run()}`);
say(`slow request timed out: ${slow.raisedException() instanceof TimeoutError}`);
say(`server cancelled at the end: ${server.isCancelled()}`);
const spans = scheduler
  .trace()
  .toChromeTrace()
  .traceEvents.filter((event) => event.ph === "X");
say(`trace: ${spans.length} spans, ready for chrome://tracing or Perfetto`);
