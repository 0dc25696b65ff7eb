import { describe, expect, it } from 'vitest';
import { FormatError } from '../checkpoint/formatError.js';
import { encodeIdx, parseIdx } from './idx.js';

// Three 2×2 images written out by hand from the format description (magic 00 00 08 03, big-endian dims).
// prettier-ignore
const THREE_IMAGES = Uint8Array.of(
  0x00, 0x00, 0x08, 0x03, // magic: unsigned byte, rank 3
  0x00, 0x00, 0x00, 0x03, // 3 images
  0x00, 0x00, 0x00, 0x02, // 2 rows
  0x00, 0x00, 0x00, 0x02, // 2 columns
  0, 255, 1, 2,
  10, 20, 30, 40,
  255, 254, 253, 252,
);

describe('parseIdx', () => {
  it('reads dims (big-endian) and data of a hand-made 3-image file', () => {
    const { dims, data } = parseIdx(THREE_IMAGES);
    expect(dims).toEqual([3, 2, 2]);
    expect(Array.from(data)).toEqual([0, 255, 1, 2, 10, 20, 30, 40, 255, 254, 253, 252]);
  });

  it('reads a big-endian dimension above 255 correctly (0x00000103 = 259)', () => {
    const bytes = new Uint8Array(8 + 259);
    bytes.set([0, 0, 8, 1, 0, 0, 1, 3]);
    bytes[8 + 258] = 7;
    const { dims, data } = parseIdx(bytes);
    expect(dims).toEqual([259]);
    expect(data[258]).toBe(7);
  });

  it('encodeIdx writes exactly the hand-made bytes', () => {
    const data = THREE_IMAGES.subarray(16);
    expect(Array.from(encodeIdx([3, 2, 2], data))).toEqual(Array.from(THREE_IMAGES));
  });

  it('says what was expected and found for truncated data', () => {
    expect(() => parseIdx(THREE_IMAGES.subarray(0, 20), 'train images')).toThrow(
      'train images is truncated: dimensions [3, 2, 2] need 28 bytes, found 20',
    );
    expect(() => parseIdx(THREE_IMAGES.subarray(0, 10))).toThrow(
      'IDX file is truncated: 3 dimensions need a 16-byte header, found 10 bytes',
    );
    expect(() => parseIdx(Uint8Array.of(0, 0))).toThrow(/4-byte magic number, found 2 bytes/);
  });

  it('rejects extra bytes, gzip, foreign magic and non-byte element types', () => {
    const extra = new Uint8Array(THREE_IMAGES.length + 3);
    extra.set(THREE_IMAGES);
    expect(() => parseIdx(extra)).toThrow(/3 unexpected bytes after the data/);
    expect(() => parseIdx(Uint8Array.of(0x1f, 0x8b, 8, 0, 0))).toThrow(/gzip-compressed.*gunzip/);
    expect(() => parseIdx(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 0))).toThrow(
      'IDX file is not an IDX file: expected magic bytes 00 00 <type> <rank>, found 89 50 4e 47',
    );
    expect(() => parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 0))).toThrow(
      /holds float32 values \(type 0x0d\); only unsigned bytes/,
    );
    expect(() => parseIdx(Uint8Array.of(0, 0, 0x42, 1))).toThrow(/unknown element type 0x42/);
  });
  it('refuses dimensions that describe more bytes than any file holds, without allocating', () => {
    const bytes = new Uint8Array([
      0, 0, 8, 4, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    ]);
    expect(() => parseIdx(bytes, 'x')).toThrow(FormatError);
    expect(() => parseIdx(bytes, 'x')).toThrow(/describe more bytes than any file holds/);
  });
});
