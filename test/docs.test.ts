/**
 * README.md and docs/ cannot drift from the code: every fenced block says,
 * on the line before it, where it comes from, and this test checks it.
 *
 *   <!-- check: excerpt PATH -->     the block is a piece of PATH (whitespace aside;
 *                                    a `...` line skips part of the file)
 *   <!-- check: file PATH -->        the block is PATH, whole
 *   <!-- check: output PATH -->      the block is what the script PATH prints
 *   <!-- check: cli ARGS -->         the block is what `asyncjobs ARGS` prints
 *   <!-- check: tested-by TEST -->   the test file TEST reads this document and compares
 *                                    the block itself (for output that needs more than a run)
 *   <!-- check: commands -->         every line is a command that exists here:
 *                                    an npm script, a package of the family, a subcommand
 *
 * Printed text is compared line by line, with times (`000.103`, `139ms`,
 * `1.2s`) masked; a line `...` in the block stands for any number of lines.
 * `output` and `cli` take `unordered` at the end for output whose lines
 * come in an order that timing decides.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CLI } from "../packages/cli/test/cli-program.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../", import.meta.url));

/** A fenced block and what the line before it says. */
export interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string (`ts`, `sh`, ...). */
  info: string;
  /** The lines inside the fence. */
  body: string[];
  /** The check's words: kind first, or undefined without a marker. */
  check: string[] | undefined;
}

/** The fenced blocks of a Markdown text, with their markers. */
export function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== fence; i++) body.push(lines[i]!);
    const marker = /^<!-- check: (.+?) -->$/.exec(lines[start - 1] ?? "");
    blocks.push({
      line: start + 1,
      info: open[2]!.trim(),
      body,
      check: marker ? marker[1]!.split(/\s+/) : undefined,
    });
  }
  return blocks;
}

/** The text with every run of whitespace removed, so that layout does not matter. */
function squeeze(text: string): string {
  return text.replace(/\s+/g, "");
}

/** The squeezed pieces of an excerpt, cut at its `...` lines. */
export function excerptPieces(lines: readonly string[]): string[] {
  const pieces: string[][] = [[]];
  for (const line of lines) {
    if (/^\s*((#|\/\/)\s*)?\.\.\.(\s.*)?$/.test(line)) pieces.push([]);
    else pieces.at(-1)!.push(line);
  }
  return pieces.map((piece) => squeeze(piece.join("\n"))).filter((piece) => piece !== "");
}

/** A printed line with what timing decides masked. */
export function mask(line: string): string {
  return line
    .replace(/\b\d{3}\.\d{3}\b/g, "SSS.MMM")
    .replace(/\b\d+(\.\d+)? ?(ms|s)\b/g, "<time>")
    .replace(/\s+$/, "");
}

/** Whether `printed` matches `expected`, where a `...` line of `expected` matches any lines. */
export function matches(expected: string[], printed: string[]): boolean {
  const memo = new Map<string, boolean>();
  const go = (e: number, p: number): boolean => {
    const key = `${e}:${p}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (e === expected.length) result = p === printed.length;
    else if (expected[e] === "...") result = go(e + 1, p) || (p < printed.length && go(e, p + 1));
    else result = p < printed.length && expected[e] === printed[p] && go(e + 1, p + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

function comparePrinted(where: string, block: string[], stdout: string, unordered: boolean): void {
  const expected = block.map(mask);
  const printed = stdout.replace(/\n$/, "").split("\n").map(mask);
  if (unordered) {
    assert.deepEqual([...printed].sort(), [...expected].sort(), `${where}: printed lines differ`);
  } else {
    assert.ok(
      matches(expected, printed),
      `${where}: the block differs from what is printed.\n--- block\n${expected.join("\n")}\n--- printed\n${printed.join("\n")}`,
    );
  }
}

/** The Markdown files under watch. */
async function documents(): Promise<string[]> {
  const docs = (await readdir(join(root, "docs"), { recursive: true }))
    .filter((name) => name.endsWith(".md") && !name.startsWith("api/"))
    .map((name) => join("docs", name));
  const packages = (await readdir(join(root, "packages"))).map((name) =>
    join("packages", name, "README.md"),
  );
  return ["README.md", ...docs.sort(), ...packages.filter((p) => existsSync(join(root, p)))];
}

const scripts = async (): Promise<Set<string>> =>
  new Set(
    Object.keys(
      (JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { scripts: object })
        .scripts,
    ),
  );

async function familyNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const dir of await readdir(join(root, "packages"))) {
    const manifest = JSON.parse(
      await readFile(join(root, "packages", dir, "package.json"), "utf8"),
    ) as { name: string };
    names.add(manifest.name);
  }
  return names;
}

const SUBCOMMANDS = /^(run|list|check|graph|help|runs|show)$/;

/** Why a shell line names something that does not exist here, or undefined. */
async function checkCommandLine(line: string): Promise<string | undefined> {
  const command = line.replace(/\s+#.*$/, "").trim();
  if (command === "" || command.startsWith("#")) return undefined;
  for (const part of command.split(/\s*&&\s*/)) {
    const words = part.split(/\s+/);
    if (words[0] === "npm" && (words[1] === "run" || words[1] === "test")) {
      const script = words[1] === "test" ? "test" : words[2]!;
      if (!(await scripts()).has(script)) return `no npm script "${script}"`;
    } else if (words[0] === "npm" && (words[1] === "install" || words[1] === "i")) {
      const family = await familyNames();
      for (const name of words.slice(2).filter((word) => !word.startsWith("-"))) {
        if (!family.has(name)) return `"${name}" is not a package of this repository`;
      }
    } else if (words[0] === "npm" && words[1] === "ci") {
      // always there
    } else if (words[0] === "npx" && words[1] === "asyncjobs") {
      const sub = words[2];
      if (sub !== undefined && !sub.startsWith("-") && !SUBCOMMANDS.test(sub)) {
        return `no asyncjobs command "${sub}"`;
      }
      const file = words.find((word) => /\.(ya?ml|json|ts)$/.test(word));
      // A path names a file of this repository; a bare name is the reader's own file.
      if (file?.includes("/") && !existsSync(join(root, file))) return `no file ${file}`;
    } else {
      return `a command this test does not know how to check: ${part}`;
    }
  }
  return undefined;
}

async function checkBlock(file: string, block: Block): Promise<void> {
  const where = `${file}:${block.line}`;
  assert.ok(
    block.check,
    `${where}: a block without a <!-- check: ... --> line before it (see test/docs.test.ts)`,
  );
  const [kind, ...args] = block.check;
  const unordered = args.at(-1) === "unordered";
  if (unordered) args.pop();
  switch (kind) {
    case "excerpt":
    case "file": {
      const path = args[0]!;
      const text = await readFile(join(root, path), "utf8");
      if (kind === "file") {
        assert.equal(
          block.body.join("\n").trimEnd(),
          text.trimEnd(),
          `${where}: differs from ${path}`,
        );
      } else {
        // Pieces between `...` lines (or `# ...`, `// ...`) come from the file in order.
        const pieces = excerptPieces(block.body);
        const whole = squeeze(text);
        let from = 0;
        assert.ok(pieces.length > 0, `${where}: an empty excerpt`);
        for (const piece of pieces) {
          const at = whole.indexOf(piece, from);
          assert.ok(at >= 0, `${where}: not a piece of ${path}: ${piece}`);
          from = at + piece.length;
        }
      }
      return;
    }
    case "output": {
      const path = args[0]!;
      const { stdout } = await run(process.execPath, ["--import", "tsx", path], {
        cwd: root,
        timeout: 60_000,
        env: { ...process.env, ASYNCJOBS_ASCII: "0", NO_COLOR: "1" },
      });
      comparePrinted(where, block.body, stdout, unordered);
      return;
    }
    case "cli": {
      const result = await run(process.execPath, [...CLI, ...args], {
        cwd: root,
        timeout: 60_000,
        env: { ...process.env, ASYNCJOBS_ASCII: "0", NO_COLOR: "1" },
      }).catch((error: { stdout: string; stderr: string }) => error);
      comparePrinted(where, block.body, `${result.stdout}${result.stderr}`, unordered);
      return;
    }
    case "tested-by": {
      const test = args[0]!;
      const text = existsSync(join(root, test)) ? await readFile(join(root, test), "utf8") : "";
      assert.ok(text.includes(file), `${where}: ${test} does not read ${file}`);
      return;
    }
    case "commands": {
      const wrong: string[] = [];
      for (const line of block.body) {
        const why = await checkCommandLine(line);
        if (why) wrong.push(`${line}: ${why}`);
      }
      assert.deepEqual(wrong, [], `${where}: commands that do not exist here`);
      return;
    }
    default:
      assert.fail(`${where}: unknown check "${kind}"`);
  }
}

describe("the documentation", () => {
  it("reads blocks and markers, and compares printed lines as documented", () => {
    const text =
      "x\n<!-- check: excerpt a.ts -->\n```ts\nconst a = 1;\n```\n```sh\nnpm test\n```\n";
    const blocks = fencedBlocks(text);
    assert.deepEqual(
      blocks.map((b) => [b.line, b.info, b.body, b.check]),
      [
        [3, "ts", ["const a = 1;"], ["excerpt", "a.ts"]],
        [6, "sh", ["npm test"], undefined],
      ],
    );
    assert.equal(mask("000.103 done (139ms) in 1.2s"), "SSS.MMM done (<time>) in <time>");
    assert.ok(matches(["a", "...", "d"], ["a", "b", "c", "d"]));
    assert.ok(!matches(["a", "d"], ["a", "b", "d"]));
    assert.ok(!matches(["a", "a"], ["a"]));
    assert.deepEqual(excerptPieces(["a b", "  # ...", "c", "// ... left out", "d"]), [
      "ab",
      "c",
      "d",
    ]);
  });

  it("names, for every fenced block, where it comes from", async () => {
    const missing: string[] = [];
    for (const file of await documents()) {
      for (const block of fencedBlocks(await readFile(join(root, file), "utf8"))) {
        if (!block.check) missing.push(`${file}:${block.line}`);
      }
    }
    assert.deepEqual(missing, [], "blocks without a <!-- check: ... --> line");
  });

  it("links only to files that exist", async () => {
    const dead: string[] = [];
    for (const file of await documents()) {
      const text = await readFile(join(root, file), "utf8");
      for (const match of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = match[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const path = join(root, file, "..", target);
        if (!existsSync(path)) dead.push(`${file}: ${target}`);
      }
    }
    assert.deepEqual(dead, []);
  });
});

for (const file of await documents()) {
  const blocks = fencedBlocks(await readFile(join(root, file), "utf8")).filter((b) => b.check);
  if (blocks.length === 0) continue;
  describe(file, () => {
    for (const block of blocks) {
      it(`line ${block.line}: ${block.check!.join(" ")}`, () => checkBlock(file, block));
    }
  });
}
