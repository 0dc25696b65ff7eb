/**
 * PNG output for the CLI: single images and grids of samples (pngjs, pure JavaScript), and charts
 * rasterised from the SVG that src/plot draws (resvg, a maintained Rust SVG renderer with prebuilt
 * Node binaries), so every chart has a PNG beside its SVG.
 */
import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';
import { writeFileAtomic } from './io.js';

/** PNG colour types for 1, 3 and 4 channels (grey, RGB, RGBA). */
const COLOR_TYPE = { 1: 0, 3: 2, 4: 6 } as const;

/** Grey level of the padding between the cells of a grid: visible on black and on white images. */
const GRID_PADDING_GREY = 128;

/** Encodes 8-bit pixels (row-major, channels interleaved) as an 8-bit PNG of the same channel count. */
export function encodePng(width: number, height: number, channels: 1 | 3 | 4, data: Uint8Array): Buffer {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new Error(`PNG size must be positive integers, got ${width}×${height}`);
  }
  const colorType = COLOR_TYPE[channels];
  if (colorType === undefined) throw new Error(`PNG channels must be 1, 3 or 4, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new Error(
      `${width}×${height}×${channels} pixels need ${width * height * channels} bytes, got ${data.length}`,
    );
  }
  const png = new PNG({ width, height });
  // Same input and output colour type: pngjs writes the bytes as they are, no RGBA round trip.
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: channels === 4 });
}

/**
 * A grid of `count` NHWC images with values in [−1, 1] (pixel = round((x + 1)·127.5), clamped; NaN ↦ 0),
 * `columns` per row, separated and framed by `padding` pixels of mid grey, each image enlarged
 * `scale` times by nearest-neighbour. Channels 1, 3 or 4 give a grey, RGB or RGBA PNG.
 */
export function imageGridPng(
  images: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: number,
  columns: number,
  padding = 2,
  scale = 1,
): Buffer {
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new Error(`image grids need 1, 3 or 4 channels, got ${channels}`);
  }
  for (const [name, v, min] of [
    ['count', count, 1],
    ['height', height, 1],
    ['width', width, 1],
    ['columns', columns, 1],
    ['padding', padding, 0],
    ['scale', scale, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${v}`);
  }
  const per = height * width * channels;
  if (images.length < count * per) {
    throw new Error(
      `${count} images of ${height}×${width}×${channels} need ${count * per} values, got ${images.length}`,
    );
  }
  const cols = Math.min(columns, count);
  const rows = Math.ceil(count / cols);
  const cellW = width * scale;
  const cellH = height * scale;
  const outW = cols * cellW + (cols + 1) * padding;
  const outH = rows * cellH + (rows + 1) * padding;
  const out = new Uint8Array(outW * outH * channels).fill(GRID_PADDING_GREY);
  if (channels === 4) for (let i = 3; i < out.length; i += 4) out[i] = 255; // opaque padding
  for (let n = 0; n < count; n++) {
    const x0 = padding + (n % cols) * (cellW + padding);
    const y0 = padding + Math.floor(n / cols) * (cellH + padding);
    for (let y = 0; y < cellH; y++) {
      const srcRow = n * per + Math.floor(y / scale) * width * channels;
      const dstRow = ((y0 + y) * outW + x0) * channels;
      for (let x = 0; x < cellW; x++) {
        const src = srcRow + Math.floor(x / scale) * channels;
        const dst = dstRow + x * channels;
        for (let c = 0; c < channels; c++) {
          const v = Math.round((images[src + c] + 1) * 127.5);
          out[dst + c] = v > 255 ? 255 : v >= 0 ? v : 0;
        }
      }
    }
  }
  return encodePng(outW, outH, channels, out);
}

/**
 * Rasterises an SVG chart to PNG at `scale` × its own size on a white background. Text uses the
 * system's fonts (DejaVu Sans, the charts' first choice, on Debian); without fonts it is left out.
 */
export function svgToPng(svg: string, scale = 1.5): Buffer {
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/** Writes a chart as `name.svg` and `name.png` (both atomically); returns the two paths. */
export function writeChart(pathWithoutExtension: string, svg: string): [svgPath: string, pngPath: string] {
  const svgPath = `${pathWithoutExtension}.svg`;
  const pngPath = `${pathWithoutExtension}.png`;
  writeFileAtomic(svgPath, svg);
  writeFileAtomic(pngPath, svgToPng(svg));
  return [svgPath, pngPath];
}

/** Samples [count, h, w, c] in [−1, 1] as a square-ish grid PNG (⌈√count⌉ columns, 2-pixel frame, 2× enlarged). */
export function sampleGridPng(
  samples: ArrayLike<number>,
  count: number,
  [h, w, c]: readonly number[],
): Buffer {
  return imageGridPng(Float32Array.from(samples), count, h, w, c, Math.ceil(Math.sqrt(count)), 2, 2);
}
