/**
 * Brands that identify the library's objects without importing their classes,
 * which keeps the module graph free of import cycles.
 */
export const SEQUENCE_BRAND: unique symbol = Symbol.for("asyncjobs.Sequence");
export const SCHEDULER_BRAND: unique symbol = Symbol.for("asyncjobs.PureScheduler");
