/**
 * Makes the pictures and listings the README shows, with the library itself.
 * For each tutorial example (examples/<letter>-<name>.ts), it runs the
 * example and, for the first scheduler the example runs, writes
 *
 * - `docs/images/<name>.svg`: its graph, by `exportAsSvgfile()`;
 * - `docs/listings/<name>.txt`: its `list()` once the example is over;
 * - `docs/listings/<name>.mmd`: its `mermaidFormat()`;
 * - when its run did not go all fine (a timeout, a failure, an exception),
 *   `docs/images/<name>-status.svg`: the graph painted by
 *   `dotFormat({ status: true })` after the run.
 *
 * Run it from the repository's root after a change to the layout or to the
 * examples:
 *
 * ```sh
 * npx tsx scripts/make-docs-images.ts
 * ```
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PureScheduler } from "asyncjobs";
import { listText } from "../packages/core/src/presentation/listing.js";
import { exampleNames, runExample } from "./example-schedulers.js";

/** Whether a picture of the run's outcome says more than the plain graph. */
function wentWrong(scheduler: PureScheduler): boolean {
  if (scheduler.why() !== "FINE") return true;
  return [...scheduler.iterateJobs({ scanSchedulers: true })].some(
    (job) => job.isDone() && job.raisedException() !== undefined,
  );
}

async function main(): Promise<void> {
  // The listings show the Unicode badge, whatever the terminal this runs in.
  process.env.ASYNCJOBS_ASCII = "0";
  const images = join("docs", "images");
  const listings = join("docs", "listings");
  await mkdir(images, { recursive: true });
  await mkdir(listings, { recursive: true });
  for (const name of await exampleNames()) {
    console.log(`===== ${name}`);
    const [scheduler] = await runExample(name);
    if (scheduler === undefined) continue;
    console.log(await scheduler.exportAsSvgfile(join(images, name)));
    await writeFile(join(listings, `${name}.txt`), listText(scheduler));
    await writeFile(join(listings, `${name}.mmd`), scheduler.mermaidFormat());
    if (wentWrong(scheduler)) {
      const svg = await scheduler.graph({ status: true }).svg();
      await writeFile(join(images, `${name}-status.svg`), svg);
      console.log(join(images, `${name}-status.svg`));
    }
  }
}

await main();
