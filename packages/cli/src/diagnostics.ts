/**
 * Mistakes found in a workflow file, each with its line and column, printed
 * the way compilers do: `file:line:col: message`, then the line with a caret.
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

  /** The full report: one block per mistake, then a summary line. */
  report(): string {
    if (this.diagnostics.length === 0) return `${this.file}: ${this.message}\n`;
    const lines = this.source?.split(/\r?\n/) ?? [];
    const blocks = this.diagnostics.map((d) => formatDiagnostic(this.file, d, lines));
    const count = this.diagnostics.length;
    blocks.push(`${this.file}: ${count} mistake${count === 1 ? "" : "s"} found; nothing was run.`);
    return `${blocks.join("\n")}\n`;
  }
}

function formatDiagnostic(file: string, d: Diagnostic, lines: readonly string[]): string {
  const head = `${file}:${d.line}:${d.column}: ${d.message}`;
  const text = lines[d.line - 1];
  if (text === undefined) return head;
  const gutter = String(d.line).length;
  const caretLength = Math.max(1, Math.min(d.length, text.length - d.column + 1));
  return [
    head,
    `  ${String(d.line).padStart(gutter)} | ${text}`,
    `  ${" ".repeat(gutter)} | ${" ".repeat(d.column - 1)}${"^".repeat(caretLength)}`,
  ].join("\n");
}

/** The candidate closest to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/** ` (did you mean "x"?)` or nothing. */
export function suggestion(word: string, candidates: Iterable<string>): string {
  const match = closest(word, candidates);
  return match === undefined ? "" : ` (did you mean "${match}"?)`;
}

/** Edit distance where swapping two neighbouring letters counts as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
