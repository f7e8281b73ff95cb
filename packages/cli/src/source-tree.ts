/**
 * Where each value and key of a parsed workflow file stands in its text, for
 * YAML (through the yaml library's nodes) and for JSON (through a strict JSON
 * parser of its own, since JSON.parse tells no positions and the YAML parser
 * accepts what JSON does not: trailing commas, comments, single quotes).
 */
import { type Document, isMap, isScalar, type Node } from "yaml";

/** A part of the text: offsets `[start, end)`; `quoted` when it is a quoted string. */
export interface Span {
  start: number;
  end: number;
  quoted: boolean;
}

/** A path into the parsed value: keys of mappings and indexes of lists. */
export type Path = readonly (string | number)[];

/** The positions of a parsed file's values and keys. */
export interface SourceTree {
  /** The span of the value at `path`, if there is one. */
  value(path: Path): Span | undefined;
  /** The span of the key `key` of the mapping at `path`, if there is one. */
  key(path: Path, key: string): Span | undefined;
}

function spanOf(node: unknown): Span | undefined {
  if (node === null || typeof node !== "object" || !("range" in node)) return undefined;
  const range = (node as Node).range;
  if (!range) return undefined;
  const quoted = isScalar(node) && (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE");
  return { start: range[0], end: range[1], quoted };
}

/** The positions of a YAML document's nodes. */
export function yamlTree(doc: Document.Parsed): SourceTree {
  return {
    value: (path) => (path.length === 0 ? spanOf(doc.contents) : spanOf(doc.getIn(path, true))),
    key: (path, key) => {
      const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
      if (!isMap(map)) return undefined;
      for (const pair of map.items) {
        if (isScalar(pair.key) && String(pair.key.value) === key) return spanOf(pair.key);
      }
      return undefined;
    },
  };
}

type JsonNode =
  | { kind: "scalar"; span: Span }
  | { kind: "array"; span: Span; items: JsonNode[] }
  | { kind: "object"; span: Span; entries: Map<string, { key: Span; value: JsonNode }> };

/** A JSON text that is not JSON: what is wrong, at which offset. */
export class JsonSyntaxError extends Error {
  override name = "JsonSyntaxError";
  readonly offset: number;
  readonly length: number;

  constructor(message: string, offset: number, length = 1) {
    super(message);
    this.offset = offset;
    this.length = length;
  }
}

/** Deeper than this, a JSON file is refused rather than risk the stack: no workflow nests so far. */
export const JSON_MAX_DEPTH = 200;

/** Parses strict JSON (RFC 8259) with the position of every value and key. */
export function parseJson(text: string): { value: unknown; tree: SourceTree } {
  const parser = new JsonParser(text);
  const { value, node } = parser.document();
  const find = (path: Path): JsonNode | undefined => {
    let current: JsonNode | undefined = node;
    for (const step of path) {
      if (current?.kind === "array" && typeof step === "number") current = current.items[step];
      else if (current?.kind === "object") current = current.entries.get(String(step))?.value;
      else return undefined;
    }
    return current;
  };
  return {
    value,
    tree: {
      value: (path) => find(path)?.span,
      key: (path, key) => {
        const found = find(path);
        return found?.kind === "object" ? found.entries.get(key)?.key : undefined;
      },
    },
  };
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class JsonParser {
  readonly #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
    // A byte order mark is not part of the text.
    if (text.charCodeAt(0) === 0xfeff) this.#at = 1;
  }

  document(): { value: unknown; node: JsonNode } {
    this.#space();
    const parsed = this.#value(0);
    this.#space();
    if (this.#at < this.#text.length) {
      throw new JsonSyntaxError(
        `${this.#shown()} after the end of the JSON value: one value per file`,
        this.#at,
      );
    }
    return parsed;
  }

  #space(): void {
    const text = this.#text;
    while (this.#at < text.length) {
      const char = text[this.#at];
      if (char !== " " && char !== "\t" && char !== "\n" && char !== "\r") return;
      this.#at++;
    }
  }

  /** The character at the current offset, as a message shows it. */
  #shown(): string {
    const char = this.#text[this.#at];
    if (char === undefined) return "the end of the file";
    if (char === "/" && "/*".includes(this.#text[this.#at + 1] ?? "")) {
      return "a comment (JSON has none)";
    }
    if (char === "'") return "a single quote (JSON strings take double quotes)";
    return JSON.stringify(char);
  }

  #fail(expected: string): never {
    throw new JsonSyntaxError(`expected ${expected}, got ${this.#shown()}`, this.#at);
  }

  #value(depth: number): { value: unknown; node: JsonNode } {
    if (depth > JSON_MAX_DEPTH) {
      throw new JsonSyntaxError(`nested more than ${JSON_MAX_DEPTH} levels deep`, this.#at);
    }
    const text = this.#text;
    const start = this.#at;
    const char = text[start];
    if (char === "{") return this.#object(depth);
    if (char === "[") return this.#array(depth);
    if (char === '"') {
      const value = this.#string();
      return { value, node: { kind: "scalar", span: { start, end: this.#at, quoted: true } } };
    }
    for (const [word, value] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, start)) {
        this.#at += word.length;
        return { value, node: { kind: "scalar", span: { start, end: this.#at, quoted: false } } };
      }
    }
    NUMBER.lastIndex = start;
    const number = NUMBER.exec(text);
    if (number) {
      this.#at = NUMBER.lastIndex;
      return {
        value: Number(number[0]),
        node: { kind: "scalar", span: { start, end: this.#at, quoted: false } },
      };
    }
    return this.#fail("a value (an object, a list, a string, a number, true, false or null)");
  }

  #string(): string {
    const text = this.#text;
    const start = this.#at;
    this.#at++;
    let value = "";
    for (;;) {
      const char = text[this.#at];
      if (char === undefined || char === "\n") {
        throw new JsonSyntaxError("a string that does not end: a double quote is missing", start);
      }
      if (char === '"') {
        this.#at++;
        return value;
      }
      if (char.charCodeAt(0) < 0x20) {
        throw new JsonSyntaxError(
          `a control character in a string: write it as an escape (\\u${char
            .charCodeAt(0)
            .toString(16)
            .padStart(4, "0")})`,
          this.#at,
        );
      }
      if (char === "\\") {
        const escaped = text[this.#at + 1] ?? "";
        const simple = ESCAPES[escaped];
        if (simple !== undefined) {
          value += simple;
          this.#at += 2;
        } else if (
          escaped === "u" &&
          /^[0-9a-fA-F]{4}$/.test(text.slice(this.#at + 2, this.#at + 6))
        ) {
          value += String.fromCharCode(Number.parseInt(text.slice(this.#at + 2, this.#at + 6), 16));
          this.#at += 6;
        } else {
          throw new JsonSyntaxError(
            'an unknown escape in a string: JSON knows \\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX',
            this.#at,
            2,
          );
        }
        continue;
      }
      value += char;
      this.#at++;
    }
  }

  #array(depth: number): { value: unknown; node: JsonNode } {
    const start = this.#at;
    this.#at++;
    const value: unknown[] = [];
    const items: JsonNode[] = [];
    this.#space();
    if (this.#text[this.#at] === "]") {
      this.#at++;
      return {
        value,
        node: { kind: "array", span: { start, end: this.#at, quoted: false }, items },
      };
    }
    for (;;) {
      const item = this.#value(depth + 1);
      value.push(item.value);
      items.push(item.node);
      this.#space();
      const char = this.#text[this.#at];
      if (char === "]") {
        this.#at++;
        return {
          value,
          node: { kind: "array", span: { start, end: this.#at, quoted: false }, items },
        };
      }
      if (char !== ",") this.#fail('"," or "]" after an item of a list');
      const comma = this.#at;
      this.#at++;
      this.#space();
      if (this.#text[this.#at] === "]") {
        throw new JsonSyntaxError('a comma before "]": JSON allows no trailing comma', comma);
      }
    }
  }

  #object(depth: number): { value: unknown; node: JsonNode } {
    const start = this.#at;
    this.#at++;
    const value: Record<string, unknown> = {};
    const entries = new Map<string, { key: Span; value: JsonNode }>();
    this.#space();
    if (this.#text[this.#at] === "}") {
      this.#at++;
      return {
        value,
        node: { kind: "object", span: { start, end: this.#at, quoted: false }, entries },
      };
    }
    for (;;) {
      if (this.#text[this.#at] !== '"') this.#fail("a key in double quotes");
      const keyStart = this.#at;
      const key = this.#string();
      const keySpan = { start: keyStart, end: this.#at, quoted: true };
      if (entries.has(key)) {
        throw new JsonSyntaxError(
          `duplicate key ${JSON.stringify(key)}`,
          keyStart,
          this.#at - keyStart,
        );
      }
      this.#space();
      if (this.#text[this.#at] !== ":") this.#fail('":" after a key');
      this.#at++;
      this.#space();
      const item = this.#value(depth + 1);
      // An own property even for "__proto__", as JSON.parse makes it.
      Object.defineProperty(value, key, {
        value: item.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      entries.set(key, { key: keySpan, value: item.node });
      this.#space();
      const char = this.#text[this.#at];
      if (char === "}") {
        this.#at++;
        return {
          value,
          node: { kind: "object", span: { start, end: this.#at, quoted: false }, entries },
        };
      }
      if (char !== ",") this.#fail('"," or "}" after a value');
      const comma = this.#at;
      this.#at++;
      this.#space();
      if (this.#text[this.#at] === "}") {
        throw new JsonSyntaxError('a comma before "}": JSON allows no trailing comma', comma);
      }
    }
  }
}
