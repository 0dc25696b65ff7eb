// Nearest upsampling and channel concatenation (src/engine/assembly/resample.ts): exact copies against
// index-by-index references; the backwards against the reference sums and central differences.
import { describe, expect, it } from 'vitest';
import { download, randnFloat32, startTestEngine, upload } from '../../../test/helpers/engine.js';

const { engine } = await startTestEngine({ threads: 2 });

/** Central difference of a float64 function of one coordinate of `arr`. */
function centralDiff(arr: Float64Array, i: number, f: () => number, h = 1e-3): number {
  const v = arr[i];
  arr[i] = v + h;
  const up = f();
  arr[i] = v - h;
  const down = f();
  arr[i] = v;
  return (up - down) / (2 * h);
}

/** Reference nearest 2× upsampling of NHWC x [N, H, W, C]. */
function refUpsample(x: Float64Array, N: number, H: number, W: number, C: number): Float64Array {
  const y = new Float64Array(N * 4 * H * W * C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < 2 * H; oh++) {
      for (let ow = 0; ow < 2 * W; ow++) {
        for (let c = 0; c < C; c++) {
          y[((n * 2 * H + oh) * 2 * W + ow) * C + c] =
            x[((n * H + Math.floor(oh / 2)) * W + Math.floor(ow / 2)) * C + c];
        }
      }
    }
  }
  return y;
}

// [N, H, W, C]: odd N·H rows (slices start mid-image), C below 4, C a multiple of 4, C = 4k + 1.
const SHAPES = [
  [3, 3, 5, 3],
  [2, 3, 5, 8],
  [1, 5, 2, 5],
  [3, 1, 1, 1],
];

describe('upsampleNearest2x and its backward (2 threads)', () => {
  for (const [N, H, W, C] of SHAPES) {
    it(`N=${N} H=${H} W=${W} C=${C}`, () => {
      const x = randnFloat32(N * 100 + C, N * H * W * C);
      const outSize = N * 4 * H * W * C;
      const out = upload(engine, new Float64Array(outSize).fill(Number.NaN));
      engine.parallel('upsampleNearest2x', N * H, 1, [upload(engine, x), out, H, W, C]);
      expect(download(engine, out, outSize)).toEqual(refUpsample(x, N, H, W, C));

      // Backward: dx = Σ of the 4 copies. Float32 sum of 4 terms: |error| ≤ 2^-22·Σ|terms|.
      const dy = randnFloat32(N * 100 + C + 1, outSize);
      const dx = upload(engine, new Float64Array(x.length).fill(Number.NaN));
      engine.parallel('upsampleNearest2xBackward', N * H, 1, [upload(engine, dy), dx, H, W, C]);
      const got = download(engine, dx, x.length);
      const want = new Float64Array(x.length);
      const abs = new Float64Array(x.length);
      for (let n = 0; n < N; n++) {
        for (let oh = 0; oh < 2 * H; oh++) {
          for (let ow = 0; ow < 2 * W; ow++) {
            for (let c = 0; c < C; c++) {
              const i = ((n * H + (oh >> 1)) * W + (ow >> 1)) * C + c;
              const v = dy[((n * 2 * H + oh) * 2 * W + ow) * C + c];
              want[i] += v;
              abs[i] += Math.abs(v);
            }
          }
        }
      }
      for (let i = 0; i < x.length; i++)
        expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(2 ** -22 * abs[i]);

      // Central differences of L(x) = Σ dy·upsample(x) (float64 reference forward) at every x.
      const xx = Float64Array.from(x);
      const L = () => refUpsample(xx, N, H, W, C).reduce((s, v, i) => s + dy[i] * v, 0);
      for (let i = 0; i < x.length; i++) {
        const fd = centralDiff(xx, i, L);
        expect(Math.abs(got[i] - fd)).toBeLessThan(1e-6 * (abs[i] + 1));
      }
    });
  }
});

describe('concatChannels and splitChannels (2 threads)', () => {
  for (const [ca, cb] of [
    [3, 6],
    [5, 2],
    [8, 4],
    [1, 1],
  ]) {
    it(`P = 37 pixels, ca = ${ca}, cb = ${cb}`, () => {
      const P = 37;
      const a = randnFloat32(ca * 10 + cb, P * ca);
      const b = randnFloat32(ca * 10 + cb + 1, P * cb);
      const co = ca + cb;
      const out = upload(engine, new Float64Array(P * co).fill(Number.NaN));
      engine.parallel('concatChannels', P, 1, [upload(engine, a), ca, upload(engine, b), cb, out]);
      const ref = (aa: ArrayLike<number>, bb: ArrayLike<number>) =>
        Float64Array.from({ length: P * co }, (_, i) => {
          const p = Math.floor(i / co);
          const c = i % co;
          return c < ca ? aa[p * ca + c] : bb[p * cb + c - ca];
        });
      expect(download(engine, out, P * co)).toEqual(ref(a, b));

      // split is concat's backward: it must return dL/da, dL/db for L = Σ w·concat(a, b) (checked by central
      // differences of the reference), and be its exact inverse.
      const w = randnFloat32(ca * 10 + cb + 2, P * co);
      const ga = upload(engine, new Float64Array(P * ca).fill(Number.NaN));
      const gb = upload(engine, new Float64Array(P * cb).fill(Number.NaN));
      engine.parallel('splitChannels', P, 1, [upload(engine, w), ca, cb, ga, gb]);
      const gotA = download(engine, ga, P * ca);
      const gotB = download(engine, gb, P * cb);
      const aa = Float64Array.from(a);
      const bb = Float64Array.from(b);
      const L = () => ref(aa, bb).reduce((s, v, i) => s + w[i] * v, 0);
      for (let i = 0; i < P * ca; i++) expect(Math.abs(gotA[i] - centralDiff(aa, i, L))).toBeLessThan(1e-9);
      for (let i = 0; i < P * cb; i++) expect(Math.abs(gotB[i] - centralDiff(bb, i, L))).toBeLessThan(1e-9);
      engine.parallel('splitChannels', P, 1, [out, ca, cb, ga, gb]);
      expect(download(engine, ga, P * ca)).toEqual(a);
      expect(download(engine, gb, P * cb)).toEqual(b);
    });
  }
});
