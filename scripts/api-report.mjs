/**
 * The public surface under watch: API Extractor writes a report of each
 * package entry's declarations (api/<name>.api.md) from the built dist/ of
 * every package under packages/.
 *
 *   node scripts/api-report.mjs           fails if a report differs from the
 *                                         committed one (CI: `npm run api`)
 *   node scripts/api-report.mjs --update  rewrites the reports, to commit
 *                                         with an intended change (`npm run api:update`)
 *
 * All entries share one compiler program, which saves most of the time.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CompilerState, Extractor, ExtractorConfig } from "@microsoft/api-extractor";

const root = fileURLToPath(new URL("..", import.meta.url));
const update = process.argv.includes("--update");
const base = JSON.parse(readFileSync(join(root, "api", "extractor.base.json"), "utf8"));
const compilerOptions = JSON.parse(
  readFileSync(join(root, "tsconfig.base.json"), "utf8"),
).compilerOptions;

/** Every entry of every package: its declaration file and its report's name. */
function entries() {
  const found = [];
  for (const dir of readdirSync(join(root, "packages")).sort()) {
    const folder = join(root, "packages", dir);
    const manifest = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      if (typeof target !== "object" || !target.types) continue;
      const name = `${manifest.name}${subpath === "." ? "" : subpath.slice(1)}`;
      found.push({
        name,
        folder,
        dts: join(folder, target.types),
        report: name.replace(/^@/, "").replace(/\//g, "-"),
      });
    }
  }
  return found;
}

const all = entries();
const missing = all.filter((entry) => !existsSync(entry.dts));
if (missing.length > 0) {
  console.error(
    `no declarations for ${missing.map((e) => e.name).join(", ")}: run \`npm run build\` first`,
  );
  process.exit(2);
}

const configs = all.map((entry) =>
  ExtractorConfig.prepare({
    configObjectFullPath: join(root, "api", `extractor.${entry.report}.json`),
    packageJsonFullPath: join(entry.folder, "package.json"),
    configObject: {
      ...base,
      projectFolder: root,
      mainEntryPointFilePath: entry.dts,
      compiler: {
        overrideTsconfig: {
          compilerOptions: { ...compilerOptions, noEmit: true },
          files: all.map((e) => e.dts),
        },
      },
      // asyncjobs/extend adds helpers for job classes; the types they name
      // (PureScheduler, AbstractJob...) are exported by asyncjobs itself.
      ...(entry.name === "asyncjobs/extend"
        ? {
            messages: {
              ...base.messages,
              extractorMessageReporting: {
                ...base.messages.extractorMessageReporting,
                "ae-forgotten-export": { logLevel: "none" },
              },
            },
          }
        : {}),
      apiReport: {
        ...base.apiReport,
        enabled: true,
        reportFileName: entry.report,
        reportFolder: join(root, "api"),
        reportTempFolder: join(root, "node_modules", ".cache", "api-extractor"),
      },
    },
  }),
);

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
  const report = `api/${config.reportConfigs[0]?.fileName ?? config.mainEntryPointFilePath}`;
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
// A report whose entry is gone is stale.
const expected = new Set(configs.map((config) => config.reportConfigs[0]?.fileName));
for (const file of readdirSync(join(root, "api"))) {
  if (file.endsWith(".api.md") && !expected.has(file)) {
    failed = true;
    console.error(`api/${file}: no package entry has this report any more; delete it`);
  }
}
process.exitCode = failed ? 1 : 0;
