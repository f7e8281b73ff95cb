/**
 * The public surface under watch: API Extractor writes a report of each entry
 * point's declarations (api/asyncjobs.api.md for the core, and
 * api/asyncjobs-node.api.md for `asyncjobs/node`) from the built dist/.
 *
 *   node scripts/api-report.mjs           fails if a report differs from the
 *                                         committed one (CI: `npm run api`)
 *   node scripts/api-report.mjs --update  rewrites the reports, to commit
 *                                         with an intended change (`npm run api:update`)
 *
 * Both entry points share one compiler program, which halves the time.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CompilerState, Extractor, ExtractorConfig } from "@microsoft/api-extractor";

const root = fileURLToPath(new URL("..", import.meta.url));
const update = process.argv.includes("--update");
const configs = ["api/extractor.core.json", "api/extractor.node.json"].map((file) =>
  ExtractorConfig.loadFileAndPrepare(`${root}${file}`),
);

if (!configs.every((config) => existsSync(config.mainEntryPointFilePath))) {
  console.error("no declarations in dist/: run `npm run build` first");
  process.exit(2);
}

const compilerState = CompilerState.create(configs[0], {
  additionalEntryPoints: configs.slice(1).map((config) => config.mainEntryPointFilePath),
});

let failed = false;
for (const config of configs) {
  const result = Extractor.invoke(config, {
    localBuild: update,
    compilerState,
    showVerboseMessages: false,
  });
  const report = config.reportConfigs[0]?.fileName ?? config.mainEntryPointFilePath;
  if (!result.succeeded) {
    failed = true;
    console.error(
      result.apiReportChanged
        ? `${report}: the public API changed. If that is intended, run \`npm run api:update\` and commit the report.`
        : `${report}: ${result.errorCount} error(s), ${result.warningCount} warning(s)`,
    );
  } else {
    console.log(`${report}: ${update && result.apiReportChanged ? "updated" : "unchanged"}`);
  }
}
process.exitCode = failed ? 1 : 0;
