/**
 * Shared pieces of the SSH tests: looking for remote processes, and a
 * silent TCP server that accepts connections and never answers.
 */
import { execFile } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { CLI } from "../../../cli/test/cli-program.js";

/** The pids of the processes whose command line contains `pattern` (pgrep -f). */
export function pgrep(pattern: string, netns?: string): Promise<number[]> {
  const [file, args] =
    netns === undefined
      ? ["pgrep", ["-f", pattern]]
      : ["ip", ["netns", "exec", netns, "pgrep", "-f", pattern]];
  return new Promise((resolve, reject) => {
    execFile(file, args, (error, stdout) => {
      // pgrep exits with 1 when nothing matches.
      if (error && error.code !== 1) reject(error);
      else
        resolve(
          stdout
            .split("\n")
            .filter((line) => line !== "")
            .map(Number),
        );
    });
  });
}

/** A server that accepts TCP connections and says nothing: an SSH host that hangs. */
export async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A marker unique to this test run, to find its remote processes by. */
export function uniqueSeconds(): string {
  // sleep accepts fractional seconds: the digits make the command line unique.
  return `${900 + Math.floor(Math.random() * 99)}.${process.pid}${Math.floor(Math.random() * 1000)}`;
}

/** Runs examples/<name>.ts with more environment variables; resolves with its output. */
export function runExample(
  name: string,
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", `examples/${name}.ts`],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
  });
}

/** Runs the command line; resolves with its exit code and output. */
export function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...CLI, ...args],
      { timeout: 30_000, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
