/**
 * Finds the Deno and Bun executables installed from the npm registry as
 * devDependencies, whether or not their postinstall scripts ran: npm may skip
 * install scripts it was not told to allow, and then the `bun` launcher is a
 * placeholder and the `deno` one a Node wrapper. The native binary always
 * comes in the platform package (an optional dependency); the postinstall
 * script only moves or links it.
 */
import { accessSync, closeSync, constants, existsSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** The directory of an installed package, or undefined when it is not installed. */
function packageDir(name) {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** Whether `path` is an executable native program (not a shell placeholder). */
function isNativeExecutable(path) {
  if (!existsSync(path)) return false;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return false;
  }
  const head = Buffer.alloc(4);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  const magic = head.toString("hex");
  // ELF, Mach-O (both byte orders, 32 and 64 bits, universal), PE.
  return (
    magic === "7f454c46" ||
    ["feedface", "feedfacf", "cefaedfe", "cffaedfe", "cafebabe"].includes(magic) ||
    magic.startsWith("4d5a")
  );
}

function firstNative(candidates) {
  return candidates.find((candidate) => candidate !== undefined && isNativeExecutable(candidate));
}

const exe = process.platform === "win32" ? ".exe" : "";

/** Names of the platform packages that may hold a binary for this machine. */
function denoPlatformPackages() {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  if (process.platform === "linux") return [`@deno/linux-${arch}-glibc`];
  if (process.platform === "darwin") return [`@deno/darwin-${arch}`];
  if (process.platform === "win32") return [`@deno/win32-${arch}`];
  return [];
}

function bunPlatformPackages() {
  const arch = process.arch === "arm64" ? "aarch64" : "x64";
  const os = process.platform === "win32" ? "windows" : process.platform;
  return [
    `@oven/bun-${os}-${arch}`,
    `@oven/bun-${os}-${arch}-baseline`,
    `@oven/bun-${os}-${arch}-musl`,
  ];
}

/** The path of the Deno executable; throws, saying what to do, when there is none. */
export function denoPath() {
  const main = packageDir("deno");
  const found = firstNative([
    ...denoPlatformPackages().map((name) => {
      const dir = packageDir(name);
      return dir && join(dir, `deno${exe}`);
    }),
    main && join(main, `deno${exe}`),
  ]);
  if (!found) {
    throw new Error("no Deno executable: run `npm ci` (Deno is a devDependency from npm)");
  }
  return found;
}

/** The path of the Bun executable; throws, saying what to do, when there is none. */
export function bunPath() {
  const main = packageDir("bun");
  const found = firstNative([
    ...bunPlatformPackages().map((name) => {
      const dir = packageDir(name);
      return dir && join(dir, "bin", `bun${exe}`);
    }),
    main && join(main, "bin", "bun.exe"),
  ]);
  if (!found) {
    throw new Error("no Bun executable: run `npm ci` (Bun is a devDependency from npm)");
  }
  return found;
}
