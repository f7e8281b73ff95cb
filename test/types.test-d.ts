/**
 * Type tests of the public API: checked by `npm run typecheck` (this file is
 * compiled, never run). `expectTypeOf` pins the types users see; each
 * `@ts-expect-error` line is a call that must not compile, and the compiler
 * itself fails the check if such a line ever compiles.
 */

import { CommandJob } from "@asyncjobs/node";
import {
  AbstractJob,
  Job,
  type JobContext,
  type JobEvent,
  PrintJob,
  PureScheduler,
  type Requirement,
  Scheduler,
  type SchedulerEvent,
  Sequence,
  sleep,
  Watch,
} from "asyncjobs";
import { expectTypeOf } from "expect-type";

// Compiled only: a function nobody calls keeps the file free of top-level await.
export async function typeTests(): Promise<void> {
  // --- A job's result is typed from what its function returns. ---
  const answer = new Job(async () => 42, { label: "answer" });
  expectTypeOf(answer).toEqualTypeOf<Job<number>>();
  expectTypeOf(answer.result()).toEqualTypeOf<number>();
  expectTypeOf(answer.standaloneRun()).toEqualTypeOf<Promise<number>>();

  const text = new Job(() => "plain value, no promise");
  expectTypeOf(text.result()).toEqualTypeOf<string>();

  const thenable = new Job(() => Promise.resolve({ rows: 3 }));
  expectTypeOf(thenable.result()).toEqualTypeOf<{ rows: number }>();

  const nothing = new Job(async () => {});
  expectTypeOf(nothing.result()).toEqualTypeOf<void>();

  // The function gets the job's context; its signal is an AbortSignal.
  new Job(async (context) => {
    expectTypeOf(context).toEqualTypeOf<JobContext>();
    expectTypeOf(context.signal).toEqualTypeOf<AbortSignal>();
  });

  // An explicit type argument constrains what the function may return.
  const declared = new Job<number>(async () => 1);
  expectTypeOf(declared.result()).toEqualTypeOf<number>();

  // --- Requirements take jobs of any result type, with no cast. ---
  const a = new Job(async ({ signal }) => {
    await sleep(10, signal);
    return 1;
  });
  const b = new Job(async () => "b");
  const both = new Job(async ({ signal }) => `${a.result() + 1} ${b.result()} ${signal.aborted}`, {
    required: [a, b],
  });
  expectTypeOf(both.result()).toEqualTypeOf<string>();

  const nested = new Scheduler(a, { label: "nested" });
  expectTypeOf(nested.result()).toEqualTypeOf<boolean>();
  const sequence = new Sequence(new Job(() => 1), new Job(() => 2));
  new Job(() => null, { required: [nested, sequence, new Set([a, b]), [[a], null, undefined]] });
  new Job(() => null, { required: a });
  new Job(() => null, { required: null });
  both.requires(a, [b], new Set([nested]), sequence, null);
  expectTypeOf(both.requires(a, { remove: true })).toEqualTypeOf<Job<string>>();

  // Requirements read back as jobs; the typed references stay with the user.
  expectTypeOf(both.required).toEqualTypeOf<ReadonlySet<AbstractJob>>();
  expectTypeOf<[Job<number>, Job<string>]>().toExtend<Requirement>();

  // --- Schedulers, sequences, print jobs. ---
  const scheduler = new Scheduler(a, b, both, { jobsWindow: 2, timeout: 1000, critical: false });
  expectTypeOf(scheduler).toExtend<AbstractJob<boolean>>();
  expectTypeOf(scheduler).toExtend<PureScheduler>();
  expectTypeOf(scheduler.run()).toEqualTypeOf<Promise<boolean>>();
  expectTypeOf(new PureScheduler(sequence).run({ signal: AbortSignal.timeout(10) })).toEqualTypeOf<
    Promise<boolean>
  >();
  expectTypeOf(scheduler.list()).toEqualTypeOf<string>();
  expectTypeOf(new PrintJob("hello", "world", { sleep: 10 }).result()).toEqualTypeOf<void>();
  expectTypeOf(new Sequence(a, b, { required: nested }).jobs).toEqualTypeOf<AbstractJob[]>();
  expectTypeOf(new Watch().elapsed()).toEqualTypeOf<string>();

  // Events are typed by their name.
  scheduler.events.addEventListener("job:done", (event) => {
    expectTypeOf(event).toEqualTypeOf<JobEvent>();
    expectTypeOf(event.job).toEqualTypeOf<AbstractJob>();
  });
  scheduler.events.addEventListener("scheduler:ended", (event) => {
    expectTypeOf(event).toEqualTypeOf<SchedulerEvent>();
  });

  // A subclass of AbstractJob declares its result type.
  class Fetch extends AbstractJob<Uint8Array> {
    override async run(): Promise<Uint8Array> {
      return new Uint8Array();
    }
  }
  expectTypeOf(new Fetch().result()).toEqualTypeOf<Uint8Array>();

  // The Node entry adds its own jobs.
  expectTypeOf(new CommandJob("true")).toExtend<AbstractJob>();

  // --- Calls that must not compile. ---

  // @ts-expect-error a promise is already running: a job takes a function.
  new Job(Promise.resolve(1));
  // @ts-expect-error a job takes a function, not a value.
  new Job(42);
  // @ts-expect-error the result is a number, not a string.
  const wrong: string = answer.result();
  // @ts-expect-error the function returns a string where a number was declared.
  new Job<number>(async () => "one");
  // @ts-expect-error the context has a signal, nothing else.
  new Job(async ({ cancel }) => cancel);
  // @ts-expect-error labels are strings.
  new Job(() => 1, { label: 3 });
  // @ts-expect-error an unknown option is refused.
  new Job(() => 1, { retries: 3 });
  // @ts-expect-error a string is not a requirement.
  new Job(() => 1, { required: "a" });
  // @ts-expect-error nor a plain object.
  new Job(() => 1, { required: [{ label: "a" }] });
  // @ts-expect-error nor a promise.
  a.requires(Promise.resolve(b));
  // @ts-expect-error durations are numbers of milliseconds.
  new Scheduler(a, { timeout: "1s" });
  // @ts-expect-error jobsWindow is a number.
  new PureScheduler(a, { jobsWindow: true });
  // @ts-expect-error a value is not a job.
  new Scheduler(a, 42);
  // @ts-expect-error a PureScheduler takes no job options.
  new PureScheduler(a, { critical: false });
  // @ts-expect-error run() takes options, not a timeout.
  scheduler.run(1000);
  // @ts-expect-error there is no synchronous result on a promise.
  (await scheduler.run()).result();
  // @ts-expect-error unknown event names get untyped events: no `job` on them.
  scheduler.events.addEventListener("job:nope", (event: JobEvent) => event.job);
  void wrong;
}
