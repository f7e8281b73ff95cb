/**
 * The Node entry of asyncjobs: everything of the core, plus what needs Node.
 *
 * @module
 */
export * from "../index.js";
