/**
 * How many cases each property runs, and from which seed: the same seed
 * replays the same cases, so a failure seen once can be replayed at will.
 *
 * - `ASYNCJOBS_PROPERTY_RUNS`: cases per property (default 200; `npm run test:stress` uses 10 000)
 * - `ASYNCJOBS_PROPERTY_SEED`: the seed (default fixed, so CI is reproducible)
 * - `ASYNCJOBS_PROPERTY_PATH`: with the seed, replays one failing case as fast-check reported it
 */
import type { Parameters } from "fast-check";

const DEFAULT_RUNS = 200;
const DEFAULT_SEED = 20240611;

function integerFromEnvironment(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Cases per property. */
export const propertyRuns: number = Math.max(
  1,
  integerFromEnvironment("ASYNCJOBS_PROPERTY_RUNS", DEFAULT_RUNS),
);

/** fast-check parameters for a property: the configured count, seed and replay path. */
export function propertyParameters<T>(): Parameters<T> {
  const path = process.env.ASYNCJOBS_PROPERTY_PATH;
  return {
    numRuns: propertyRuns,
    seed: integerFromEnvironment("ASYNCJOBS_PROPERTY_SEED", DEFAULT_SEED),
    ...(path ? { path } : {}),
    includeErrorInReport: true,
  };
}
