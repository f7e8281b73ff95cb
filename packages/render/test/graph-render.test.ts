/**
 * Rendering without a system Graphviz: every tutorial example's scheduler
 * exported to SVG and PNG on a PATH without `dot`, graph() and its notebook
 * display, errors that name the path or the format, renderers that load
 * only when used, and the same from the built package.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { PureScheduler, Scheduler, Sequence } from "asyncjobs";
import {
  catchSchedulers,
  exampleNames,
  importExample,
} from "../../../scripts/example-schedulers.js";
import { captureText } from "../../core/test/presentation-capture.js";
import { quickJob } from "../../core/test/support.js";
import { svgToPng } from "../src/raster.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../", import.meta.url));

let scratch: string;
let emptyPath: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), "asyncjobs-graphs-"));
  emptyPath = await mkdtemp(join(tmpdir(), "asyncjobs-no-dot-"));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
  await rm(emptyPath, { recursive: true, force: true });
});

/** Runs `fn` with a PATH on which no program, `dot` included, can be found. */
async function withoutDot<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = emptyPath;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

/** The size a PNG declares in its header, after checking its signature. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  assert.deepEqual([...bytes.subarray(0, 8)], signature, "PNG signature");
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.toString("latin1", 12, 16), "IHDR");
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
}

/** The size an SVG made by Graphviz declares, in points. */
function svgSize(svg: string): { width: number; height: number } {
  const match = /<svg width="(\d+)pt" height="(\d+)pt"/.exec(svg);
  assert.ok(match, "the SVG declares its size in points");
  return { width: Number(match[1]), height: Number(match[2]) };
}

describe("exports of every tutorial example, without a system Graphviz", () => {
  it("renders each example's schedulers to SVG and PNG files", async () => {
    const names = await exampleNames();
    assert.ok(names.length >= 8, `tutorial examples found: ${names.join(", ")}`);
    let schedulers: PureScheduler[] = [];
    await captureText(async () => {
      schedulers = await catchSchedulers(() => Promise.all(names.map(importExample)));
    });
    assert.ok(schedulers.length >= names.length);
    await withoutDot(async () => {
      for (const [index, scheduler] of schedulers.entries()) {
        const base = join(scratch, `example-${index}`);
        assert.equal(await scheduler.exportAsSvgfile(base), `${base}.svg`);
        assert.equal(await scheduler.exportAsPngfile(base), `${base}.png`);
        const svg = await readFile(`${base}.svg`, "utf8");
        assert.match(svg, /^<\?xml[\s\S]*<svg [\s\S]*<\/svg>\s*$/);
        // Each job is drawn with its graph label.
        for (const job of scheduler.iterateJobs({ scanSchedulers: true })) {
          // The scheduler itself is the picture, not a box in it.
          if ((job as unknown) === scheduler) continue;
          const label = job.resolvedGraphLabel().replace(/-/g, "&#45;");
          assert.ok(svg.includes(`>${label}</text>`), `${label} in example ${index}`);
        }
        // resvg parses it (it rejects malformed XML), and the PNG is that picture at zoom 2.
        const png = await readFile(`${base}.png`);
        const size = pngSize(png);
        const points = svgSize(svg);
        assert.ok(
          Math.abs(size.width - ((points.width * 4) / 3) * 2) <= 2,
          `${size.width} px for ${points.width} pt`,
        );
        assert.ok(Math.abs(size.height - ((points.height * 4) / 3) * 2) <= 2);
        assert.ok(size.width >= 40 && size.height >= 40 && size.width < 8000 && size.height < 8000);
        pngSize(await svgToPng(await scheduler.graph({ status: true }).svg()));
      }
    });
  });

  it("draws the text of labels in PNGs, with the font shipped as a package", async () => {
    const svg = await new PureScheduler(quickJob("WWWWWWWWWWWWWWWWWWWW", 1)).graph().svg();
    const withText = await svgToPng(svg);
    const withoutText = await svgToPng(svg.replace(/<text[^>]*>[^<]*<\/text>/g, ""));
    assert.deepEqual(pngSize(withText), pngSize(withoutText));
    assert.ok(
      withText.length > withoutText.length + 200,
      `${withText.length} vs ${withoutText.length}`,
    );
  });
});

describe("graph()", () => {
  it("holds the DOT text, renders to SVG, and displays as SVG in notebooks", async () => {
    const scheduler = new Scheduler(new Sequence(quickJob("a", 1), quickJob("b", 2)));
    const graph = scheduler.graph();
    assert.equal(graph.dot, scheduler.dotFormat());
    assert.equal(String(graph), graph.dot);
    const svg = await graph.svg();
    assert.match(svg, /<svg /);
    const display = (graph as unknown as Record<symbol, () => Promise<Record<string, string>>>)[
      Symbol.for("Jupyter.display")
    ];
    assert.equal(typeof display, "function");
    const bundle = await display!.call(graph);
    assert.equal(bundle["image/svg+xml"], svg);
    assert.equal(bundle["text/plain"], graph.dot);
  });
});

describe("file exports", () => {
  const scheduler = (): PureScheduler => new PureScheduler(quickJob("a", 1), quickJob("b", 2));

  it("exportAsDotfile() writes dotFormat() and says so", async () => {
    const file = join(scratch, "graph.dot");
    const s = scheduler();
    assert.equal(await s.exportAsDotfile(file), `(Over)wrote ${file}`);
    assert.equal(await readFile(file, "utf8"), s.dotFormat());
  });

  it("keeps a file name that already has the suffix", async () => {
    const file = join(scratch, "named.svg");
    assert.equal(await scheduler().exportAsGraphic(file, "svg"), file);
    assert.ok((await stat(file)).size > 0);
  });

  it("rejects an unwritable path, naming it", async () => {
    const missing = join(scratch, "no-such-folder", "graph");
    await assert.rejects(scheduler().exportAsSvgfile(missing), (error: Error) =>
      error.message.includes(`${missing}.svg`),
    );
    await assert.rejects(scheduler().exportAsPngfile(missing), (error: Error) =>
      error.message.includes(`${missing}.png`),
    );
    await assert.rejects(scheduler().exportAsDotfile(`${missing}.dot`), (error: Error) =>
      error.message.includes(`${missing}.dot`),
    );
  });

  it("rejects an unknown suffix, naming it", async () => {
    await assert.rejects(
      scheduler().exportAsGraphic(join(scratch, "graph"), "gif" as "svg"),
      (error: Error) => error.message.includes('"gif"'),
    );
  });
});

/**
 * A child process that imports `entry` (the core) while a module hook
 * records every module resolved, then prints them as JSON; with `png`, it
 * then renders a graph to PNG, which makes the core find `@asyncjobs/render`.
 */
const PROBE = `
import { register } from "node:module";
import { MessageChannel } from "node:worker_threads";
const [entry, png] = process.argv.slice(1);
const hook = "let port; export function initialize(data) { port = data.port; }" +
  "export async function resolve(specifier, context, next) {" +
  "  const result = await next(specifier, context); port.postMessage(result.url); return result; }";
const { port1, port2 } = new MessageChannel();
const seen = [];
port1.on("message", (url) => seen.push(url));
register("data:text/javascript," + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] });
async function settle() {
  const marker = "data:text/javascript,export default " + JSON.stringify(seen.length + ":" + Math.random());
  await import(marker);
  while (!seen.includes(marker)) await new Promise((resolve) => setTimeout(resolve, 5));
  return seen.splice(0).filter((url) => url !== marker);
}
const library = await import(entry);
const onImport = await settle();
let onRender = [];
let error = null;
if (png) {
  const scheduler = new library.PureScheduler(new library.Job(async () => 1, { label: "from the package" }));
  try {
    await scheduler.exportAsPngfile(png);
  } catch (failure) {
    error = failure.message;
  }
  onRender = await settle();
}
port1.close();
console.log(JSON.stringify({ exports: Object.keys(library), onImport, onRender, error }));
`;

const RENDERERS = /@hpcc-js|@resvg|dejavu-fonts-ttf|\/render\/(src|dist)\/|^node:/;

async function probe(args: string[], tsx: boolean, cwd = root) {
  const { stdout } = await run(
    process.execPath,
    [...(tsx ? ["--import", "tsx"] : []), "--input-type=module", "-e", PROBE, ...args],
    { cwd, env: { ...process.env, PATH: emptyPath }, timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split("\n").pop()!) as {
    exports: string[];
    onImport: string[];
    onRender: string[];
    error: string | null;
  };
}

describe("lazy loading", () => {
  it("importing asyncjobs loads no renderer, no font and no Node module; exporting does", async () => {
    const png = join(scratch, "lazy");
    const result = await probe(["./packages/core/src/index.ts", png], true);
    assert.equal(result.error, null);
    assert.ok(result.exports.includes("Scheduler"));
    assert.ok(result.onImport.some((url) => url.endsWith("/core/src/presentation/dot.ts")));
    const loaded = result.onImport.filter((url) => RENDERERS.test(url));
    assert.deepEqual(loaded, [], "modules loaded by importing asyncjobs");
    assert.ok(result.onRender.some((url) => url.includes("@hpcc-js/wasm-graphviz")));
    assert.ok(result.onRender.some((url) => url.includes("@resvg/resvg-wasm")));
    pngSize(await readFile(`${png}.png`));
  });
});

describe("the built packages", () => {
  it("the core finds @asyncjobs/render by name, and that finds resvg's .wasm and the font", async () => {
    const png = join(scratch, "from-dist");
    const dist = join(root, "packages", "core", "dist");
    const result = await probe([join(dist, "index.js"), png], false);
    assert.equal(result.error, null);
    assert.ok(result.exports.includes("PureScheduler"));
    assert.deepEqual(
      result.onImport.filter((url) => RENDERERS.test(url)),
      [],
    );
    assert.ok(result.onRender.some((url) => url.endsWith("/packages/render/dist/raster.js")));
    const size = pngSize(await readFile(`${png}.png`));
    assert.ok(size.width > 40 && size.height > 40);
  });

  it("without @asyncjobs/render, exports reject with an error that names it", async () => {
    // The core alone, where no node_modules holds the renderer.
    const alone = join(scratch, "core-alone");
    await mkdir(join(alone, "node_modules"), { recursive: true });
    await cp(join(root, "packages", "core"), join(alone, "node_modules", "asyncjobs"), {
      recursive: true,
      filter: (path) => !path.includes("node_modules") && !path.includes(`${"/"}src${"/"}`),
    });
    const result = await probe(["asyncjobs", join(scratch, "never")], false, alone);
    assert.match(result.error ?? "", /exportAsGraphic\(\) needs the package @asyncjobs\/render/);
    assert.match(result.error ?? "", /npm install @asyncjobs\/render/);
  });
});
