/**
 * Mistakes found in a workflow file, each with its line and column, printed
 * the way compilers do: `file:line:col: message`, then the line with a caret.
 *
 * The file is not trusted to be well-formed: whatever it holds is shown
 * escaped (an escape sequence in an id must not drive the terminal), the
 * report is bounded, and suggestions have a budget.
 */

/** One mistake in a workflow file. Lines and columns count from 1. */
export interface Diagnostic {
  /** What is wrong, in a sentence. */
  message: string;
  /** The line it is on. */
  line: number;
  /** The column it starts at. */
  column: number;
  /** How many characters to underline (at least 1). */
  length: number;
}

/** How many mistakes a report shows in full; the others are counted. */
export const SHOWN_DIAGNOSTICS = 100;

/** A workflow that cannot be loaded: every mistake found, or one reason. */
export class WorkflowError extends Error {
  /** `"WorkflowError"`. */
  override name = "WorkflowError";
  /** The file at fault. */
  readonly file: string;
  /** Its text, when it could be read (for the code frames). */
  readonly source: string | undefined;
  /** Every mistake found, in the order of the file; empty for a file that cannot be read. */
  readonly diagnostics: readonly Diagnostic[];

  constructor(file: string, message: string, diagnostics: Diagnostic[] = [], source?: string) {
    super(message);
    this.file = file;
    this.source = source;
    this.diagnostics = [...diagnostics].sort((a, b) => a.line - b.line || a.column - b.column);
  }

  /**
   * The full report: one block per mistake (the first `SHOWN_DIAGNOSTICS`),
   * then a summary line. Control characters from the file are escaped.
   */
  report(): string {
    const file = visible(this.file);
    if (this.diagnostics.length === 0) {
      // A module's error may span lines on purpose (a stack): keep its line breaks.
      return `${file}: ${visible(this.message, true)}\n`;
    }
    const starts = this.source === undefined ? [] : lineStarts(this.source);
    const shown = this.diagnostics.slice(0, SHOWN_DIAGNOSTICS);
    const blocks = shown.map((d) => formatDiagnostic(file, d, this.source, starts));
    const count = this.diagnostics.length;
    const hidden = count - shown.length;
    if (hidden > 0) blocks.push(`${file}: … and ${hidden} more not shown`);
    blocks.push(`${file}: ${count} mistake${count === 1 ? "" : "s"} found; nothing was run.`);
    return `${blocks.join("\n")}\n`;
  }
}

/** The text of line `line` (from 1) of `source`, without its line break. */
function lineText(source: string, starts: readonly number[], line: number): string | undefined {
  const start = starts[line - 1];
  if (start === undefined) return undefined;
  const next = starts[line];
  const end = next === undefined ? source.length : next - 1;
  return source.slice(start, end).replace(/\r$/, "");
}

function formatDiagnostic(
  file: string,
  d: Diagnostic,
  source: string | undefined,
  starts: readonly number[],
): string {
  const head = `${file}:${d.line}:${d.column}: ${visible(d.message)}`;
  const text = source === undefined ? undefined : lineText(source, starts, d.line);
  if (text === undefined) return head;
  // A very long line (a minified file) is shown around the column only.
  const width = Math.min(Math.max(d.length, 1), 60);
  const from = Math.max(0, d.column - 1 - 60);
  const to = Math.min(text.length, d.column - 1 + width + 60);
  const before = (from > 0 ? "…" : "") + visible(text.slice(from, d.column - 1));
  const marked = visible(text.slice(d.column - 1, d.column - 1 + width));
  const after = visible(text.slice(d.column - 1 + width, to)) + (to < text.length ? "…" : "");
  const gutter = String(d.line).length;
  return [
    head,
    `  ${String(d.line).padStart(gutter)} | ${before}${marked}${after}`,
    `  ${" ".repeat(gutter)} | ${" ".repeat(before.length)}${"^".repeat(Math.max(1, marked.length))}`,
  ].join("\n");
}

/**
 * Characters that must not reach a terminal as they are: C0 controls
 * (escape sequences start with ESC), DEL, C1 controls, line and paragraph
 * separators, and the bidirectional overrides that reorder what is shown.
 */
const UNSAFE = "\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069";
// Built from text: a regular expression literal may not hold control characters.
const CONTROL = new RegExp(`[\\u0000-\\u001f${UNSAFE}]`, "g");
const CONTROL_BUT_NEWLINE = new RegExp(`[\\u0000-\\u0009\\u000b-\\u001f${UNSAFE}]`, "g");

/** Whether `text` holds a character that {@link visible} would escape (line breaks aside). */
export function hasControl(text: string): boolean {
  CONTROL_BUT_NEWLINE.lastIndex = 0;
  return CONTROL_BUT_NEWLINE.test(text);
}

const NAMED: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/**
 * `text` with every control character written as an escape (`\x1b`, `\t`,
 * `\u202e`), so that it prints as it is instead of acting on the terminal;
 * line breaks are kept when `keepNewlines` is set.
 */
export function visible(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? CONTROL_BUT_NEWLINE : CONTROL, (char) => {
    const named = NAMED[char];
    if (named !== undefined) return named;
    const code = char.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** The offset at which each line of `source` starts. */
export function lineStarts(source: string): number[] {
  const starts = [0];
  for (let index = source.indexOf("\n"); index >= 0; index = source.indexOf("\n", index + 1)) {
    starts.push(index + 1);
  }
  return starts;
}

/** The line and column (from 1) of `offset`, by a binary search of the line starts. */
export function linePosition(
  starts: readonly number[],
  offset: number,
): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}

/** Words longer than this get no suggestion: an edit distance costs the product of the lengths. */
const LONGEST_SUGGESTED = 64;

/**
 * Finds likely typos within a budget of work, so that a file with ten
 * thousand misspelled names is checked in linear time: once the budget is
 * spent, mistakes are still reported, without a "did you mean".
 */
export class Suggester {
  #budget: number;

  /** @param budget - how many cells of edit-distance tables it may fill in all */
  constructor(budget = 4_000_000) {
    this.#budget = budget;
  }

  /** The candidate closest to `word`, if it is close enough to be a likely typo. */
  closest(word: string, candidates: Iterable<string>): string | undefined {
    if (word.length > LONGEST_SUGGESTED || this.#budget <= 0) return undefined;
    const limit = Math.max(1, Math.floor(word.length / 3));
    const lower = word.toLowerCase();
    let best: string | undefined;
    let bestDistance = limit + 1;
    for (const candidate of candidates) {
      // Lengths further apart than the limit cannot be within it.
      if (Math.abs(candidate.length - word.length) > limit) continue;
      this.#budget -= (word.length + 1) * (candidate.length + 1);
      if (this.#budget < 0) return best;
      const distance = editDistance(lower, candidate.toLowerCase());
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** ` (did you mean "x"?)` or nothing. */
  suggestion(word: string, candidates: Iterable<string>): string {
    const match = this.closest(word, candidates);
    return match === undefined ? "" : ` (did you mean "${match}"?)`;
  }
}

/** The candidate closest to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  return new Suggester().closest(word, candidates);
}

/** ` (did you mean "x"?)` or nothing. */
export function suggestion(word: string, candidates: Iterable<string>): string {
  return new Suggester().suggestion(word, candidates);
}

/** Edit distance where swapping two neighbouring letters counts as one edit. */
function editDistance(a: string, b: string): number {
  // Three rows are enough: the one being filled, and the two above it (for swaps).
  let before = new Array<number>(b.length + 1).fill(0);
  let above = Array.from({ length: b.length + 1 }, (_, j) => j);
  let row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, before[j - 2]! + 1);
      }
      row[j] = best;
    }
    [before, above, row] = [above, row, before];
  }
  return above[b.length]!;
}
