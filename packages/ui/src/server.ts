/**
 * The live view: Node's own HTTP server, serving the page, its script, the
 * run's snapshot, the graph's SVG and a job's details, and pushing what
 * changed as Server-Sent Events, in batches. Every request must carry the
 * view's random token; cancelling takes a POST; no CORS headers are sent,
 * so no other site's page can read anything from it.
 */

import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { PureScheduler } from "asyncjobs";
import { GraphPictures } from "./graph.js";
import { livePage, pageScript } from "./page.js";
import { jobDetails, snapshot, takeBatch } from "./state.js";
import { RunWatch, watchRun } from "./watch.js";

/** Options of {@link serve}. */
export interface ServeOptions {
  /** The port to listen on; default 0, any free port. */
  port?: number;
  /**
   * The address to listen on; default `127.0.0.1`, this machine only.
   * Anything else lets other machines in (with the token).
   */
  host?: string;
  /** The page's title; default the scheduler's label, else "asyncjobs run". */
  title?: string;
  /** Milliseconds between two batches of updates; default 100. */
  interval?: number;
  /** Called when the page's cancel button is pressed (besides aborting {@link LiveView.signal}). */
  onCancel?: () => void;
}

/** A running live view, as {@link serve} resolves it. */
export interface LiveView {
  /** The page's address, token included: the one to open. */
  readonly url: string;
  /** The port the server listens on. */
  readonly port: number;
  /** The token every request must carry. */
  readonly token: string;
  /**
   * Aborted when the page's cancel button is pressed: pass it to
   * `scheduler.run({ signal })` so that the button stops the run.
   */
  readonly signal: AbortSignal;
  /** The watch the view shows (made by `serve()` unless one was given). */
  readonly watch: RunWatch;
  /** Sends the last changes, ends the event streams and stops the server. */
  close(): Promise<void>;
}

/** Why a run was aborted from the browser view. */
export class CancelledFromViewError extends Error {
  /** Always `CancelledFromViewError`. */
  override name = "CancelledFromViewError";
}

const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cache-Control": "no-store",
} as const;

function checkServeOptions(options: ServeOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`serve(): options must be an object, got ${String(options)}`);
  }
  const known = new Set(["port", "host", "title", "interval", "onCancel"]);
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new TypeError(`serve(): unknown option "${name}"`);
  }
  const { port, host, title, interval, onCancel } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new RangeError(`serve(): option "port" must be a whole number 0-65535, got ${port}`);
  }
  if (host !== undefined && (typeof host !== "string" || host === "")) {
    throw new TypeError(`serve(): option "host" must be a non-empty string, got ${String(host)}`);
  }
  if (title !== undefined && typeof title !== "string") {
    throw new TypeError(`serve(): option "title" must be a string, got ${String(title)}`);
  }
  if (interval !== undefined && (!Number.isFinite(interval) || interval < 10)) {
    throw new RangeError(`serve(): option "interval" must be a number >= 10, got ${interval}`);
  }
  if (onCancel !== undefined && typeof onCancel !== "function") {
    throw new TypeError(`serve(): option "onCancel" must be a function`);
  }
}

/** The title of a run: its scheduler's label, else a generic one. */
export function runTitle(scheduler: PureScheduler): string {
  const label = (scheduler as { label?: unknown }).label;
  return typeof label === "string" && label !== "" ? label : "asyncjobs run";
}

/**
 * Serves the live view of a run: call it before `run()`, open the
 * {@link LiveView.url} it resolves with, and `close()` it when done.
 * `source` is the scheduler, or a {@link RunWatch} already made for it
 * (to write a report of the same run too).
 */
export async function serve(
  source: PureScheduler | RunWatch,
  options: ServeOptions = {},
): Promise<LiveView> {
  checkServeOptions(options);
  const ownWatch = !(source instanceof RunWatch);
  const watch = source instanceof RunWatch ? source : watchRun(source);
  const title = options.title ?? runTitle(watch.scheduler);
  const interval = options.interval ?? 100;
  const token = randomBytes(24).toString("base64url");
  const tokenBytes = Buffer.from(token);
  const controller = new AbortController();
  const pictures = new GraphPictures(watch);
  const streams = new Set<ServerResponse>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let keepAlive: ReturnType<typeof setInterval> | undefined;

  const tokenOk = (given: string | null): boolean => {
    if (given === null) return false;
    const bytes = Buffer.from(given);
    return bytes.length === tokenBytes.length && timingSafeEqual(bytes, tokenBytes);
  };

  const flush = (): void => {
    if (streams.size === 0) return;
    const batch = takeBatch(watch);
    // Once the run is over, a batch with no change says nothing new.
    if (batch.jobs.length === 0 && batch.out.length === 0 && watch.ended !== undefined) return;
    const data = `data: ${JSON.stringify(batch)}\n\n`;
    for (const stream of streams) stream.write(data);
  };
  const startStreaming = (): void => {
    watch.streaming = true;
    timer ??= setInterval(flush, interval);
    keepAlive ??= setInterval(() => {
      for (const stream of streams) stream.write(": keep-alive\n\n");
    }, 15_000);
    timer.unref();
    keepAlive.unref();
  };
  const stopStreaming = (): void => {
    watch.streaming = false;
    watch.pendingOutput.clear();
    if (timer !== undefined) clearInterval(timer);
    if (keepAlive !== undefined) clearInterval(keepAlive);
    timer = keepAlive = undefined;
  };
  const previousOnEnd = watch.onEnd;
  // The end of the run goes out at once, not up to a batch later.
  watch.onEnd = () => {
    previousOnEnd?.();
    flush();
  };

  const send = (
    response: ServerResponse,
    status: number,
    type: string,
    body: string,
    extra: Record<string, string> = {},
  ): void => {
    response.writeHead(status, {
      ...SECURITY_HEADERS,
      "Content-Type": type,
      "Content-Length": Buffer.byteLength(body),
      ...extra,
    });
    response.end(body);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://view.invalid");
    if (!tokenOk(url.searchParams.get("token"))) {
      send(
        response,
        403,
        "text/plain; charset=utf-8",
        "forbidden: this address needs the view's token\n",
      );
      return;
    }
    const method = request.method ?? "GET";
    if (url.pathname === "/cancel") {
      if (method !== "POST") {
        send(response, 405, "text/plain; charset=utf-8", "cancel needs a POST\n", {
          Allow: "POST",
        });
        return;
      }
      if (!controller.signal.aborted) {
        controller.abort(new CancelledFromViewError("cancelled from the browser view"));
        options.onCancel?.();
      }
      send(response, 202, "application/json", '{"cancelled":true}');
      return;
    }
    if (method !== "GET" && method !== "HEAD") {
      send(response, 405, "text/plain; charset=utf-8", "method not allowed\n", { Allow: "GET" });
      return;
    }
    switch (url.pathname) {
      case "/":
        send(response, 200, "text/html; charset=utf-8", livePage(title, token));
        return;
      case "/page.js":
        send(response, 200, "text/javascript; charset=utf-8", await pageScript());
        return;
      case "/state":
        send(response, 200, "application/json", JSON.stringify(snapshot(watch, title)));
        return;
      case "/job": {
        const details = jobDetails(watch, Number(url.searchParams.get("i")));
        if (details === undefined)
          send(response, 404, "text/plain; charset=utf-8", "no such job\n");
        else send(response, 200, "application/json", JSON.stringify(details));
        return;
      }
      case "/graph": {
        const scope = Number(url.searchParams.get("scope") ?? "-1");
        if (!Number.isInteger(scope) || scope < -1 || scope >= watch.records.length) {
          send(response, 404, "text/plain; charset=utf-8", "no such group\n");
          return;
        }
        const svg = await pictures.svg(scope);
        if (svg === null) send(response, 204, "image/svg+xml", "");
        else send(response, 200, "image/svg+xml", svg);
        return;
      }
      case "/events": {
        response.writeHead(200, {
          ...SECURITY_HEADERS,
          "Content-Type": "text/event-stream; charset=utf-8",
          Connection: "keep-alive",
        });
        response.write("retry: 2000\n\n");
        streams.add(response);
        startStreaming();
        response.on("close", () => {
          streams.delete(response);
          if (streams.size === 0) stopStreaming();
        });
        return;
      }
      default:
        send(response, 404, "text/plain; charset=utf-8", "not found\n");
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!response.headersSent) send(response, 500, "text/plain; charset=utf-8", `${message}\n`);
      else response.end();
    });
  });
  // Laid out now, before the run: Graphviz holds the thread while it works,
  // which would pause the run if the page's first request did it. A failure
  // shows on the page, which asks again.
  await pictures.svg(-1).catch(() => undefined);
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    signal: controller.signal,
    watch,
    close() {
      closing ??= (async () => {
        flush();
        for (const stream of streams) stream.end("event: bye\ndata: {}\n\n");
        streams.clear();
        stopStreaming();
        watch.onEnd = previousOnEnd;
        if (ownWatch) watch.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
