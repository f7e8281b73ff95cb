/**
 * Where the output of remote jobs goes: prefixed lines on the terminal, one
 * file per host, or captured as the job's result.
 *
 * @module
 */
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { Writable } from "node:stream";
import type { SshStream } from "./exec.js";
import type { SshNode } from "./node.js";

/** What a formatter knows of the job whose output it handles. */
export interface SshOutputSource {
  /** The node the job runs on. */
  readonly node: SshNode;
  /** The job's label, if it has one. */
  readonly label: string | undefined;
}

/** Where the output of one run of one job goes. */
export interface SshOutputSink {
  /** One line of output, without its line ending. */
  line(line: string, stream: SshStream): void;
  /**
   * Called once the job's commands are over (whether they succeeded or
   * not). A capturing sink resolves with the captured text, which becomes
   * the job's result; others resolve with undefined.
   */
  close(): string | undefined | Promise<string | undefined>;
}

/**
 * Decides where the output of remote jobs goes: `open` is called once each
 * time a job starts and returns the sink for that run. One formatter may
 * serve many jobs.
 */
export interface SshFormatter {
  /** Called each time a job starts: returns where that run's output goes. */
  open(source: SshOutputSource): SshOutputSink;
}

/** Options of {@link prefixedFormatter}. */
export interface PrefixedFormatterOptions {
  /** The text put before each line; default `[label] ` where label is the node's label. */
  prefix?: (source: SshOutputSource, stream: SshStream) => string;
  /** Where standard output lines go; default `process.stdout`. */
  stdout?: Writable;
  /** Where standard error lines go; default `process.stderr`. */
  stderr?: Writable;
}

/**
 * Each line on this process's standard output or error, prefixed with the
 * node's label: `[web1] Linux web1 6.1.0 ...`. The default formatter.
 */
export function prefixedFormatter(options: PrefixedFormatterOptions = {}): SshFormatter {
  const prefix = options.prefix ?? ((source) => `[${source.node.label}] `);
  return {
    open(source) {
      return {
        line(line, stream) {
          const out = (stream === "stdout" ? options.stdout : options.stderr) ?? process[stream];
          out.write(`${prefix(source, stream)}${line}\n`);
        },
        close: () => undefined,
      };
    },
  };
}

/** Options of {@link fileFormatter}. */
export interface FileFormatterOptions {
  /** Appended to the node's label to name its file; default `.out`. */
  suffix?: string;
  /** Prefix standard error lines with this text in the file; default `"stderr: "`. */
  stderrPrefix?: string;
}

/**
 * One file per host, `<dir>/<node label><suffix>`, both streams in it in
 * the order they arrive (standard error lines marked). Files are appended
 * to, so that several jobs on one host add up; the folder is created if
 * needed.
 */
export function fileFormatter(dir: string, options: FileFormatterOptions = {}): SshFormatter {
  const suffix = options.suffix ?? ".out";
  const stderrPrefix = options.stderrPrefix ?? "stderr: ";
  return {
    open(source) {
      mkdirSync(dir, { recursive: true });
      const name = source.node.label.replace(/[^A-Za-z0-9._@:+-]/g, "_");
      const file: WriteStream = createWriteStream(join(dir, `${name}${suffix}`), { flags: "a" });
      file.on("error", () => {
        // Reported by close().
      });
      return {
        line(line, stream) {
          file.write(stream === "stderr" ? `${stderrPrefix}${line}\n` : `${line}\n`);
        },
        close: () =>
          new Promise<undefined>((resolve, reject) => {
            file.end((error?: Error | null) => (error ? reject(error) : resolve(undefined)));
          }),
      };
    },
  };
}

/** Options of {@link captureFormatter}. */
export interface CaptureFormatterOptions {
  /** Where standard error goes; default the {@link prefixedFormatter} (the terminal). */
  stderr?: SshFormatter | "capture" | "discard";
}

/**
 * Keeps the job's standard output, which becomes its result (lines joined
 * with `\n`, without a final newline). Standard error still goes to the
 * terminal unless `stderr` says otherwise (`"capture"` keeps it in the
 * result too, in order).
 */
export function captureFormatter(options: CaptureFormatterOptions = {}): SshFormatter {
  const stderrMode = options.stderr ?? prefixedFormatter();
  return {
    open(source) {
      const lines: string[] = [];
      const errors = typeof stderrMode === "string" ? undefined : stderrMode.open(source);
      return {
        line(line, stream) {
          if (stream === "stdout" || stderrMode === "capture") lines.push(line);
          else errors?.line(line, stream);
        },
        async close() {
          await errors?.close();
          return lines.join("\n");
        },
      };
    },
  };
}

/** Drops all output. */
export function silentFormatter(): SshFormatter {
  return { open: () => ({ line: () => undefined, close: () => undefined }) };
}
