/**
 * The live view of `asyncjobs run` on a terminal: a compact table of jobs,
 * redrawn in place, with overall counts, elapsed time and an estimate of
 * the time left. Anything else printed meanwhile (jobs that log, command
 * output with --verbose) scrolls above the table.
 */
import type { OutputStream } from "@asyncjobs/node";
import { formatDuration } from "./duration.js";
import { asciiText, attemptText, outcomeText, rowTime } from "./row-text.js";
import type { Row, RowState, RunModel } from "./run-model.js";
import { displayWidth, padToWidth, truncateToWidth } from "./text-width.js";

/** The terminal the view draws on: process.stdout in the command line. */
export interface LiveTerminal {
  write(text: string): unknown;
  columns?: number;
  rows?: number;
  on?(event: "resize", listener: () => void): unknown;
  off?(event: "resize", listener: () => void): unknown;
}

/** Options of {@link LiveView}. */
export interface LiveViewOptions {
  /** The first line: what runs. */
  title: string;
  /** Print every output line of the commands above the table. */
  verbose?: boolean;
  /** Only ASCII characters (spinner and rules). */
  ascii?: boolean;
  /** ANSI colours. */
  color?: boolean;
  /** Milliseconds between redraws; default 100. */
  interval?: number;
  /** Streams whose writes are routed above the table while the view runs. */
  capture?: NodeJS.WriteStream[];
}

type Style = "dim" | "bold" | "red" | "green" | "yellow" | "cyan" | undefined;

interface Segment {
  text: string;
  style?: Style;
}

const STYLES: Record<Exclude<Style, undefined>, [string, string]> = {
  dim: ["\u001b[2m", "\u001b[22m"],
  bold: ["\u001b[1m", "\u001b[22m"],
  red: ["\u001b[31m", "\u001b[39m"],
  green: ["\u001b[32m", "\u001b[39m"],
  yellow: ["\u001b[33m", "\u001b[39m"],
  cyan: ["\u001b[36m", "\u001b[39m"],
};

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const ASCII_SPINNER = ["|", "/", "-", "\\"];

/** Which rows to keep when the table does not fit: lower first. */
const PRIORITY: Record<RowState, number> = {
  running: 0,
  failed: 1,
  cancelled: 2,
  scheduled: 3,
  idle: 4,
  skipped: 5,
  done: 6,
};

const HIDE_CURSOR = "\u001b[?25l";
const SHOW_CURSOR = "\u001b[?25h";
const SYNC_START = "\u001b[?2026h";
const SYNC_END = "\u001b[?2026l";
const CLEAR_LINE = "\u001b[K";
const CLEAR_BELOW = "\u001b[J";

type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;

/** Redraws the table of a run in place on a terminal. */
export class LiveView {
  readonly #model: RunModel;
  readonly #term: LiveTerminal;
  readonly #options: LiveViewOptions;
  readonly #write: (text: string) => void;
  #drawn = 0;
  #tick = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #detach: (() => void) | undefined;
  #pending = "";
  #partial = "";
  #interrupted = false;
  #running = false;
  #restoreWrites: (() => void)[] = [];
  readonly #onResize = (): void => this.render();

  constructor(model: RunModel, terminal: LiveTerminal, options: LiveViewOptions) {
    this.#model = model;
    this.#term = terminal;
    this.#options = options;
    const write = terminal.write;
    this.#write = (text) => {
      write.call(terminal, text);
    };
  }

  /** Starts drawing, and routes other output above the table. */
  start(): void {
    this.#running = true;
    this.#detach = this.#model.attach(
      () => {},
      (row, line, stream) => this.#onOutput(row, line, stream),
    );
    for (const stream of this.#options.capture ?? []) this.#captureStream(stream);
    this.#term.on?.("resize", this.#onResize);
    this.#write(HIDE_CURSOR);
    this.render();
    this.#timer = setInterval(() => {
      this.#tick++;
      this.render();
    }, this.#options.interval ?? 100);
    this.#timer.unref?.();
  }

  /** Shows that the run is being cancelled. */
  interrupted(): void {
    this.#interrupted = true;
    this.render();
  }

  /** Draws the final table, stops redrawing and gives the terminal back. */
  stop(): void {
    if (!this.#running) return;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#running = false;
    if (this.#partial !== "") {
      this.#pending += `${this.#partial}\n`;
      this.#partial = "";
    }
    this.render(true);
    this.#detach?.();
    this.#detach = undefined;
    this.#term.off?.("resize", this.#onResize);
    for (const restore of this.#restoreWrites.splice(0)) restore();
    this.#write(SHOW_CURSOR);
  }

  /** Puts the terminal back at once (cursor shown, writes restored), without a last frame. */
  abandon(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#running = false;
    for (const restore of this.#restoreWrites.splice(0)) restore();
    this.#write(`${SHOW_CURSOR}\n`);
  }

  #captureStream(stream: NodeJS.WriteStream): void {
    const original = stream.write;
    const replacement: Write = (chunk, encoding, callback) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString();
      this.#above(text);
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") queueMicrotask(() => (done as () => void)());
      return true;
    };
    stream.write = replacement as typeof stream.write;
    this.#restoreWrites.push(() => {
      stream.write = original;
    });
  }

  /** Queues text to print above the table, whole lines only, and redraws. */
  #above(text: string): void {
    const all = this.#partial + text;
    const cut = all.lastIndexOf("\n");
    if (cut < 0) {
      this.#partial = all;
      return;
    }
    this.#pending += all.slice(0, cut + 1);
    this.#partial = all.slice(cut + 1);
    this.render();
  }

  #onOutput(row: Row, line: string, _stream: OutputStream): void {
    if (this.#options.verbose) {
      this.#above(`${this.#paint({ text: `[${row.path}]`, style: "dim" })} ${line}\n`);
    }
  }

  /** Redraws the table (and prints what is queued above it). */
  render(final = false): void {
    const lines = this.#frame(final);
    let out = SYNC_START;
    if (this.#drawn > 0) out += `\u001b[${this.#drawn}F`;
    if (this.#pending !== "") {
      out += CLEAR_BELOW + this.#pending.replace(/\n/g, `${CLEAR_LINE}\n`);
      this.#pending = "";
    }
    out += lines.map((line) => `${line}${CLEAR_LINE}\n`).join("");
    out += CLEAR_BELOW + SYNC_END;
    this.#drawn = lines.length;
    this.#write(out);
  }

  #paint(segment: Segment): string {
    if (!this.#options.color || segment.style === undefined) return segment.text;
    const [open, close] = STYLES[segment.style];
    return `${open}${segment.text}${close}`;
  }

  /**
   * Segments cut to `width` terminal columns, then painted. Columns, not
   * characters: a line wider than the terminal wraps, and the next redraw,
   * which moves up one row per line, would leave the extra rows behind.
   */
  #fit(segments: Segment[], width: number): string {
    let left = width;
    let out = "";
    for (const segment of segments) {
      if (left <= 0) break;
      if (this.#options.ascii) segment.text = asciiText(segment.text);
      const columns = displayWidth(segment.text);
      if (columns > left) {
        out += this.#paint({
          text: truncateToWidth(segment.text, left, this.#options.ascii ? "~" : "…"),
          style: segment.style,
        });
        left = 0;
      } else {
        out += this.#paint(segment);
        left -= columns;
      }
    }
    return out;
  }

  #frame(final: boolean): string[] {
    const model = this.#model;
    const now = performance.now();
    // A terminal that does not know its size may say 0 (or nothing): 80×24 then.
    const width = Math.max(20, (this.#term.columns || 80) - 1);
    const height = Math.max(4, (this.#term.rows || 24) - 1);
    const spinner = this.#options.ascii ? ASCII_SPINNER : SPINNER;
    const spin = spinner[this.#tick % spinner.length]!;

    const lines: string[] = [this.#fit([{ text: this.#options.title, style: "bold" }], width)];
    // The last frame is never redrawn, so it may scroll: it shows every job.
    const budget = final ? Number.POSITIVE_INFINITY : height - 3;
    const visible = pickRows(model.rows, budget);
    const hidden = model.rows.length - visible.length;
    const labelWidth = Math.min(
      32,
      Math.max(8, ...visible.map((row) => displayWidth(row.label) + row.depth * 2)),
    );
    for (const row of visible) {
      const label = `${"  ".repeat(row.depth)}${row.label}`;
      const padded = padToWidth(
        truncateToWidth(label, labelWidth, this.#options.ascii ? "~" : "…"),
        labelWidth,
      );
      const segments: Segment[] = [
        { text: `${row.job.reprShort()} `, style: badgeStyle(row.state) },
        { text: padded, style: row.group ? "bold" : undefined },
        { text: ` ${rowTime(row, now).padStart(6)}  ` },
        ...this.#detail(row, final ? " " : spin),
      ];
      lines.push(this.#fit(segments, width));
    }
    if (hidden > 0) {
      lines.push(this.#fit([{ text: `… ${hidden} more not shown`, style: "dim" }], width));
    }
    lines.push(
      this.#fit(
        [
          {
            text: this.#options.ascii
              ? "-".repeat(Math.min(width, 40))
              : "─".repeat(Math.min(width, 40)),
            style: "dim",
          },
        ],
        width,
      ),
    );
    lines.push(this.#fit(this.#footer(now, final), width));
    return lines;
  }

  #detail(row: Row, spin: string): Segment[] {
    switch (row.state) {
      case "running": {
        const segments: Segment[] = [{ text: `${spin} `, style: "cyan" }];
        // A service that said it is ready, a job on its second attempt or more.
        if (row.ready) segments.push({ text: "ready · ", style: "green" });
        const attempt = attemptText(row);
        if (attempt !== undefined) segments.push({ text: `${attempt} · `, style: "yellow" });
        const quiet = row.group || segments.length > 1 ? "" : "running";
        segments.push({ text: row.lastLine ?? quiet, style: "dim" });
        return segments;
      }
      case "failed":
        return [...retriedSegments(row), { text: outcomeText(row) ?? "failed", style: "red" }];
      case "cancelled":
        return [{ text: row.ready ? "cancelled (was ready)" : "cancelled", style: "yellow" }];
      case "skipped":
        return [{ text: `skipped (trigger ${row.job.trigger})`, style: "dim" }];
      case "done": {
        const retried = retriedSegments(row);
        const outcome = outcomeText(row);
        if (outcome !== undefined) return [...retried, { text: outcome, style: "green" }];
        return [...retried, { text: row.lastLine ?? "", style: "dim" }];
      }
      case "scheduled":
        return [
          {
            text: `waiting for a free slot${row.job.pool === undefined ? "" : ` (pool ${row.job.pool})`}`,
            style: "dim",
          },
        ];
      default:
        return row.requires.length > 0
          ? [{ text: `waits for ${row.requires.join(", ")}`, style: "dim" }]
          : [];
    }
  }

  #footer(now: number, final: boolean): Segment[] {
    const model = this.#model;
    const counts = model.counts();
    const parts: Segment[] = [
      { text: `${counts.done} done`, style: "green" },
      { text: " · " },
      { text: `${counts.running} running`, style: counts.running > 0 ? "cyan" : undefined },
      { text: " · " },
      { text: `${counts.idle} idle` },
    ];
    if (counts.failed > 0)
      parts.push({ text: " · " }, { text: `${counts.failed} failed`, style: "red" });
    if (counts.cancelled > 0) {
      parts.push({ text: " · " }, { text: `${counts.cancelled} cancelled`, style: "yellow" });
    }
    if (counts.skipped > 0) {
      parts.push({ text: " · " }, { text: `${counts.skipped} skipped`, style: "dim" });
    }
    parts.push({ text: ` · ${formatDuration(model.elapsed(now))}` });
    const eta = final ? undefined : model.eta(now);
    if (eta !== undefined) parts.push({ text: ` · ETA ~${formatDuration(eta)}`, style: "dim" });
    if (this.#interrupted && !final) {
      parts.push({ text: " · cancelling… (Ctrl-C again to exit at once)", style: "yellow" });
    }
    return parts;
  }
}

/** `(3 attempts) ` before the outcome of a job that retried. */
function retriedSegments(row: Row): Segment[] {
  const attempts = attemptText(row);
  return attempts === undefined ? [] : [{ text: `(${attempts}) `, style: "yellow" }];
}

function badgeStyle(state: RowState): Style {
  if (state === "failed") return "red";
  if (state === "cancelled") return "yellow";
  if (state === "done") return "green";
  if (state === "running") return "cyan";
  return "dim"; // Idle, waiting, or skipped (its badge shows the skip).
}

/** The rows to draw when at most `budget` fit: the most telling ones, in their order. */
function pickRows(rows: readonly Row[], budget: number): Row[] {
  if (rows.length <= budget) return [...rows];
  const keep = Math.max(1, budget - 1);
  const ranked = rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => PRIORITY[a.row.state] - PRIORITY[b.row.state] || a.index - b.index)
    .slice(0, keep)
    .sort((a, b) => a.index - b.index);
  return ranked.map((entry) => entry.row);
}
