import { describe, expect, it } from 'vitest';
import { FormatError } from '../checkpoint/formatError.js';
import { checkPngStructure, type DecodedImage, imageDatasetFromDecodedPngs } from './pngImages.js';

const px = (x: number): number => Math.round((x + 1) * 127.5);

const grey = (v: number): DecodedImage => ({
  width: 2,
  height: 1,
  channels: 1,
  data: Uint8Array.of(v, 255 - v),
});

describe('imageDatasetFromDecodedPngs', () => {
  it('keeps an all-grey set grey (C = 1), alpha composited over the background', () => {
    const greyAlpha: DecodedImage = {
      width: 2,
      height: 1,
      channels: 2,
      data: Uint8Array.of(200, 255, 200, 0),
    };
    const d = imageDatasetFromDecodedPngs([grey(10), greyAlpha], { name: 'g' });
    expect(d.channels).toBe(1);
    expect(d.count).toBe(2);
    expect(Array.from(d.images, px)).toEqual([10, 245, 200, 0]);
    const white = imageDatasetFromDecodedPngs([greyAlpha], { name: 'g', background: 255 });
    expect(Array.from(white.images, px)).toEqual([200, 255]);
  });

  it('makes the whole set RGB when any image has colour, copying grey into all channels', () => {
    const rgb: DecodedImage = { width: 2, height: 1, channels: 3, data: Uint8Array.of(255, 0, 0, 1, 2, 3) };
    const rgba: DecodedImage = {
      width: 2,
      height: 1,
      channels: 4,
      data: Uint8Array.of(100, 150, 200, 255, 100, 150, 200, 51), // second pixel 20% opaque
    };
    const d = imageDatasetFromDecodedPngs([grey(7), rgb, rgba], { name: 'c' });
    expect(d.channels).toBe(3);
    expect(Array.from(d.images, px)).toEqual([
      7, 7, 7, 248, 248, 248, 255, 0, 0, 1, 2, 3, 100, 150, 200, 20, 30, 40,
    ]);
  });

  it('converts colour to grey with BT.601 luma when forced to one channel, and back to RGB when forced', () => {
    const rgb: DecodedImage = { width: 2, height: 1, channels: 3, data: Uint8Array.of(255, 0, 0, 0, 0, 255) };
    const d = imageDatasetFromDecodedPngs([rgb, grey(0)], { name: 'c', channels: 1 });
    // round(0.299·255) = 76, round(0.114·255) = 29
    expect(Array.from(d.images, px)).toEqual([76, 29, 0, 255]);
    const g = imageDatasetFromDecodedPngs([grey(9)], { name: 'g', channels: 3 });
    expect(g.channels).toBe(3);
    expect(Array.from(g.images, px)).toEqual([9, 9, 9, 246, 246, 246]);
  });

  it('names the first image whose size differs, and checks byte counts', () => {
    const big: DecodedImage = { width: 3, height: 1, channels: 1, data: new Uint8Array(3), source: 'c.png' };
    expect(() => imageDatasetFromDecodedPngs([grey(1), grey(2), big, big], { name: 'x' })).toThrow(
      'image 2 (c.png) is 3×1 but image 0 is 2×1; all images of a data set must have the same size',
    );
    const short: DecodedImage = { width: 2, height: 1, channels: 3, data: new Uint8Array(5) };
    expect(() => imageDatasetFromDecodedPngs([grey(1), short], { name: 'x' })).toThrow(
      'image 1: 2×1×3 needs 6 bytes, got 5',
    );
    expect(() => imageDatasetFromDecodedPngs([], { name: 'x' })).toThrow('x: no images');
    expect(imageDatasetFromDecodedPngs([grey(1)]).name).toBe('images');
  });

  it('passes labels and class names through', () => {
    const d = imageDatasetFromDecodedPngs([grey(1), grey(2)], {
      name: 'l',
      labels: [1, 0],
      classNames: ['a', 'b'],
    });
    expect(Array.from(d.labels!)).toEqual([1, 0]);
    expect(d.classNames).toEqual(['a', 'b']);
  });
});

describe('checkPngStructure', () => {
  /** A PNG's signature, an IHDR chunk claiming w×h (CRC not checked here), and an IEND chunk. */
  function header(w: number, h: number): Uint8Array {
    const bytes = new Uint8Array(8 + 25 + 12);
    bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(bytes.buffer);
    view.setUint32(8, 13);
    bytes.set([0x49, 0x48, 0x44, 0x52], 12);
    view.setUint32(16, w);
    view.setUint32(20, h);
    bytes.set([8, 0, 0, 0, 0], 24);
    bytes.set([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82], 33);
    return bytes;
  }
  it('reads the claimed size, and refuses 65535×65535 from a 45-byte file before any decoding', () => {
    expect(checkPngStructure(header(28, 28))).toEqual({ width: 28, height: 28 });
    expect(() => checkPngStructure(header(65535, 65535))).toThrow(FormatError);
    expect(() => checkPngStructure(header(65535, 65535))).toThrow(
      'the PNG claims 65535×65535 pixels; elbo reads images from 1×1 to 1024×1024',
    );
    expect(() => checkPngStructure(header(0, 5))).toThrow(/claims 0×5 pixels/);
  });
  it('names a missing signature, a missing IHDR and a missing IEND (truncation)', () => {
    expect(() => checkPngStructure(new Uint8Array([1, 2, 3]))).toThrow(/not a PNG file/);
    const noIhdr = header(4, 4);
    noIhdr[12] = 0x58;
    expect(() => checkPngStructure(noIhdr)).toThrow(/does not start with a 13-byte IHDR chunk/);
    expect(() => checkPngStructure(header(4, 4).subarray(0, 40))).toThrow(/does not end with an IEND chunk/);
  });
});
