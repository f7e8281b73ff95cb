/**
 * Command lines without a shell: splitting a string into arguments the way a
 * POSIX shell would for plain words and quotes, and quoting arguments back
 * for display. No expansion of any kind happens here.
 *
 * @module
 */

/** Characters that mean something only to a shell, when they are not quoted. */
const SHELL_SYNTAX = new Set(["|", "&", ";", "<", ">", "$", "`"]);

/** A command line that cannot be split: an unterminated quote, or shell syntax. */
export class CommandLineError extends Error {
  /** `"CommandLineError"`. */
  override name = "CommandLineError";
  /** Index in the command line of the character at fault. */
  readonly index: number;

  constructor(message: string, index: number) {
    super(message);
    this.index = index;
  }
}

/**
 * Splits a command line into its arguments: words separated by blanks,
 * `'single'` and `"double"` quotes, and backslash escapes (outside quotes and,
 * for `"`, `` and `$`, inside double quotes).
 *
 * Throws a {@link CommandLineError} on an unterminated quote, and on an
 * unquoted character that only a shell understands (`|`, `&`, `;`, `<`, `>`,
 * `$`, a backquote): such a command needs `shell: true`.
 *
 * @example
 * ```ts
 * splitCommandLine(`git commit -m "first commit"`); // ["git", "commit", "-m", "first commit"]
 * ```
 */
export function splitCommandLine(line: string): string[] {
  const args: string[] = [];
  let current = "";
  let inWord = false;
  let index = 0;
  while (index < line.length) {
    const char = line[index]!;
    if (char === " " || char === "\t" || char === "\n" || char === "\r") {
      if (inWord) args.push(current);
      current = "";
      inWord = false;
      index++;
      continue;
    }
    inWord = true;
    if (char === "'") {
      const end = line.indexOf("'", index + 1);
      if (end < 0) throw new CommandLineError("unterminated single quote", index);
      current += line.slice(index + 1, end);
      index = end + 1;
    } else if (char === '"') {
      const start = index;
      index++;
      for (;;) {
        if (index >= line.length) throw new CommandLineError("unterminated double quote", start);
        const inner = line[index]!;
        if (inner === '"') break;
        if (inner === "\\" && index + 1 < line.length && '"\\$`'.includes(line[index + 1]!)) {
          current += line[index + 1];
          index += 2;
        } else {
          current += inner;
          index++;
        }
      }
      index++;
    } else if (char === "\\") {
      if (index + 1 < line.length) current += line[index + 1];
      index += 2;
    } else if (SHELL_SYNTAX.has(char)) {
      throw new CommandLineError(
        `"${char}" means something only to a shell: quote it, or run the command with shell: true`,
        index,
      );
    } else {
      current += char;
      index++;
    }
  }
  if (inWord) args.push(current);
  return args;
}

/** Quotes one argument for display, only when it needs it. */
export function quoteArgument(arg: string): string {
  if (arg !== "" && /^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** An argument list as a command line a POSIX shell would read back the same. */
export function joinCommandLine(argv: readonly string[]): string {
  return argv.map(quoteArgument).join(" ");
}

/**
 * An argument list as a POSIX shell command line that runs exactly it: every
 * argument single-quoted, the first too (so that none is read as a keyword,
 * an assignment, a glob or any other shell syntax).
 */
export function shellCommandLine(argv: readonly string[]): string {
  return argv.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(" ");
}
