import { describe, expect, it } from 'vitest';
import { nchwToNhwc, nhwcToNchw } from './layout.js';

describe('NCHW ⇄ NHWC', () => {
  it('moves channels last on a hand-written example and round-trips', () => {
    // One image, 2 channels of 1×3 pixels: channel 0 = [1, 2, 3], channel 1 = [4, 5, 6].
    expect(Array.from(nchwToNhwc([1, 2, 3, 4, 5, 6], 1, 2, 1, 3))).toEqual([1, 4, 2, 5, 3, 6]);
    const x = Float64Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i);
    expect(nhwcToNchw(nchwToNhwc(x, 2, 3, 4, 5), 2, 3, 4, 5)).toEqual(x);
    expect(() => nchwToNhwc(x, 2, 3, 4, 4)).toThrow(/120 values are not 2 images of 3 channels × 16 pixels/);
  });
});
