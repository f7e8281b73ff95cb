/**
 * Yes/no states packed in one number, one bit each: objects made by the
 * million (jobs, run contexts) keep their flags this way, a boolean field
 * costing a word each.
 */

/** `bits` with the bits of `mask` set when `on`, cleared otherwise. */
export function withBit(bits: number, mask: number, on: boolean): number {
  return on ? bits | mask : bits & ~mask;
}
