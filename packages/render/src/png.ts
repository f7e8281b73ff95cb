/**
 * PNG encoding of an RGBA picture, with the runtime's own deflate
 * (`CompressionStream`, in Node, Deno, Bun and browsers alike).
 *
 * Why not resvg's own `asPng()`: in a fresh process, its encoder runs as
 * WebAssembly that V8 has only baseline-compiled, and encoding a graph at
 * zoom 2 (a few million pixels) took more CPU there than laying the graph
 * out and drawing it (bench/NOTES.md, "The first picture"). The runtime's
 * deflate is native code, warm from the start.
 */

/** The PNG signature. */
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, as PNG chunks use) of `parts`, in order. */
function crc32(parts: readonly Uint8Array[]): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const table = crcTable;
  let crc = 0xffffffff;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) crc = table[(crc ^ part[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A chunk: length, type, data, CRC of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const name = new Uint8Array(4);
  for (let k = 0; k < 4; k++) name[k] = type.charCodeAt(k);
  out.set(name, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32([name, data]));
  return out;
}

/** Compresses `data` into a zlib stream (RFC 1950), as a PNG's image data is. */
async function deflate(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const compression = new CompressionStream("deflate");
  const writer = compression.writable.getWriter();
  // Written in one piece (a Blob's stream would copy it in small chunks);
  // errors surface through the readable side, read below.
  writer.write(data).catch(() => undefined);
  writer.close().catch(() => undefined);
  return new Uint8Array(await new Response(compression.readable).arrayBuffer());
}

/**
 * Encodes `rgba` (`width × height` pixels, 4 bytes each) as an 8-bit RGBA
 * PNG. Rows are stored unfiltered: copying them is native code, where
 * filtering them would be a JavaScript loop over every byte, still cold in a
 * process that makes one picture; deflate squeezes a graph's flat background
 * well enough without.
 */
export async function encodePng(
  rgba: Uint8Array,
  width: number,
  height: number,
): Promise<Uint8Array> {
  const rowBytes = width * 4;
  const raw = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    // The row's filter byte stays 0 (None).
    raw.set(rgba.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bits per channel
  header[9] = 6; // colour type: RGBA
  const parts = [
    Uint8Array.from(SIGNATURE),
    chunk("IHDR", header),
    chunk("IDAT", await deflate(raw)),
    chunk("IEND", new Uint8Array(0)),
  ];
  const png = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    png.set(part, at);
    at += part.length;
  }
  return png;
}
