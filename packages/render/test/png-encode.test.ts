/**
 * The PNG encoder that writes resvg's pixels: the file decodes (with an
 * independent inflate) to exactly the pixels given, and a picture rendered
 * from SVG has its shapes' colours where they were drawn.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inflateSync } from "node:zlib";
import { encodePng } from "../src/png.js";
import { svgToPng } from "../src/raster.js";

/** Reads the chunks of a PNG, checking the signature and every CRC-free structural field. */
function decode(png: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let at = 8;
  let width = 0;
  let height = 0;
  const data: Uint8Array[] = [];
  const types: string[] = [];
  while (at < png.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    types.push(type);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      assert.equal(body[8], 8, "bit depth");
      assert.equal(body[9], 6, "colour type RGBA");
    }
    if (type === "IDAT") data.push(body);
    at += 12 + length;
  }
  assert.deepEqual(types, ["IHDR", "IDAT", "IEND"]);
  const raw = inflateSync(Buffer.concat(data));
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 4 + 1);
    assert.equal(raw[row], 0, "row filter");
    rgba.set(raw.subarray(row + 1, row + 1 + width * 4), y * width * 4);
  }
  return { width, height, rgba };
}

describe("PNG encoding", () => {
  it("decodes to the very pixels it was given", async () => {
    const width = 37;
    const height = 11;
    const rgba = new Uint8Array(width * height * 4);
    for (let k = 0; k < rgba.length; k++) rgba[k] = (k * 7919) & 0xff;
    const decoded = decode(await encodePng(rgba, width, height));
    assert.equal(decoded.width, width);
    assert.equal(decoded.height, height);
    assert.deepEqual(decoded.rgba, rgba);
  });

  it("writes what resvg drew: a red square on white, at zoom 2", async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">' +
      '<rect x="10" y="0" width="10" height="10" fill="#ff0000"/></svg>';
    const { width, height, rgba } = decode(await svgToPng(svg));
    assert.deepEqual([width, height], [40, 20]);
    const pixel = (x: number, y: number) => [
      ...rgba.subarray((y * width + x) * 4, (y * width + x) * 4 + 4),
    ];
    assert.deepEqual(pixel(5, 10), [255, 255, 255, 255]);
    assert.deepEqual(pixel(30, 10), [255, 0, 0, 255]);
  });
});
