import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../node/engine.js';
import { type ConvShape, convGradReference, convReference, outSize } from '../../test/helpers/conv.js';
import { download, relativeL2, upload } from '../../test/helpers/engine.js';
import { Rng } from '../random/rng.js';
import {
  thinConvEligible,
  thinConvForward,
  thinConvInputGrad,
  thinConvWeightGrad,
  type ThinConvGeometry,
} from '../tensor/ops/conv.js';
import type { Engine } from './engine.js';

// One input channel (image → features) or one output channel (features → image); channel counts of the other
// side that fill whole blocks of 16 (32), leave a 4-channel tail (20), or are a single vector (4); 'same' and
// 'valid' padding, 1×1 and 5×5 taps, non-square images.
const SHAPES: ConvShape[] = [
  { N: 2, H: 9, W: 7, Cin: 1, Cout: 32, k: 3, stride: 1, pad: 1 },
  { N: 2, H: 9, W: 7, Cin: 32, Cout: 1, k: 3, stride: 1, pad: 1 },
  { N: 3, H: 6, W: 8, Cin: 1, Cout: 20, k: 3, stride: 1, pad: 0 },
  { N: 3, H: 6, W: 8, Cin: 20, Cout: 1, k: 3, stride: 1, pad: 0 },
  { N: 1, H: 5, W: 5, Cin: 1, Cout: 4, k: 1, stride: 1, pad: 0 },
  { N: 1, H: 5, W: 4, Cin: 4, Cout: 1, k: 1, stride: 1, pad: 0 },
  { N: 2, H: 7, W: 6, Cin: 1, Cout: 36, k: 5, stride: 1, pad: 2 },
  { N: 2, H: 7, W: 6, Cin: 36, Cout: 1, k: 5, stride: 1, pad: 2 },
];

function geometry(s: ConvShape): ThinConvGeometry {
  const { N, H, W, k, pad } = s;
  return { N, H, W, Ho: outSize(H, s), Wo: outSize(W, s), C: s.Cin * s.Cout, kh: k, kw: k, pad };
}

describe('which convolutions take the single-channel kernels', () => {
  it('stride 1, one channel on one side and a multiple of 4 on the other', () => {
    expect(thinConvEligible(1, 1, 32)).toBe('in');
    expect(thinConvEligible(1, 32, 1)).toBe('out');
    expect(thinConvEligible(2, 1, 32)).toBeNull();
    expect(thinConvEligible(1, 1, 6)).toBeNull();
    expect(thinConvEligible(1, 1, 1)).toBeNull();
    expect(thinConvEligible(1, 8, 8)).toBeNull();
  });
});

describe.each([
  { threads: 1, noRelaxedSimd: false },
  { threads: 2, noRelaxedSimd: false },
  { threads: 2, noRelaxedSimd: true },
])('single-channel convolution kernels, %o', (options) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createNodeEngine(options);
  });
  afterAll(() => engine.dispose());

  it.each(SHAPES)('forward, bias, accumulation and both gradients match the float64 definition: %o', (s) => {
    const thin = thinConvEligible(s.stride, s.Cin, s.Cout)!;
    expect(thin).toBe(s.Cin === 1 ? 'in' : 'out');
    const g = geometry(s);
    const rng = Rng.fromSeed(5);
    const nx = s.N * s.H * s.W * s.Cin;
    const nw = s.k * s.k * s.Cin * s.Cout;
    const ny = s.N * g.Ho * g.Wo * s.Cout;
    const x = Float64Array.from(rng.fillNormal(new Float32Array(nx)));
    const w = Float64Array.from(rng.fillNormal(new Float32Array(nw)));
    const dy = Float64Array.from(rng.fillNormal(new Float32Array(ny)));
    const b = Float64Array.from(rng.fillNormal(new Float32Array(s.Cout)));
    const [px, pw, pdy, pb] = [x, w, dy, b].map((a) => upload(engine, a));
    const py = engine.heap.alloc(ny * 4);
    const pdx = engine.heap.alloc(nx * 4);
    const pdw = engine.heap.alloc(nw * 4);

    const y = convReference(x, w, s);
    thinConvForward(engine, thin, px, pw, 0, py, g);
    // float32 products summed over ≤ 900 terms: relative L2 error ~1e-7, allow 2e-6.
    expect(relativeL2(download(engine, py, ny), y)).toBeLessThan(2e-6);
    thinConvForward(engine, thin, px, pw, pb, py, g);
    const withBias = y.map((v, i) => v + b[i % s.Cout]);
    expect(relativeL2(download(engine, py, ny), withBias)).toBeLessThan(2e-6);

    const grads = convGradReference(x, w, dy, s);
    thinConvInputGrad(engine, thin, pdy, pw, pdx, g);
    expect(relativeL2(download(engine, pdx, nx), grads.dx)).toBeLessThan(2e-6);
    thinConvWeightGrad(engine, thin, px, pdy, pdw, g);
    expect(relativeL2(download(engine, pdw, nw), grads.dw)).toBeLessThan(2e-6);

    // accumulate = 1 adds to what the output holds (the kernels' flag, after the bias).
    const kernel = thin === 'in' ? 'convBroadcast' : 'convReduce';
    const args = [px, pw, py, s.H, s.W, g.Ho, g.Wo, g.C, s.k, s.k, s.pad, 1, 1, pb];
    engine.parallel(kernel, s.N * g.Ho, 1, args);
    expect(
      relativeL2(
        download(engine, py, ny),
        withBias.map((v) => 2 * v),
      ),
    ).toBeLessThan(2e-6);
  });
});

describe('the single-channel weight gradient', () => {
  it('is bit-identical on 1 and 2 threads (fixed partial sums, added in order)', async () => {
    const s: ConvShape = { N: 4, H: 12, W: 10, Cin: 1, Cout: 24, k: 3, stride: 1, pad: 1 };
    const g = geometry(s);
    const rng = Rng.fromSeed(8);
    const x = Float64Array.from(rng.fillNormal(new Float32Array(s.N * s.H * s.W)));
    const dy = Float64Array.from(rng.fillNormal(new Float32Array(s.N * g.Ho * g.Wo * s.Cout)));
    const results: Float64Array[] = [];
    for (const threads of [1, 2]) {
      const engine = await createNodeEngine({ threads });
      const pdw = engine.heap.alloc(9 * s.Cout * 4);
      thinConvWeightGrad(engine, 'in', upload(engine, x), upload(engine, dy), pdw, g);
      results.push(download(engine, pdw, 9 * s.Cout));
      engine.dispose();
    }
    expect(results[1]).toEqual(results[0]);
    expect(relativeL2(results[0], convGradReference(x, new Float64Array(9 * s.Cout), dy, s).dw)).toBeLessThan(
      2e-6,
    );
  });
});
