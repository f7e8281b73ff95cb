/**
 * How many terminal columns text takes, and text cut or padded to a number
 * of columns. A CJK character or an emoji takes two columns, a combining
 * accent or a zero-width space none: counting code points instead makes
 * lines wider than the terminal, which wraps them and breaks a view that
 * redraws itself in place by moving the cursor up one row per line.
 */
import stringWidth from "string-width";

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** The columns `text` takes on a terminal (escape sequences take none). */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/**
 * `text` cut to at most `width` columns, ending with `ellipsis` when it was
 * cut. Cuts fall between graphemes, never inside one (an emoji sequence or
 * a letter with its accents stays whole).
 */
export function truncateToWidth(text: string, width: number, ellipsis = "…"): string {
  if (width <= 0) return "";
  if (stringWidth(text) <= width) return text;
  const room = width - stringWidth(ellipsis);
  if (room < 0) return "";
  let out = "";
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const next = stringWidth(segment);
    if (used + next > room) break;
    out += segment;
    used += next;
  }
  return out + ellipsis;
}

/** `text` padded with spaces to `width` columns (left as it is when wider). */
export function padToWidth(text: string, width: number): string {
  const missing = width - stringWidth(text);
  return missing > 0 ? text + " ".repeat(missing) : text;
}
