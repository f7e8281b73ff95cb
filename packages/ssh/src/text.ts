/**
 * Text helpers of remote jobs: decoding a byte stream into lines, and
 * quoting words for the POSIX shell that runs remote commands.
 *
 * @module
 */
import { StringDecoder } from "node:string_decoder";

/**
 * Turns chunks of bytes into whole lines (UTF-8, line endings dropped),
 * holding a character or a line that is split across chunks until the rest
 * arrives.
 */
export class LineDecoder {
  readonly #decoder = new StringDecoder("utf8");
  #pending = "";

  constructor(private readonly onLine: (line: string) => void) {}

  /** Feeds one chunk; emits every line it completes. */
  write(chunk: Buffer | string): void {
    let text = this.#pending + (typeof chunk === "string" ? chunk : this.#decoder.write(chunk));
    let newline = text.indexOf("\n");
    while (newline >= 0) {
      const end = newline > 0 && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      this.onLine(text.slice(0, end));
      text = text.slice(newline + 1);
      newline = text.indexOf("\n");
    }
    this.#pending = text;
  }

  /** Ends the stream: emits the last line if it had no line ending. */
  end(): void {
    const rest = this.#pending + this.#decoder.end();
    this.#pending = "";
    if (rest !== "") this.onLine(rest);
  }
}

/** Keeps the last `size` items pushed into it. */
export class Tail {
  readonly #items: string[] = [];
  constructor(private readonly size: number) {}

  push(item: string): void {
    if (this.size === 0) return;
    this.#items.push(item);
    if (this.#items.length > this.size) this.#items.shift();
  }

  get items(): readonly string[] {
    return this.#items;
  }
}

const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for a POSIX shell (left as is when nothing in it needs quoting). */
export function shellQuote(word: string): string {
  if (word !== "" && PLAIN_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}

/** Joins words into a command line a POSIX shell splits back into the same words. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}
