import { describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import {
  BatchSampler,
  batchOf,
  dynamicBinarize,
  imageDatasetFromBytes,
  labelHistogram,
  labelsOf,
  pixelToUnit,
  subsetOf,
  unitToPixel,
} from './images.js';

// Four 1×2×1 images with pixel values (0, 255), (51, 102), (127, 128), (255, 0).
function tiny() {
  return imageDatasetFromBytes(Uint8Array.of(0, 255, 51, 102, 127, 128, 255, 0), {
    name: 'tiny',
    count: 4,
    height: 1,
    width: 2,
    channels: 1,
    labels: [0, 1, 2, 1],
    classNames: ['a', 'b', 'c'],
  });
}

describe('image data sets', () => {
  it('scales pixels by x/127.5 − 1: 0 ↦ −1, 255 ↦ 1 exactly, and back', () => {
    const d = tiny();
    expect(d.images[0]).toBe(-1);
    expect(d.images[1]).toBe(1);
    expect(d.images[2]).toBe(Math.fround(51 / 127.5 - 1));
    expect(pixelToUnit(127.5)).toBe(0);
    for (let v = 0; v < 256; v++) expect(unitToPixel(Math.fround(pixelToUnit(v)))).toBe(v);
    expect(unitToPixel(2)).toBe(255);
    expect(unitToPixel(-3)).toBe(0);
    expect(unitToPixel(Number.NaN)).toBe(0);
    expect(Array.from(d.labels!)).toEqual([0, 1, 2, 1]);
  });

  it('checks byte count and labels', () => {
    const spec = { name: 'x', count: 2, height: 2, width: 2, channels: 1 };
    expect(() => imageDatasetFromBytes(new Uint8Array(7), spec)).toThrow(
      'x: 2 images of 2×2×1 need 8 bytes, got 7',
    );
    expect(() => imageDatasetFromBytes(new Uint8Array(8), { ...spec, labels: [0] })).toThrow(
      'x: 1 labels for 2 images',
    );
    expect(() =>
      imageDatasetFromBytes(new Uint8Array(8), { ...spec, labels: [0, 3], classNames: ['a', 'b'] }),
    ).toThrow('x: label 3 of image 1 is outside [0, 1]');
  });

  it('batchOf gathers images in index order, reuses `out`, and rejects bad indices', () => {
    const d = tiny();
    const b = batchOf(d, [3, 0, 3]);
    expect(Array.from(b)).toEqual([1, -1, -1, 1, 1, -1]);
    const out = new Float32Array(2 * 2);
    expect(batchOf(d, [1, 2], out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(d.images.subarray(2, 6)));
    expect(() => batchOf(d, [4])).toThrow('tiny: index 4 is outside [0, 3]');
    expect(() => batchOf(d, [0], new Float32Array(3))).toThrow(/batch buffer has length 3/);
    expect(Array.from(labelsOf(d, [3, 2]))).toEqual([1, 2]);
    const s = subsetOf(d, [2, 1], 'sub');
    expect(s.count).toBe(2);
    expect(Array.from(s.labels!)).toEqual([2, 1]);
    expect(Array.from(s.images)).toEqual(Array.from(batchOf(d, [2, 1])));
    expect(labelHistogram(d.labels!, 3)).toEqual([1, 2, 1]);
  });
});

function take(sampler: BatchSampler, n: number): Array<{ indices: number[]; epoch: number }> {
  return Array.from({ length: n }, () => {
    const b = sampler.next();
    return { indices: Array.from(b.indices), epoch: b.epoch };
  });
}

describe('BatchSampler', () => {
  it('visits every index once per epoch, in a new order each epoch', () => {
    const s = new BatchSampler(10, 3, Rng.fromSeed(1), { dropLast: false });
    expect(s.batchesPerEpoch).toBe(4);
    const batches = take(s, 8);
    expect(batches.map((b) => b.indices.length)).toEqual([3, 3, 3, 1, 3, 3, 3, 1]);
    expect(batches.map((b) => b.epoch)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    const e0 = batches.slice(0, 4).flatMap((b) => b.indices);
    const e1 = batches.slice(4).flatMap((b) => b.indices);
    expect([...e0].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...e1].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(e0).not.toEqual(e1);
  });

  it('drops the short last batch by default, and is reproducible from the seed', () => {
    const s = new BatchSampler(10, 3, Rng.fromSeed(1));
    expect(s.batchesPerEpoch).toBe(3);
    const batches = take(s, 6);
    expect(batches.map((b) => b.indices.length)).toEqual([3, 3, 3, 3, 3, 3]);
    expect(batches.map((b) => b.epoch)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(take(new BatchSampler(10, 3, Rng.fromSeed(1)), 6)).toEqual(batches);
    expect(take(new BatchSampler(10, 3, Rng.fromSeed(2)), 6)).not.toEqual(batches);
    expect(() => new BatchSampler(2, 3, Rng.fromSeed(1))).toThrow(/larger than the data set/);
  });

  it.each([0, 1, 2, 3, 4, 7])('resumes exactly from a state saved after %i batches (through JSON)', (k) => {
    for (const dropLast of [true, false]) {
      const reference = new BatchSampler(10, 3, Rng.fromSeed(42), { dropLast });
      const expected = take(reference, k + 9);
      const first = new BatchSampler(10, 3, Rng.fromSeed(42), { dropLast });
      take(first, k);
      const saved = JSON.parse(JSON.stringify(first.state()));
      expect(saved.position).toBeLessThan(10);
      const resumed = BatchSampler.fromState(saved);
      expect(take(resumed, 9)).toEqual(expected.slice(k));
      // Saving the state does not disturb the sampler that was saved.
      expect(take(first, 9)).toEqual(expected.slice(k));
    }
  });

  it('rejects a corrupt state', () => {
    const st = new BatchSampler(10, 3, Rng.fromSeed(0)).state();
    expect(() => BatchSampler.fromState({ ...st, position: 10 })).toThrow(
      'bad sampler position 10 for 10 items',
    );
    expect(() => BatchSampler.fromState({ ...st, epoch: -1 })).toThrow('bad sampler epoch -1');
  });
});

describe('dynamicBinarize', () => {
  it('gives 0/1 with P(1) = (x + 1)/2: always 0 at −1, always 1 at +1', () => {
    const x = new Float32Array(6).fill(-1);
    x.fill(1, 3);
    expect(Array.from(dynamicBinarize(x, Rng.fromSeed(3)))).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('has mean (x + 1)/2 (n = 200 000, seed 5, tolerance 5σ)', () => {
    const n = 200_000;
    for (const p of [0.1, 0.3, 0.75]) {
      const x = new Float32Array(n).fill(2 * p - 1);
      const b = dynamicBinarize(x, Rng.fromSeed(5));
      let sum = 0;
      let other = 0;
      for (const v of b) {
        if (v !== 0 && v !== 1) other++;
        sum += v;
      }
      expect(other).toBe(0);
      const sigma = Math.sqrt((p * (1 - p)) / n);
      expect(Math.abs(sum / n - Math.fround(2 * p - 1) / 2 - 0.5)).toBeLessThan(5 * sigma);
    }
  });

  it('is seeded, fresh on each call, and checks the output length', () => {
    const x = new Float32Array(64).fill(0);
    const a = dynamicBinarize(x, Rng.fromSeed(9));
    expect(Array.from(dynamicBinarize(x, Rng.fromSeed(9)))).toEqual(Array.from(a));
    const rng = Rng.fromSeed(9);
    dynamicBinarize(x, rng);
    expect(Array.from(dynamicBinarize(x, rng))).not.toEqual(Array.from(a));
    expect(() => dynamicBinarize(x, rng, new Float32Array(3))).toThrow(/output has length 3, expected 64/);
  });
});
