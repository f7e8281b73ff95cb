/**
 * docs/performance.md is made by a full bench run from its tables
 * (bench/results/full.md): the page must be what the bench makes from the
 * figures kept in the repository, not a hand-edited copy.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { it } from "node:test";
// @ts-expect-error: a JavaScript module of the bench, without types.
import { performanceDoc } from "../bench/performance-doc.mjs";

it("docs/performance.md is the bench's page for bench/results/full.md", async () => {
  const root = new URL("../", import.meta.url);
  const tables = await readFile(new URL("bench/results/full.md", root), "utf8");
  const page = await readFile(new URL("docs/performance.md", root), "utf8");
  assert.equal(page, (performanceDoc as (tables: string) => string)(tables));
});
