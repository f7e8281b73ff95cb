/**
 * The page of the browser view and of the report. Live, it loads the run's
 * snapshot, then follows the server's batches of changes (Server-Sent
 * Events); in a report, it reads the data inlined in the page. Everything
 * a job printed or returned is set as text (textContent), never as HTML.
 */

import type { ReportData } from "../src/report.js";
import type { Batch, JobDetails, JobSummary, Progress, Snapshot } from "../src/state.js";
import type { JobState } from "../src/watch.js";

const STATES: readonly JobState[] = [
  "running",
  "scheduled",
  "idle",
  "done",
  "failed",
  "cancelled",
  "skipped",
];
const COLOURS: Record<JobState, string> = {
  idle: "#e8e8e8",
  scheduled: "#cfe3ff",
  running: "#ffd966",
  done: "#9fdc9f",
  failed: "#ff9b9b",
  cancelled: "#c9b3e6",
  skipped: "#f4f4f4",
};
const ROW_HEIGHT = 22;
const LANE_HEIGHT = 14;

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

function make<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  if (text !== undefined) created.textContent = text;
  if (className !== undefined) created.className = className;
  return created;
}

/** Milliseconds as people read them: 850 ms, 12.3 s, 2 min 05 s. */
function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  if (minutes < 60) return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

// ----- where the data comes from: the server, or the report itself -----

const embedded = document.getElementById("asyncjobs-report");
const report: ReportData | undefined =
  embedded === null ? undefined : (JSON.parse(embedded.textContent ?? "{}") as ReportData);
const token = new URLSearchParams(location.search).get("token") ?? "";

function api(path: string): string {
  return `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(api(path));
  if (!response.ok) throw new Error(`${path}: ${response.status} ${response.statusText}`);
  return (await response.json()) as T;
}

// ----- the state of the page -----

let snap: Snapshot;
let jobs: JobSummary[] = [];
const indexOfId = new Map<string, number>();
/** When the last progress arrived (performance.now()), to move the clock between batches. */
let progressAt = 0;
let selected = -1;
let shown: JobDetails | undefined;
/** How many output lines of the selected job the page has (dropped ones included). */
let linesHad = 0;
let scope = -1;
const graphNodes = new Map<number, Element>();

// ----- header: counts, clock, outcome, cancel -----

function renderProgress(): void {
  const counts = element("counts");
  counts.replaceChildren();
  const total = make("span", `${snap.counts.total} jobs`, "chip");
  counts.append(total);
  for (const state of STATES) {
    const count = snap.counts[state];
    if (count > 0) counts.append(" ", make("span", `${count} ${state}`, `chip ${state}`));
  }
  renderClock();
  const outcome = element("outcome");
  if (snap.ended) {
    outcome.textContent = snap.ok
      ? "the run succeeded"
      : `the run failed${snap.why ? `: ${snap.why}` : ""}`;
    outcome.className = snap.ok ? "ok" : "bad";
  } else {
    outcome.textContent = snap.started ? "" : "waiting for the run to start";
    outcome.className = "";
  }
  const cancel = element<HTMLButtonElement>("cancel");
  cancel.hidden = report !== undefined;
  if (snap.ended) cancel.disabled = true;
}

function renderClock(): void {
  let elapsed = snap.elapsed;
  if (snap.started && !snap.ended && report === undefined)
    elapsed += performance.now() - progressAt;
  let text = snap.started ? `elapsed ${duration(elapsed)}` : "";
  if (!snap.ended && snap.eta !== null) text += ` · about ${duration(snap.eta)} left`;
  element("clock").textContent = text;
}

function setProgress(progress: Progress): void {
  snap.elapsed = progress.elapsed;
  snap.eta = progress.eta;
  snap.counts = progress.counts;
  snap.started = progress.started;
  snap.ended = progress.ended;
  snap.ok = progress.ok;
  snap.why = progress.why;
  progressAt = performance.now();
}

function notice(text: string): void {
  const box = element("notice");
  box.textContent = text;
  box.style.display = text === "" ? "none" : "block";
}

// ----- the graph -----

function crumbs(): void {
  const nav = element("crumbs");
  nav.replaceChildren();
  if (!snap.collapsed) {
    nav.textContent = "Click a job for its details.";
    return;
  }
  const chain: number[] = [];
  for (let at = scope; at !== -1; at = jobs[at]?.parent ?? -1) chain.unshift(at);
  const top = make("a", snap.title);
  top.addEventListener("click", () => void showGraph(-1));
  nav.append(top);
  for (const index of chain) {
    nav.append(" › ");
    const link = make("a", jobs[index]?.label ?? "?");
    link.addEventListener("click", () => void showGraph(index));
    nav.append(link);
  }
  nav.append(
    make("span", ` — ${jobs.length} jobs: groups are folded; click one to open it.`, "muted"),
  );
}

async function graphText(at: number): Promise<string | null> {
  if (report !== undefined) {
    if (report.graphError !== null) throw new Error(report.graphError);
    const text = report.graphs[String(at)];
    if (text === undefined) throw new Error("this report has no picture of this group");
    return text;
  }
  const response = await fetch(api(`/graph?scope=${at}`));
  if (response.status === 204) return null;
  if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);
  return await response.text();
}

async function showGraph(at: number): Promise<void> {
  scope = at;
  crumbs();
  const box = element("graph");
  box.replaceChildren(make("p", "Drawing the graph…", "muted"));
  let text: string | null;
  try {
    text = await graphText(at);
  } catch (error) {
    box.replaceChildren(make("p", `No graph: ${(error as Error).message}`, "muted"));
    return;
  }
  if (scope !== at) return;
  graphNodes.clear();
  if (text === null) {
    box.replaceChildren(
      make("p", "This group has too many jobs to draw; the table below lists them all.", "muted"),
    );
    return;
  }
  // Parsed as SVG (XML), not as HTML: nothing in it runs.
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = parsed.documentElement;
  for (const script of Array.from(svg.querySelectorAll("script, foreignObject"))) script.remove();
  const imported = document.importNode(svg, true);
  for (const group of Array.from(imported.querySelectorAll("g.node, g.cluster"))) {
    const title = group.querySelector("title")?.textContent ?? "";
    const id = group.classList.contains("cluster") ? title.replace(/^cluster_/, "") : title;
    const index = indexOfId.get(id);
    if (index === undefined) continue;
    graphNodes.set(index, group);
    group.setAttribute("data-job", String(index));
    group.addEventListener("click", (event: Event) => {
      event.stopPropagation();
      const job = jobs[index];
      if (snap.collapsed && job?.kind === "group") void showGraph(index);
      else void select(index);
    });
    paintNode(index);
  }
  box.replaceChildren(imported);
}

function paintNode(index: number): void {
  const group = graphNodes.get(index);
  const job = jobs[index];
  if (group === undefined || job === undefined) return;
  const kind = group.classList.contains("cluster") ? "cluster" : "node";
  group.setAttribute("class", `${kind} s-${job.state}${index === selected ? " selected" : ""}`);
}

// ----- the table, virtualized: only the rows in sight exist -----

function renderTable(): void {
  const scroller = element("table-scroll");
  const spacer = element("table-spacer");
  spacer.style.height = `${jobs.length * ROW_HEIGHT}px`;
  const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(jobs.length, first + Math.ceil(scroller.clientHeight / ROW_HEIGHT) + 10);
  const rows: HTMLElement[] = [];
  const clock = snap.elapsed + (snap.ended ? 0 : performance.now() - progressAt);
  for (let index = first; index < last; index++) {
    const job = jobs[index];
    if (job === undefined) continue;
    const row = make("div", undefined, "row");
    row.style.top = `${index * ROW_HEIGHT}px`;
    row.dataset.job = String(index);
    const name = make("span", `${"\u00a0\u00a0".repeat(job.depth)}${job.label}`);
    name.title = job.path;
    let time = "";
    if (job.start !== null)
      time = duration((job.end ?? (snap.started ? clock : job.start)) - job.start);
    row.append(
      make("span", job.id),
      name,
      make("span", job.state, `state s-${job.state}`),
      make("span", time),
      make("span", job.attempts > 1 ? String(job.attempts) : ""),
      make("span", job.lastLine, "muted"),
    );
    if (index === selected) row.style.background = "#eef3ff";
    row.addEventListener("click", () => void select(index));
    rows.push(row);
  }
  spacer.replaceChildren(...rows);
}

// ----- the timeline: one row per concurrent slot, from the run's trace -----

interface Bar {
  index: number;
  lane: number;
  start: number;
  end: number;
}
let bars: Bar[] = [];
let scale = 1;

function renderTimeline(): void {
  const canvas = element<HTMLCanvasElement>("timeline");
  const now =
    snap.elapsed + (snap.ended || report !== undefined ? 0 : performance.now() - progressAt);
  const started = jobs
    .filter((job) => job.start !== null && job.kind !== "group")
    .sort((a, b) => (a.start ?? 0) - (b.start ?? 0));
  const laneEnds: number[] = [];
  bars = [];
  for (const job of started) {
    const start = job.start ?? 0;
    const end = job.end ?? Math.max(now, start);
    let lane = laneEnds.findIndex((laneEnd) => laneEnd <= start);
    if (lane === -1) {
      lane = laneEnds.length;
      laneEnds.push(end);
    } else laneEnds[lane] = end;
    bars.push({ index: job.i, lane, start, end });
  }
  const width = Math.max(300, element("timeline-scroll").clientWidth - 4);
  const height = Math.max(1, laneEnds.length) * LANE_HEIGHT + 18;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const context = canvas.getContext("2d");
  if (context === null) return;
  context.scale(ratio, ratio);
  context.clearRect(0, 0, width, height);
  const span = Math.max(now, ...bars.map((bar) => bar.end), 1);
  scale = (width - 2) / span;
  context.font = "10px sans-serif";
  context.fillStyle = "#666";
  const step = niceStep(span / 8);
  for (let tick = 0; tick <= span; tick += step) {
    const x = tick * scale;
    context.fillRect(x, 0, 1, 4);
    context.fillText(duration(tick), Math.min(x + 2, width - 40), 12);
  }
  for (const bar of bars) {
    const job = jobs[bar.index];
    if (job === undefined) continue;
    context.fillStyle = COLOURS[job.state];
    const x = bar.start * scale;
    // A pixel apart, so that jobs one after the other in a slot stay two bars.
    const w = Math.max(1, (bar.end - bar.start) * scale - 1);
    const y = 16 + bar.lane * LANE_HEIGHT;
    context.fillRect(x, y, w, LANE_HEIGHT - 2);
    if (w > 40) {
      context.save();
      context.beginPath();
      context.rect(x, y, w - 2, LANE_HEIGHT - 2);
      context.clip();
      context.fillStyle = "#222";
      context.fillText(job.label, x + 3, y + LANE_HEIGHT - 4);
      context.restore();
    }
    if (bar.index === selected) {
      context.strokeStyle = "#0645ad";
      context.strokeRect(x, 16 + bar.lane * LANE_HEIGHT, w, LANE_HEIGHT - 2);
    }
  }
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= raw) return factor * power;
  return 10 * power;
}

function legend(): void {
  const box = element("legend");
  for (const state of ["running", "done", "failed", "cancelled"] as const) {
    const chip = make("span", state, `chip ${state}`);
    box.append(chip, " ");
  }
}

let timelineQueued = false;
let timelineDrawn = 0;
/** Redraws the timeline at most twice a second: sorting 10 000 bars ten times a second would not do. */
function queueTimeline(): void {
  if (timelineQueued) return;
  timelineQueued = true;
  const wait = Math.max(0, 500 - (performance.now() - timelineDrawn));
  setTimeout(() => {
    requestAnimationFrame(() => {
      timelineQueued = false;
      timelineDrawn = performance.now();
      renderTimeline();
    });
  }, wait);
}

// ----- a job's details -----

function field(list: HTMLElement, name: string, value: string): void {
  list.append(make("dt", name), make("dd", value));
}

function outputLine(pre: HTMLElement, stream: 0 | 1, text: string): void {
  pre.append(make("span", `${text}\n`, stream === 1 ? "err" : undefined));
}

function renderDetails(details: JobDetails): void {
  const box = element("details");
  const job = jobs[details.i];
  box.replaceChildren(make("h2", details.label));
  const list = make("dl");
  field(list, "id", details.id);
  if (details.path !== details.label) field(list, "path", details.path);
  field(list, "kind", details.kind);
  const state = make("dd");
  state.append(make("span", details.state, `state s-${details.state}`));
  list.append(make("dt", "state"), state);
  const traits = [details.critical ? "critical" : "not critical", details.forever ? "forever" : ""];
  field(list, "traits", traits.filter(Boolean).join(", "));
  if (details.start !== null) field(list, "started", `at ${duration(details.start)}`);
  if (details.end !== null) field(list, "ended", `at ${duration(details.end)}`);
  if (details.start !== null && details.end !== null) {
    field(list, "took", duration(details.end - details.start));
  }
  field(list, "attempts", String(details.attempts));
  if (job !== undefined && job.requires.length > 0) {
    field(list, "requires", job.requires.map((index) => jobs[index]?.label ?? "?").join(", "));
  }
  box.append(list);
  if (details.details !== "") {
    box.append(make("h3", "Description"), make("pre", details.details));
  }
  if (details.result !== null) {
    const pre = make("pre", details.result);
    pre.id = "result-text";
    box.append(make("h3", "Result"), pre);
  }
  if (details.error !== null) {
    const pre = make("pre", details.error);
    pre.id = "error-text";
    box.append(make("h3", "Error"), pre);
  }
  if (details.kind === "command" || details.kind === "ssh" || details.output.length > 0) {
    box.append(make("h3", "Output"));
    if (details.dropped > 0) {
      box.append(make("p", `(${details.dropped} earlier lines not kept)`, "muted"));
    }
    const pre = make("pre");
    pre.id = "output";
    for (const [stream, text] of details.output) outputLine(pre, stream, text);
    box.append(pre);
    pre.scrollTop = pre.scrollHeight;
  }
  linesHad = details.dropped + details.output.length;
}

async function select(index: number): Promise<void> {
  const previous = selected;
  selected = index;
  paintNode(previous);
  paintNode(index);
  renderTable();
  queueTimeline();
  let details: JobDetails | undefined;
  if (report !== undefined) details = report.details[index];
  else {
    try {
      details = await getJson<JobDetails>(`/job?i=${index}`);
    } catch (error) {
      element("details").replaceChildren(make("p", (error as Error).message, "muted"));
      return;
    }
  }
  if (selected !== index || details === undefined) return;
  shown = details;
  renderDetails(details);
}

// ----- live updates -----

let tableQueued = false;
function queueTable(): void {
  if (tableQueued) return;
  tableQueued = true;
  requestAnimationFrame(() => {
    tableQueued = false;
    renderTable();
  });
}

function applyBatch(batch: Batch): void {
  setProgress(batch);
  let refetch = false;
  for (const [index, state, start, end, attempts, lastLine] of batch.jobs) {
    const job = jobs[index];
    if (job === undefined) continue;
    job.state = state;
    job.start = start;
    job.end = end;
    job.attempts = attempts;
    job.lastLine = lastLine;
    paintNode(index);
    if (index === selected && shown !== undefined && shown.state !== state) refetch = true;
  }
  for (const [index, first, lines] of batch.out) {
    if (index !== selected) continue;
    const pre = document.getElementById("output");
    if (pre === null) continue;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    lines.forEach(([stream, text], offset) => {
      // Lines already in the details fetched meanwhile are not shown twice.
      if (first + offset >= linesHad) {
        outputLine(pre, stream, text);
        linesHad = first + offset + 1;
      }
    });
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }
  renderProgress();
  queueTable();
  queueTimeline();
  if (refetch) void select(selected);
}

function follow(): void {
  const events = new EventSource(api("/events"));
  events.onmessage = (message) => {
    notice("");
    applyBatch(JSON.parse(message.data) as Batch);
  };
  events.addEventListener("bye", () => {
    events.close();
    notice("The run is over and its server has closed: this page shows the final state.");
    element<HTMLButtonElement>("cancel").disabled = true;
  });
  events.onerror = () => {
    if (snap.ended) {
      events.close();
      notice("The run is over and its server has closed: this page shows the final state.");
    } else {
      notice("Lost touch with the run; trying again…");
    }
  };
  const cancel = element<HTMLButtonElement>("cancel");
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    cancel.textContent = "Cancelling…";
    try {
      const response = await fetch(api("/cancel"), { method: "POST" });
      if (!response.ok) throw new Error(`${response.status}`);
    } catch (error) {
      cancel.disabled = false;
      cancel.textContent = "Cancel the run";
      notice(`Could not cancel: ${(error as Error).message}`);
    }
  });
  setInterval(() => {
    if (snap.started && !snap.ended) {
      renderClock();
      if (jobs.some((job) => job.state === "running")) queueTimeline();
    }
  }, 250);
}

async function start(): Promise<void> {
  snap = report !== undefined ? report.snapshot : await getJson<Snapshot>("/state");
  jobs = snap.jobs;
  for (const job of jobs) indexOfId.set(job.id, job.i);
  progressAt = performance.now();
  legend();
  renderProgress();
  element("table-scroll").addEventListener("scroll", queueTable, { passive: true });
  element("timeline").addEventListener("click", (event) => {
    const y = event.offsetY - 16;
    const lane = Math.floor(y / LANE_HEIGHT);
    const time = event.offsetX / scale;
    const hit = bars.find(
      (bar) => bar.lane === lane && bar.start <= time && time <= bar.end + 2 / scale,
    );
    if (hit !== undefined) void select(hit.index);
  });
  window.addEventListener("resize", queueTimeline);
  renderTable();
  renderTimeline();
  if (report === undefined) follow();
  await showGraph(-1);
  document.body.dataset.ready = "true";
}

start().catch((error: unknown) => {
  notice(`The page could not load the run: ${(error as Error).message}`);
});
