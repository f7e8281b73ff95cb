/**
 * Run traces: what each job did during a run (start, end, attempts,
 * outcome), recorded from the engine's events, exportable as a Chrome trace
 * (Perfetto, chrome://tracing) and as OpenTelemetry spans.
 */
import type { JobEvent, SchedulerEvents } from "../engine/events.js";
import type { PureScheduler } from "../engine/pure-scheduler.js";
import type { AbstractJob } from "../jobs/abstract-job.js";
import { formatException, resolvedTextLabel } from "./repr.js";

/** How a job's run ended, as far as the trace saw. */
export type TraceOutcome = "done" | "failed" | "cancelled" | "skipped" | "running" | "not started";

/** One job's part in a run. Times are milliseconds since the run started. */
export interface TraceSpan {
  /** The job. */
  readonly job: AbstractJob;
  /** Its text label. */
  readonly label: string;
  /** The scheduler that owns it (the innermost one). */
  readonly scheduler: PureScheduler;
  /** How deep that scheduler is below the traced one (0: the traced one itself). */
  readonly depth: number;
  /** When its first attempt started, if it did. */
  start: number | undefined;
  /** When it finished (done, failed, cancelled or skipped), if it did. */
  end: number | undefined;
  /** How many attempts it made (retries included). */
  attempts: number;
  /** How it ended. */
  outcome: TraceOutcome;
  /** What it threw, when it failed. */
  error: unknown;
}

/** A Chrome trace event (the "Trace Event Format"). */
export interface ChromeTraceEvent {
  /** What the event is about: a job's label, or a metadata name such as `thread_name`. */
  name: string;
  /** The event's categories, comma-separated. */
  cat?: string;
  /** The phase: `X` a complete event (with `dur`), `M` metadata, `i` an instant. */
  ph: "X" | "M" | "i";
  /** When it happened, in microseconds. */
  ts: number;
  /** How long it lasted, in microseconds (complete events). */
  dur?: number;
  /** The process row. */
  pid: number;
  /** The thread row, within the process. */
  tid: number;
  /** The scope of an instant event: thread, process or global. */
  s?: "t" | "p" | "g";
  /** Anything else shown with the event. */
  args?: Record<string, unknown>;
}

/** Options of {@link RunTrace.exportOpenTelemetry}. */
export interface OpenTelemetryExportOptions {
  /** The tracer name (default `asyncjobs`). */
  tracerName?: string;
}

/** The minimal OpenTelemetry API surface used here (from `@opentelemetry/api`). */
interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: unknown): unknown;
  end(endTime?: number): void;
}
interface OtelApi {
  trace: {
    getTracer(name: string): {
      startSpan(name: string, options?: { startTime?: number }, context?: unknown): OtelSpan;
    };
    setSpan(context: unknown, span: OtelSpan): unknown;
  };
  context: { active(): unknown };
  SpanStatusCode: { OK: number; ERROR: number };
}

/** What a traced run recorded. */
export class RunTrace {
  /** The traced scheduler. */
  readonly scheduler: PureScheduler;
  /** `performance.now()` when the run started: span times are relative to it. */
  readonly origin: number;
  /** Every job's span, in the order they first showed up. */
  readonly spans: TraceSpan[] = [];
  /** When the run ended (ms since its start), once it has. */
  end: number | undefined = undefined;
  readonly #byJob = new Map<AbstractJob, TraceSpan>();

  constructor(scheduler: PureScheduler, origin: number) {
    this.scheduler = scheduler;
    this.origin = origin;
  }

  /** The span of `job`, created on first use. @internal */
  _span(job: AbstractJob, owner: PureScheduler): TraceSpan {
    let span = this.#byJob.get(job);
    if (span === undefined) {
      span = {
        job,
        label: resolvedTextLabel(job),
        scheduler: owner,
        depth: depthBelow(owner, this.scheduler),
        start: undefined,
        end: undefined,
        attempts: 0,
        outcome: "not started",
        error: undefined,
      };
      this.#byJob.set(job, span);
      this.spans.push(span);
    }
    return span;
  }

  /** The span of `job`, if the run touched it. */
  spanOf(job: AbstractJob): TraceSpan | undefined {
    return this.#byJob.get(job);
  }

  /**
   * The trace in Chrome's Trace Event Format: one complete event per span
   * (microseconds), spread over as few rows as never overlap, so that
   * Perfetto and chrome://tracing draw each job as one bar.
   */
  toChromeTrace(): {
    /** The metadata, span and instant events. */
    traceEvents: ChromeTraceEvent[];
    /** How viewers show times. */
    displayTimeUnit: "ms";
  } {
    const events: ChromeTraceEvent[] = [
      { name: "process_name", ph: "M", ts: 0, pid: 1, tid: 0, args: { name: "asyncjobs" } },
    ];
    const laneEnds: number[] = [];
    const started = this.spans
      .filter((span) => span.start !== undefined)
      .sort((a, b) => (a.start ?? 0) - (b.start ?? 0));
    const runEnd = this.end ?? Math.max(0, ...started.map((span) => span.end ?? span.start ?? 0));
    for (const span of started) {
      const start = span.start ?? 0;
      const end = span.end ?? runEnd;
      let lane = laneEnds.findIndex((laneEnd) => laneEnd <= start);
      if (lane === -1) {
        lane = laneEnds.length;
        laneEnds.push(end);
        events.push({
          name: "thread_name",
          ph: "M",
          ts: 0,
          pid: 1,
          tid: lane + 1,
          args: { name: `lane ${lane + 1}` },
        });
      } else {
        laneEnds[lane] = end;
      }
      events.push({
        name: span.label,
        cat: span.outcome,
        ph: "X",
        ts: Math.round(start * 1000),
        dur: Math.max(1, Math.round((end - start) * 1000)),
        pid: 1,
        tid: lane + 1,
        args: {
          id: span.job.reprId(),
          outcome: span.outcome,
          attempts: span.attempts,
          critical: span.job.critical,
          forever: span.job.forever,
          depth: span.depth,
          ...(span.outcome === "failed" ? { error: formatException(span.error) } : {}),
        },
      });
    }
    for (const span of this.spans.filter((span) => span.outcome === "skipped")) {
      events.push({
        name: `${span.label} (skipped)`,
        cat: "skipped",
        ph: "i",
        s: "g",
        ts: Math.round((span.end ?? 0) * 1000),
        pid: 1,
        tid: 0,
      });
    }
    return { traceEvents: events, displayTimeUnit: "ms" };
  }

  /**
   * Sends the spans to OpenTelemetry through `@opentelemetry/api`, when that
   * package is installed (it is an optional peer dependency); with no SDK
   * configured, the API's no-op tracer makes this cost nothing. Nested
   * schedulers' spans are the parents of their jobs' spans. Resolves false
   * when the API is not installed.
   */
  async exportOpenTelemetry(options: OpenTelemetryExportOptions = {}): Promise<boolean> {
    const api = await loadOpenTelemetry();
    if (api === undefined) return false;
    const tracer = api.trace.getTracer(options.tracerName ?? "asyncjobs");
    const epoch = (time: number): number => performance.timeOrigin + this.origin + time;
    const spanOfScheduler = new Map<unknown, OtelSpan>();
    const root = tracer.startSpan((this.scheduler as { label?: string }).label ?? "scheduler", {
      startTime: epoch(0),
    });
    spanOfScheduler.set(this.scheduler, root);
    // Parents before children: spans are recorded in start order, and a
    // nested scheduler starts before its jobs.
    const pending: OtelSpan[] = [];
    for (const span of this.spans) {
      if (span.start === undefined) continue;
      const parent = spanOfScheduler.get(span.scheduler) ?? root;
      const context = api.trace.setSpan(api.context.active(), parent);
      const otel = tracer.startSpan(span.label, { startTime: epoch(span.start) }, context);
      otel.setAttribute("asyncjobs.id", span.job.reprId());
      otel.setAttribute("asyncjobs.outcome", span.outcome);
      otel.setAttribute("asyncjobs.attempts", span.attempts);
      otel.setAttribute("asyncjobs.critical", span.job.critical);
      if (span.outcome === "failed") {
        otel.recordException(span.error instanceof Error ? span.error : String(span.error));
        otel.setStatus({ code: api.SpanStatusCode.ERROR, message: formatException(span.error) });
      } else if (span.outcome === "done") {
        otel.setStatus({ code: api.SpanStatusCode.OK });
      }
      spanOfScheduler.set(span.job, otel);
      if (span.end !== undefined) otel.end(epoch(span.end));
      else pending.push(otel);
    }
    const end = epoch(this.end ?? 0);
    for (const otel of pending) otel.end(end);
    root.end(end);
    return true;
  }

  /** A JSON-friendly copy (jobs replaced by their ids and labels). */
  toJSON(): unknown {
    return {
      end: this.end,
      spans: this.spans.map((span) => ({
        id: span.job.reprId(),
        label: span.label,
        depth: span.depth,
        start: span.start,
        end: span.end,
        attempts: span.attempts,
        outcome: span.outcome,
        ...(span.outcome === "failed" ? { error: formatException(span.error) } : {}),
      })),
    };
  }
}

async function loadOpenTelemetry(): Promise<OtelApi | undefined> {
  // A variable keeps bundlers from insisting on an optional package.
  const name = "@opentelemetry/api";
  try {
    return (await import(/* @vite-ignore */ name)) as OtelApi;
  } catch {
    return undefined;
  }
}

function depthBelow(owner: PureScheduler, top: PureScheduler): number {
  let depth = 0;
  for (
    let current: PureScheduler | undefined = owner;
    current && current !== top;
    current = current._owner
  ) {
    depth++;
  }
  return depth;
}

const JOB_TYPES = [
  "job:started",
  "job:done",
  "job:failed",
  "job:cancelled",
  "job:retried",
  "job:skipped",
] as const;

/**
 * Starts recording a trace of `scheduler`'s run from its events; returns
 * the trace and the function that stops recording.
 */
export function recordTrace(scheduler: PureScheduler): { trace: RunTrace; stop: () => void } {
  const trace = new RunTrace(scheduler, performance.now());
  const events: SchedulerEvents = scheduler.events;
  const onJob = (event: JobEvent): void => {
    const span = trace._span(event.job, event.scheduler);
    const time = event.time - trace.origin;
    switch (event.type) {
      case "job:started":
        span.attempts++;
        span.start ??= time;
        span.outcome = "running";
        break;
      case "job:done":
        span.end = time;
        span.outcome = "done";
        break;
      case "job:failed":
        span.end = time;
        span.outcome = "failed";
        span.error = event.job.raisedException();
        break;
      case "job:cancelled":
        span.end = time;
        span.outcome = "cancelled";
        break;
      case "job:skipped":
        span.end = time;
        span.outcome = "skipped";
        break;
    }
  };
  const onEnd = (event: Event): void => {
    if ((event as { scheduler?: unknown }).scheduler === scheduler) {
      trace.end = performance.now() - trace.origin;
    }
  };
  for (const type of JOB_TYPES) events.addEventListener(type, onJob);
  events.addEventListener("scheduler:ended", onEnd);
  return {
    trace,
    stop: () => {
      for (const type of JOB_TYPES) events.removeEventListener(type, onJob);
      events.removeEventListener("scheduler:ended", onEnd);
    },
  };
}
