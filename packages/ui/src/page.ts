/**
 * The page's HTML, for the live view and for the report. Its script is
 * written in TypeScript (page/ in this package) and bundled by esbuild at
 * build time into dist/browser.js, which the server serves and the report
 * inlines.
 */

import { readFile } from "node:fs/promises";

let script: Promise<string> | undefined;

/** The bundled page script (dist/browser.js). */
export function pageScript(): Promise<string> {
  if (script === undefined) {
    // From src/ (tests) and dist/ alike, the bundle is ../dist/browser.js.
    const url = new URL("../dist/browser.js", import.meta.url);
    script = readFile(url, "utf8").catch((error: unknown) => {
      script = undefined;
      throw new Error(
        `@asyncjobs/ui: the page script ${url.pathname} is missing; build the package (npm run build)`,
        { cause: error },
      );
    });
  }
  return script;
}

/** Text made safe for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const STYLE = `
:root { --idle:#e8e8e8; --scheduled:#cfe3ff; --running:#ffd966; --done:#9fdc9f; --failed:#ff9b9b;
  --cancelled:#c9b3e6; --skipped:#f4f4f4; font-family: system-ui, sans-serif; font-size: 14px; }
body { margin: 0; background: #fafafa; color: #222; }
header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 8px 14px;
  background: #fff; border-bottom: 1px solid #ddd; position: sticky; top: 0; z-index: 2; }
header h1 { font-size: 16px; margin: 0 8px 0 0; }
.chip { padding: 2px 8px; border-radius: 10px; border: 1px solid #bbb; font-variant-numeric: tabular-nums; }
.chip.idle, .s-idle { background: var(--idle); } .chip.scheduled, .s-scheduled { background: var(--scheduled); }
.chip.running, .s-running { background: var(--running); } .chip.done, .s-done { background: var(--done); }
.chip.failed, .s-failed { background: var(--failed); } .chip.cancelled, .s-cancelled { background: var(--cancelled); }
.chip.skipped, .s-skipped { background: var(--skipped); }
#clock { font-variant-numeric: tabular-nums; }
#outcome.ok { color: #176317; font-weight: bold; } #outcome.bad { color: #a31515; font-weight: bold; }
#cancel { margin-left: auto; background: #a31515; color: #fff; border: 0; border-radius: 4px; padding: 6px 12px; cursor: pointer; }
#cancel:disabled { background: #bbb; cursor: default; }
main { display: flex; gap: 10px; padding: 10px; align-items: flex-start; }
#graph-pane { flex: 1 1 60%; min-width: 0; background: #fff; border: 1px solid #ddd; border-radius: 4px; }
#crumbs { padding: 4px 8px; border-bottom: 1px solid #eee; min-height: 18px; }
#crumbs a { cursor: pointer; color: #0645ad; }
#graph { overflow: auto; max-height: 70vh; padding: 6px; }
#graph svg { max-width: 100%; height: auto; }
#graph g.node, #graph g.cluster { cursor: pointer; }
#graph g.node > polygon, #graph g.node > path, #graph g.node > ellipse { fill: var(--idle); }
${["idle", "scheduled", "running", "done", "failed", "cancelled", "skipped"]
  .map(
    (state) =>
      `#graph g.node.s-${state} > polygon, #graph g.node.s-${state} > path, #graph g.node.s-${state} > ellipse { fill: var(--${state}); }\n` +
      `#graph g.cluster.s-${state} > polygon, #graph g.cluster.s-${state} > path { fill: var(--${state}); fill-opacity: 0.35; }`,
  )
  .join("\n")}
#graph g.node.selected > polygon, #graph g.node.selected > path { stroke: #0645ad; stroke-width: 3px; }
#details { flex: 1 1 40%; min-width: 0; background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: 8px 12px; }
#details h2 { font-size: 15px; margin: 4px 0 8px; }
#details dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0 0 8px; }
#details dt { color: #666; } #details dd { margin: 0; word-break: break-word; }
pre { background: #1e1e1e; color: #ddd; padding: 6px 8px; border-radius: 4px; max-height: 45vh; overflow: auto;
  white-space: pre-wrap; word-break: break-all; margin: 4px 0; font-size: 12px; }
pre .err { color: #ff8c8c; } #error-text { color: #ffb0b0; }
section.pane { margin: 0 10px 10px; background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: 6px 10px; }
section.pane h2 { font-size: 15px; margin: 2px 0 6px; }
#timeline-scroll { overflow: auto; max-height: 260px; }
#timeline { display: block; cursor: pointer; }
#legend span { margin-right: 10px; }
#table-head, .row { display: grid; grid-template-columns: 60px minmax(160px, 2fr) 90px 80px 50px minmax(160px, 3fr);
  gap: 8px; align-items: center; height: 22px; padding: 0 6px; white-space: nowrap; overflow: hidden; }
#table-head { font-weight: bold; border-bottom: 1px solid #ddd; }
#table-scroll { height: 320px; overflow: auto; position: relative; }
.row { position: absolute; left: 0; right: 0; cursor: pointer; border-bottom: 1px solid #f0f0f0; }
.row span { overflow: hidden; text-overflow: ellipsis; }
.row:hover { outline: 1px solid #0645ad; }
.state { border-radius: 8px; padding: 0 6px; text-align: center; }
#notice { padding: 4px 14px; background: #fff7d6; display: none; }
.muted { color: #777; }
`;

/** The page of the live view: the script comes from the server, the token from the URL. */
export function livePage(title: string, token: string): string {
  return page(
    title,
    `<script src="/page.js?token=${encodeURIComponent(token)}"></script>`,
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
}

/** The report: one file, data and script inlined, which asks nothing of any network. */
export function reportPage(title: string, data: unknown, script: string): string {
  // "<" never appears raw inside the JSON, so no text in it can close the script element.
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const code = script.replace(/<\/(script)/gi, "<\\/$1");
  return page(
    title,
    `<script id="asyncjobs-report" type="application/json">${json}</script>\n<script>${code}</script>`,
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'",
  );
}

function page(title: string, scripts: string, policy: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1 id="title">${escapeHtml(title)}</h1>
  <span id="counts"></span>
  <span id="clock"></span>
  <span id="outcome"></span>
  <button id="cancel" type="button" hidden>Cancel the run</button>
</header>
<div id="notice"></div>
<main>
  <section id="graph-pane"><nav id="crumbs"></nav><div id="graph"><p class="muted">Drawing the graph…</p></div></section>
  <aside id="details"><p class="muted">Click a job, in the graph, the timeline or the table, to see its details and output.</p></aside>
</main>
<section class="pane" id="timeline-pane"><h2>Timeline</h2><div id="legend"></div><div id="timeline-scroll"><canvas id="timeline" width="800" height="40"></canvas></div></section>
<section class="pane" id="table-pane"><h2>Jobs</h2>
  <div id="table-head"><span>id</span><span>job</span><span>state</span><span>duration</span><span>tries</span><span>last line</span></div>
  <div id="table-scroll"><div id="table-spacer"></div></div>
</section>
${scripts}
</body>
</html>
`;
}
