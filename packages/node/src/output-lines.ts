/**
 * Splitting a program's output into lines in bounded memory and linear time,
 * whatever the program prints: a line longer than the limit keeps its start
 * and says how much was dropped, so that a progress bar redrawn with `\r` for
 * an hour, or a binary file sent to stdout, costs no more than one long line.
 *
 * @module
 */

/** The longest line, in bytes, passed on whole; the rest of a longer line is dropped. */
export const MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;
const RETURN = 0x0d;

/** What ends a line cut at the limit: how many bytes were dropped. */
export function truncationMarker(dropped: number): string {
  return `… [truncated ${dropped} bytes]`;
}

/**
 * Splits a byte stream into lines (`\n`, or `\r\n`, ends a line; the line
 * ending is dropped), decoded as UTF-8. Keeps at most `limit` bytes of the
 * line being read: the rest is counted, not kept.
 */
export class LineSplitter {
  readonly #onLine: (line: string) => void;
  readonly #limit: number;
  /** Copies of the parts of the line being read (no reference to a whole chunk is kept). */
  #parts: Buffer[] = [];
  #size = 0;
  #dropped = 0;

  constructor(onLine: (line: string) => void, limit: number = MAX_LINE_BYTES) {
    this.#onLine = onLine;
    this.#limit = limit;
  }

  /** Takes the next bytes of the stream; calls `onLine` for each line they end. */
  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
      if (this.#size === 0 && this.#dropped === 0) {
        // The whole line is in this chunk: no copy.
        this.#emit(chunk, start, end);
      } else {
        this.#keep(chunk, start, end);
        this.#flush();
      }
      start = end + 1;
    }
    if (start < chunk.length) this.#keep(chunk, start, chunk.length);
  }

  /** The stream ended: passes on its last line if it had no line ending. */
  end(): void {
    if (this.#size > 0 || this.#dropped > 0) this.#flush();
  }

  /** How many bytes of `chunk` from `from` fit in `room`, cut before a UTF-8 continuation byte. */
  #fit(chunk: Buffer, from: number, to: number, room: number): number {
    if (to - from <= room) return to - from;
    let take = room;
    // Do not split a character: back off over continuation bytes (10xxxxxx).
    while (take > 0 && ((chunk[from + take] ?? 0) & 0xc0) === 0x80) take--;
    return take;
  }

  #keep(chunk: Buffer, from: number, to: number): void {
    const room = this.#dropped > 0 ? 0 : this.#limit - this.#size;
    const take = this.#fit(chunk, from, to, room);
    if (take > 0) {
      this.#parts.push(Buffer.from(chunk.subarray(from, from + take)));
      this.#size += take;
    }
    this.#dropped += to - from - take;
  }

  #emit(chunk: Buffer, from: number, to: number): void {
    const take = this.#fit(chunk, from, to, this.#limit);
    this.#dropped = to - from - take;
    this.#size = 0;
    this.#parts = [];
    this.#pass(chunk.subarray(from, from + take));
  }

  #flush(): void {
    const parts = this.#parts;
    const line = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    this.#pass(line);
  }

  #pass(bytes: Buffer): void {
    const dropped = this.#dropped;
    this.#dropped = 0;
    if (dropped > 0) {
      this.#onLine(`${bytes.toString("utf8")}${truncationMarker(dropped)}`);
    } else {
      const end = bytes.length > 0 && bytes[bytes.length - 1] === RETURN ? -1 : bytes.length;
      this.#onLine(bytes.toString("utf8", 0, end < 0 ? bytes.length - 1 : end));
    }
  }
}
