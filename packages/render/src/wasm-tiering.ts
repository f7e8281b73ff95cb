/**
 * How the renderers' WebAssembly (Graphviz, resvg) is compiled: so that it
 * stays baseline code for as long as a picture or a few take.
 *
 * V8 compiles WebAssembly with its baseline compiler (Liftoff), then
 * recompiles each function that has run a while (its "tiering budget",
 * roughly bytes executed) with its optimising compiler (TurboFan). For the
 * renderers, megabytes of code whose hot functions are huge, that
 * recompilation cost several times the CPU of the drawing itself: a first
 * PNG of a 50-job graph took 1.9–2.4 s of CPU, against 0.5–0.6 s without
 * it (bench/NOTES.md, "The first picture"). A process makes one picture or
 * a few, and the optimised code never paid back.
 *
 * An instance takes its functions' budget from V8's flags when it is
 * created, so the budget is raised to its maximum while the renderers
 * instantiate their modules, and set back to V8's default right after:
 * other WebAssembly in the process tiers as usual, and a renderer's
 * function that runs long enough (gigabytes of work) is still optimised.
 * Nothing is changed when the process was started with a WebAssembly flag
 * of its own (in `execArgv` or NODE_OPTIONS), nor where `node:v8` is
 * missing (browsers).
 */

/** V8's default tiering budget (V8 11 to 12, Node 20 to 22), restored after instantiation. */
const DEFAULT_BUDGET = 1_800_000;
/** The largest budget the flag takes: a function would run gigabytes of code before tiering up. */
const RENDERER_BUDGET = 2_147_483_647;

/** The part of `node:v8` used here. */
interface V8Flags {
  setFlagsFromString(flags: string): void;
}

let flagsModule: Promise<V8Flags | undefined> | undefined;

/** `node:v8`, unless it is missing or the process chose its own WebAssembly flags. */
function v8Flags(): Promise<V8Flags | undefined> {
  if (flagsModule === undefined) {
    flagsModule = (async () => {
      const runtime = (globalThis as { process?: { execArgv?: string[]; env?: object } }).process;
      if (runtime === undefined) return undefined;
      const given = [
        ...(runtime.execArgv ?? []),
        String((runtime.env as Record<string, unknown> | undefined)?.NODE_OPTIONS ?? ""),
      ].join(" ");
      if (/wasm|liftoff|turbofan/i.test(given)) return undefined;
      try {
        // A specifier typed as string keeps the compiler from looking for Node's types.
        const v8 = (await import("node:v8" as string)) as Partial<V8Flags>;
        return typeof v8.setFlagsFromString === "function" ? (v8 as V8Flags) : undefined;
      } catch {
        return undefined;
      }
    })();
  }
  return flagsModule;
}

/** How many compilations are under way: the flags go back on when the last one ends. */
let compiling = 0;

/**
 * Runs `compile` (which compiles and instantiates a WebAssembly module) with
 * the largest tiering budget; see the module's comment.
 */
export async function withBaselineWasm<T>(compile: () => Promise<T>): Promise<T> {
  const v8 = await v8Flags();
  if (v8 === undefined) return compile();
  if (compiling++ === 0) v8.setFlagsFromString(`--wasm-tiering-budget=${RENDERER_BUDGET}`);
  try {
    return await compile();
  } finally {
    if (--compiling === 0) v8.setFlagsFromString(`--wasm-tiering-budget=${DEFAULT_BUDGET}`);
  }
}
