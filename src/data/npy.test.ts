import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from './npy.js';

describe('.npy encoding (NEP 1, version 1.0)', () => {
  it('writes the magic, a 64-byte-aligned header and little-endian float32 values, and reads them back', () => {
    const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i / 7 - 1);
    const bytes = encodeNpy(data, [2, 3, 4]);
    expect([...bytes.subarray(0, 8)]).toEqual([0x93, 78, 85, 77, 80, 89, 1, 0]);
    const headerLength = bytes[8] + 256 * bytes[9];
    expect((10 + headerLength) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
    expect(header).toBe(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }".padEnd(headerLength - 1, ' ') + '\n',
    );
    expect(bytes.length).toBe(10 + headerLength + 4 * data.length);
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([2, 3, 4]);
    expect(back.data).toEqual(data);
  });

  it('writes a 1-D shape as a one-element tuple and refuses a shape that does not fit the data', () => {
    const header = new TextDecoder().decode(encodeNpy(new Float32Array(5), [5]).subarray(10, 74));
    expect(header).toContain("'shape': (5,)");
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/does not hold 5 values/);
  });
});
