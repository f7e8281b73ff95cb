/**
 * dotFormat() and mermaidFormat(): the original's DOT structure, nested
 * schedulers as clusters with edges through their middle entry/exit jobs,
 * escaping checked by rendering, and the status colouring.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AbstractJob, Job, PureScheduler, Scheduler, Sequence } from "asyncjobs";
import { renderSvg } from "../../render/src/graphviz.js";
import { quickJob } from "./support.js";

/** The lines of `dot` that declare a node (`"1" [...]`), by id. */
function nodes(dot: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of dot.split("\n")) {
    const match = /^\s*"([^"]+)" \[(.*)\];$/.exec(line);
    if (match) found.set(match[1]!, match[2]!);
  }
  return found;
}

/** The edge lines of `dot`, trimmed. */
function edges(dot: string): string[] {
  return dot
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.includes(" -> "));
}

/** Checks that `dot` has the edge line `edge`, showing its edges otherwise. */
function assertEdge(dot: string, edge: string): void {
  const all = edges(dot);
  assert.ok(all.includes(edge), `${edge} in:\n${all.join("\n")}`);
}

/** Each job's id, by label, in the whole tree below `scheduler` (after a listing or a graph). */
function idsByLabel(scheduler: PureScheduler): Record<string, string> {
  return Object.fromEntries(
    [...scheduler.iterateJobs({ scanSchedulers: true })].map((job) => [job.label, job.reprId()]),
  );
}

/** What Graphviz wrote as text in the SVG, unescaped. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) =>
    match[1]!
      .replace(/&#45;/g, "-")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, "&"),
  );
}

describe("dotFormat()", () => {
  it("has the original's structure: boxes, rounded jobs, thick red critical, dashed forever", () => {
    const a = quickJob("a", 1);
    const b = quickJob("b", 2, { critical: false, required: a });
    const c = quickJob("c", 3, { forever: true, critical: false });
    const dot = new PureScheduler(a, b, c).dotFormat();
    const lines = dot.split("\n");
    assert.equal(lines[0], "digraph asynciojobs{");
    assert.equal(lines[1], "compound=true;");
    assert.match(lines[2]!, /^graph \[.*\];$/);
    assert.equal(dot.trimEnd().endsWith("}"), true);
    const byId = nodes(dot);
    assert.equal(byId.size, 3);
    assert.equal(
      byId.get("1"),
      'label="1: a", shape="box", style="rounded", color="red", penwidth=2',
    );
    assert.equal(byId.get("2"), 'label="2: c", shape="box", style="rounded,dashed", penwidth=0.5');
    assert.equal(byId.get("3"), 'label="3: b", shape="box", style="rounded", penwidth=0.5');
    assert.deepEqual(edges(dot), ['"1" -> "3";']);
  });

  it("draws nested schedulers as clusters, with edges through their middle entry and exit jobs", () => {
    const start = quickJob("start", 0);
    const entries = [quickJob("e1", 1), quickJob("e2", 2), quickJob("e3", 3)];
    const exits = [
      quickJob("x1", 1, { required: entries }),
      quickJob("x2", 2, { required: entries }),
    ];
    const inner = new Scheduler(...entries, ...exits, {
      label: "inner",
      critical: false,
      forever: false,
    });
    const second = new Scheduler(quickJob("s1", 1), quickJob("s2", 2), {
      label: "second",
      forever: true,
    });
    const end = quickJob("end", 0);
    const main = new Scheduler(new Sequence(start, inner, second, end));
    const dot = main.dotFormat();
    const ids = idsByLabel(main);
    assert.match(
      dot,
      new RegExp(
        `subgraph cluster_${ids.inner}\\{\\n  compound=true;\\n  graph \\[label="${ids.inner}: inner", shape="box", style="solid", penwidth=0.5\\];`,
      ),
    );
    assert.match(
      dot,
      new RegExp(
        `subgraph cluster_${ids.second}\\{\\n  compound=true;\\n  graph \\[label="${ids.second}: second", shape="box", style="dashed", color="red", penwidth=2\\];`,
      ),
    );
    // Jobs inside a cluster are declared inside it.
    assert.match(
      dot,
      new RegExp(`cluster_${ids.inner}\\{[^}]*"${ids.e2}" \\[label="${ids.e2}: e2"`),
    );
    // Three entries: the middle one (by id) takes the edge; two exits: the first.
    assertEdge(dot, `"${ids.start}" -> "${ids.e2}" [lhead="cluster_${ids.inner}"];`);
    assertEdge(
      dot,
      `"${ids.x1}" -> "${ids.s1}" [lhead="cluster_${ids.second}", ltail="cluster_${ids.inner}"];`,
    );
    assertEdge(dot, `"${ids.s1}" -> "${ids.end}" [ltail="cluster_${ids.second}"];`);
  });

  it("finds a real node behind a scheduler nested in a scheduler, and draws empty ones", async () => {
    const deepest = new Scheduler(quickJob("leaf", 1), { label: "deepest" });
    const middle = new Scheduler(deepest, { label: "middle" });
    const empty = new Scheduler({ label: "empty" });
    const main = new PureScheduler(
      new Sequence(quickJob("before", 0), middle, empty, quickJob("after", 0)),
    );
    const dot = main.dotFormat();
    const ids = idsByLabel(main);
    const all = edges(dot);
    assertEdge(dot, `"${ids.before}" -> "${ids.leaf}" [lhead="cluster_${ids.middle}"];`);
    assertEdge(
      dot,
      `"${ids.leaf}" -> "${ids.empty}.empty" [lhead="cluster_${ids.empty}", ltail="cluster_${ids.middle}"];`,
    );
    assertEdge(dot, `"${ids.empty}.empty" -> "${ids.after}" [ltail="cluster_${ids.empty}"];`);
    // Every edge end is a declared node, so Graphviz draws no stray ones.
    const declared = nodes(dot);
    for (const edge of all) {
      for (const end of edge.match(/"[^"]+"/g)!.slice(0, 2)) {
        if (!end.startsWith('"cluster_'))
          assert.ok(declared.has(end.slice(1, -1)), `${end} in ${edge}`);
      }
    }
    const svg = await renderSvg(dot);
    assert.equal((svg.match(/class="node"/g) ?? []).length, declared.size);
    assert.equal((svg.match(/class="cluster"/g) ?? []).length, 3);
  });

  it("escapes labels so that any text yields valid DOT", async () => {
    const nasty = [
      'say "hi"',
      "back\\slash",
      "ends with a backslash\\",
      "two\nlines",
      "closing } brace { and ; semicolon",
      "tab\there",
      "<not html> & [brackets]",
    ];
    class Labelled extends AbstractJob<void> {
      override async run(): Promise<void> {}
      override graphLabel(): string {
        return String(this.label);
      }
      override dotStyle(): Record<string, string | number> {
        return { ...super.dotStyle(), tooltip: `tip "${this.label}"`, "odd key": "x" };
      }
    }
    const jobs = nasty.map((label) => new Labelled({ label }));
    const inner = new Scheduler(new Labelled({ label: 'inner "}" \\' }), { label: "x" });
    const dot = new PureScheduler(...jobs, inner).dotFormat();
    assert.match(dot, /"odd key"="x"/);
    const svg = await renderSvg(dot);
    const texts = svgTexts(svg);
    for (const label of nasty) {
      for (const line of label.replace(/\t/g, " ").split("\n"))
        assert.ok(texts.includes(line), `${JSON.stringify(line)} in ${JSON.stringify(texts)}`);
    }
    assert.ok(texts.includes('inner "}" \\'));
  });

  it("paints each job by its status after a run, with the outcome in its label", async () => {
    const fine = quickJob("fine", 7);
    const boom = new Job(
      async () => {
        throw new TypeError("bad input");
      },
      { label: "boom", required: fine },
    );
    const never = quickJob("never", 0, { required: boom });
    const ticker = new Job(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      { label: "ticker", forever: true, critical: false },
    );
    const scheduler = new PureScheduler(fine, boom, never, ticker);
    assert.match(
      scheduler.dotFormat({ status: true }),
      /label="\d: fine\\nidle", shape="box", style="rounded,filled".*fillcolor="#ffffff"/,
    );
    assert.equal(await scheduler.run(), false);
    const dot = scheduler.dotFormat({ status: true });
    assert.match(
      dot,
      /^graph \[fontname="DejaVu Sans", label="a CRITICAL job has raised an exception", labelloc="t"\];$/m,
    );
    assert.match(
      dot,
      /label="\d: fine\\ndone -> 7", .*style="rounded,filled", .*fillcolor="#d3f9d8"/,
    );
    assert.match(dot, /label="\d: boom\\nraised TypeError:bad input", .*fillcolor="#ffc9c9"/);
    assert.match(dot, /label="\d: never\\nidle", .*fillcolor="#ffffff"/);
    assert.match(
      dot,
      /label="\d: ticker\\ncancelled", .*style="rounded,dashed,filled", .*fillcolor="#dee2e6"/,
    );
    assert.doesNotMatch(scheduler.dotFormat(), /fillcolor|filled/);
    assert.match(await scheduler.graph({ status: true }).svg(), /raised TypeError:bad input/);
  });

  it("throws naming the cycle, and rejects unknown options", () => {
    const a = quickJob("a", 1);
    const b = quickJob("b", 1, { required: a });
    a.requires(b);
    const scheduler = new PureScheduler(a, b);
    assert.throws(
      () => scheduler.dotFormat(),
      /dotFormat\(\).*"[ab]" requires "[ab]" requires "[ab]"/,
    );
    assert.throws(() => scheduler.mermaidFormat(), /mermaidFormat\(\).*cycle/);
    assert.throws(
      () => new PureScheduler().dotFormat({ colour: true } as never),
      /unknown option "colour"/,
    );
    assert.throws(() => new PureScheduler().dotFormat({ status: 1 } as never), /status/);
  });
});

describe("mermaidFormat()", () => {
  it("draws jobs as rounded nodes, nested schedulers as subgraphs, with styles", () => {
    const a = quickJob("a", 1);
    const inner = new Scheduler(
      quickJob("i1", 1),
      quickJob("i2", 2, { forever: true, critical: false }),
      {
        label: "inner",
        required: a,
      },
    );
    const z = quickJob("z", 1, { required: inner, critical: false });
    const text = new PureScheduler(a, inner, z).mermaidFormat();
    assert.equal(
      text,
      [
        "flowchart TD",
        '  j1("1: a")',
        '  subgraph s2["2: inner"]',
        '    j3("3: i1")',
        '    j4("4: i2")',
        "  end",
        "  j1 --> s2",
        '  j5("5: z")',
        "  s2 --> j5",
        "  classDef critical stroke:#d00,stroke-width:2px;",
        "  classDef forever stroke-dasharray:5 5;",
        "  class j1,j3 critical;",
        "  class j4 forever;",
        "  style s2 stroke:#d00,stroke-width:2px;",
        "",
      ].join("\n"),
    );
  });

  it("escapes labels with entity codes, and paints statuses", async () => {
    const job = quickJob('say "hi" #1 <b> `x`\nnext & more', 1);
    const scheduler = new PureScheduler(job);
    assert.match(
      scheduler.mermaidFormat(),
      /j1\("1: say #quot;hi#quot; #35;1 #lt;b#gt; #96;x#96;<br>next #amp; more"\)/,
    );
    await scheduler.run();
    const text = scheduler.mermaidFormat({ status: true });
    assert.match(text, /j1\(".*<br>done -#gt; 1"\)/);
    assert.match(text, /^ {2}classDef done fill:#d3f9d8;$/m);
    assert.match(text, /^ {2}class j1 done;$/m);
  });
});
