import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { lineChartSvg } from '../src/plot/lineChart.js';
import { encodePng, imageGridPng, svgToPng } from './png.js';

/** Decodes with pngjs (always RGBA) and reads the IHDR colour type (byte 25 of the file). */
function decode(buf: Buffer) {
  const png = PNG.sync.read(buf);
  return { width: png.width, height: png.height, rgba: png.data, colorType: buf[25] };
}

describe('encodePng', () => {
  it.each([
    [1, 0],
    [3, 2],
    [4, 6],
  ] as const)('%i channel(s) → PNG colour type %i, pixels round-trip', (channels, colorType) => {
    const w = 3;
    const h = 2;
    const data = Uint8Array.from({ length: w * h * channels }, (_, i) => (i * 37) % 256);
    const d = decode(encodePng(w, h, channels, data));
    expect([d.width, d.height, d.colorType]).toEqual([w, h, colorType]);
    for (let p = 0; p < w * h; p++) {
      const px = Array.from(d.rgba.subarray(4 * p, 4 * p + 4));
      const src = Array.from(data.subarray(p * channels, (p + 1) * channels));
      const expected = channels === 1 ? [src[0], src[0], src[0], 255] : channels === 3 ? [...src, 255] : src;
      expect(px).toEqual(expected);
    }
  });

  it('checks its arguments', () => {
    expect(() => encodePng(2, 2, 1, new Uint8Array(3))).toThrow('2×2×1 pixels need 4 bytes, got 3');
    expect(() => encodePng(2, 2, 2 as 1, new Uint8Array(8))).toThrow('PNG channels must be 1, 3 or 4, got 2');
    expect(() => encodePng(0, 2, 1, new Uint8Array(0))).toThrow(/positive integers, got 0×2/);
  });
});

describe('imageGridPng', () => {
  it('lays out count images in rows of `columns`, framed by grey padding, upscaled by nearest neighbour', () => {
    // 5 grey images of 2×3; image n has value −1 + n·0.5 at every pixel except pixel (0,0) = +1.
    const h = 2;
    const w = 3;
    const images = new Float32Array(5 * h * w);
    for (let n = 0; n < 5; n++) {
      images.fill(-1 + n * 0.5, n * h * w, (n + 1) * h * w);
      images[n * h * w] = 1;
    }
    const d = decode(imageGridPng(images, 5, h, w, 1, 3, 2, 2));
    // 3 columns of 6 px + 4 paddings of 2 px = 26; 2 rows of 4 px + 3 paddings = 14.
    expect([d.width, d.height, d.colorType]).toEqual([26, 14, 0]);
    const at = (x: number, y: number) => d.rgba[4 * (y * d.width + x)];
    expect(at(0, 0)).toBe(128); // frame
    expect(at(8, 5)).toBe(128); // between columns
    // Image 0 at (2, 2): its pixel (0,0) = +1 covers a 2×2 block, the rest is −1 ↦ 0.
    expect([at(2, 2), at(3, 2), at(2, 3), at(3, 3), at(4, 2), at(7, 5)]).toEqual([255, 255, 255, 255, 0, 0]);
    // Image 1 at (10, 2): value −0.5 ↦ round(0.5·127.5) = 64; image 2: 0 ↦ 128 (round half up of 127.5).
    expect(at(12, 4)).toBe(64);
    expect(at(20, 4)).toBe(128);
    // Second row: images 3 and 4 at y = 8; the sixth cell stays padding grey.
    expect(at(4, 9)).toBe(Math.round(1.5 * 127.5));
    expect(at(12, 9)).toBe(255);
    expect(at(20, 9)).toBe(128);
  });

  it('clamps out-of-range values, maps NaN to 0, and keeps RGB colours', () => {
    const rgb = Float32Array.of(2, -2, Number.NaN, 1, 0, -1);
    const d = decode(imageGridPng(rgb, 2, 1, 1, 3, 2, 0));
    expect([d.width, d.height, d.colorType]).toEqual([2, 1, 2]);
    expect(Array.from(d.rgba)).toEqual([255, 0, 0, 255, 255, 128, 0, 255]);
  });

  it('checks its arguments', () => {
    expect(() => imageGridPng(new Float32Array(3), 2, 1, 2, 1, 2)).toThrow(
      '2 images of 1×2×1 need 4 values, got 3',
    );
    expect(() => imageGridPng(new Float32Array(4), 2, 1, 1, 2, 2)).toThrow(
      'image grids need 1, 3 or 4 channels, got 2',
    );
    expect(() => imageGridPng(new Float32Array(4), 2, 1, 1, 1, 0)).toThrow(
      'columns must be an integer ≥ 1, got 0',
    );
  });
});

describe('svgToPng', () => {
  it('rasterises a chart at the requested scale on white, drawing its line in its colour', () => {
    const svg = lineChartSvg([{ name: 's', x: [0, 1], y: [0, 1], color: '#ff0000' }], {
      title: 'T',
      xLabel: 'x',
      yLabel: 'y',
      width: 200,
      height: 100,
    });
    const d = decode(svgToPng(svg, 2));
    expect([d.width, d.height]).toEqual([400, 200]);
    let red = 0;
    for (let p = 0; p < d.width * d.height; p++) {
      const [r, g, b] = d.rgba.subarray(4 * p, 4 * p + 3);
      if (r > 200 && g < 80 && b < 80) red++;
    }
    expect(red).toBeGreaterThan(100); // the diagonal line (and its legend swatch)
    expect(Array.from(d.rgba.subarray(0, 4))).toEqual([255, 255, 255, 255]); // white corner
  });

  it('rejects text that is not SVG', () => {
    expect(() => svgToPng('not an svg')).toThrow();
  });
});
