/**
 * Short descriptions of arbitrary values, for error messages that must name
 * what was passed without dumping it whole.
 */

/** A short, human description of any value: `a string ("x")`, `null`, `a Promise`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  switch (typeof value) {
    case "string":
      return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    case "number":
      return `the number ${String(value)}`;
    case "bigint":
      return `the bigint ${String(value)}n`;
    case "boolean":
      return `the boolean ${String(value)}`;
    case "symbol":
      return `a symbol (${String(value)})`;
    case "function":
      return `a function (${value.name || "anonymous"})`;
  }
  if (isThenable(value)) return "a Promise";
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  const name = ctor?.name;
  if (!name || name === "Object") return "a plain object";
  return `an instance of ${name}`;
}

/** True for promises and any other object with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** True for `{}` literals and `Object.create(null)`: the only things read as options. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
