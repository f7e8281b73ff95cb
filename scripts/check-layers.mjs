/**
 * Keeps the packages' layers as the architecture draws them:
 *
 *   asyncjobs (core)  ←  @asyncjobs/node, @asyncjobs/ssh  ←  @asyncjobs/cli
 *   @asyncjobs/render (needs nothing of the family; the core finds it at run time)
 *
 * Fails, naming the file and the import, when
 * - the core has a runtime dependency, or imports anything but its own files
 *   (no `node:` module, no package: a plain browser bundle needs no externals);
 * - a package imports a package that its package.json does not list, so that
 *   no import can point back down the layers unnoticed;
 * - a relative import leaves its package's folder;
 * - the packages' dependencies form a circle.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const packagesDir = join(root, "packages");
const problems = [];

/** Every .ts file below `dir`. */
function sources(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...sources(path));
    else if (/\.(c|m)?ts$/.test(name) && !name.endsWith(".d.ts")) found.push(path);
  }
  return found;
}

/** The module specifiers a file names in string literals: static imports, re-exports, import(). */
function specifiers(text) {
  const found = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gms,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*(?:\/\*[^*]*\*\/\s*)?["']([^"']+)["']\s*\)/g,
    /\bimport\(\s*["']([^"']+)["']\s+as\s+string\s*\)/g,
    /typeof import\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) found.push(match[1]);
  }
  return found;
}

/** The package a bare specifier names: `@scope/name` or `name`. */
function packageOf(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

const manifests = new Map();
for (const dir of readdirSync(packagesDir)) {
  const manifest = JSON.parse(readFileSync(join(packagesDir, dir, "package.json"), "utf8"));
  manifests.set(manifest.name, { dir: join(packagesDir, dir), manifest });
}

const core = manifests.get("asyncjobs");
if (!core) problems.push("no package named asyncjobs under packages/");
else if (Object.keys(core.manifest.dependencies ?? {}).length > 0) {
  problems.push(
    `asyncjobs (the core) must have no runtime dependency, has ${Object.keys(core.manifest.dependencies).join(", ")}`,
  );
}

for (const [name, { dir, manifest }] of manifests) {
  const allowed = new Set([
    name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const isCore = name === "asyncjobs";
  for (const file of sources(join(dir, "src"))) {
    // Comments may name modules without importing them.
    const text = readFileSync(file, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/(^|\s)\/\/.*$/gm, "$1");
    const where = relative(root, file);
    for (const specifier of specifiers(text)) {
      if (specifier.startsWith(".")) {
        const target = resolve(dirname(file), specifier);
        if (!target.startsWith(join(dir, "src"))) {
          problems.push(`${where}: "${specifier}" leaves the package ${name}`);
        }
        continue;
      }
      const isType = new RegExp(
        `^\\s*(?:import|export)\\s+type\\s[^;]*?from\\s*["']${specifier.replace(/[/.]/g, "\\$&")}["']`,
        "m",
      ).test(text);
      if (isCore) {
        problems.push(
          `${where}: the core imports "${specifier}"; it may import only its own files`,
        );
        continue;
      }
      if (specifier.startsWith("node:")) continue;
      const target = packageOf(specifier);
      if (!allowed.has(target) && !(isType && target.startsWith("@types/"))) {
        problems.push(
          `${where}: imports "${specifier}", which ${name}'s package.json does not list`,
        );
      }
    }
  }
}

// The family's own packages must depend on each other without a circle.
const family = (manifest) =>
  Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).filter(
    (dep) => manifests.has(dep) && !manifest.peerDependenciesMeta?.[dep]?.optional,
  );
const state = new Map();
function visit(name, path) {
  if (state.get(name) === "done") return;
  if (state.get(name) === "open") {
    problems.push(`the packages depend on each other in a circle: ${[...path, name].join(" → ")}`);
    return;
  }
  state.set(name, "open");
  for (const dep of family(manifests.get(name).manifest)) visit(dep, [...path, name]);
  state.set(name, "done");
}
for (const name of manifests.keys()) visit(name, []);

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  console.error(`check-layers: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`check-layers: ${manifests.size} packages, their imports follow the layers`);
