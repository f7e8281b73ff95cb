/**
 * README.md and examples/ cannot drift apart: every ```ts block of the README
 * is a piece of one of the example scripts (which examples.test.ts runs),
 * whitespace aside. A block may be an excerpt of a file, not the whole file.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The code blocks of a Markdown text fenced as ```ts (or ```typescript). */
export function typescriptBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const fence = /^```(ts|typescript)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (const match of markdown.matchAll(fence)) blocks.push(match[2] ?? "");
  return blocks;
}

/** The text with every run of whitespace removed, so that layout does not matter. */
function squeeze(text: string): string {
  return text.replace(/\s+/g, "");
}

async function examples(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of (await readdir(`${root}examples`)).sort()) {
    if (name.endsWith(".ts")) files.set(name, await readFile(`${root}examples/${name}`, "utf8"));
  }
  return files;
}

describe("README.md", () => {
  it("finds the ts blocks of a Markdown text", () => {
    const text = "x\n```ts\nconst a = 1;\n```\n```sh\nnpm test\n```\n```typescript\nb();\n```\n";
    assert.deepEqual(typescriptBlocks(text), ["const a = 1;\n", "b();\n"]);
  });

  it("takes every ts snippet from a script in examples/", async () => {
    const readme = await readFile(`${root}README.md`, "utf8");
    const blocks = typescriptBlocks(readme);
    assert.ok(blocks.length > 0, "README.md has no ts block");
    const files = [...(await examples())].map(([name, text]) => [name, squeeze(text)] as const);
    const orphans = blocks.filter((block) => {
      const wanted = squeeze(block);
      return wanted === "" || !files.some(([, text]) => text.includes(wanted));
    });
    assert.deepEqual(
      orphans,
      [],
      "these README blocks are not taken from any file of examples/ (whitespace aside)",
    );
  });

  it("links only to example files that exist", async () => {
    const readme = await readFile(`${root}README.md`, "utf8");
    const files = new Set(await readdir(`${root}examples`));
    const linked = [...readme.matchAll(/\]\(examples\/([^)#]+)\)/g)].map((match) => match[1]);
    const missing = linked.filter((name) => name !== undefined && !files.has(name));
    assert.deepEqual(missing, []);
  });
});
