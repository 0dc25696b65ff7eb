import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../node/engine.js';
import { type ConvShape, convGradReference, convReference, dot, outSize } from '../../test/helpers/conv.js';
import { download, relativeL2, upload } from '../../test/helpers/engine.js';
import { Rng } from '../random/rng.js';
import { directWeightGrad } from '../tensor/ops/conv.js';
import type { Engine } from './engine.js';

const SHAPES: ConvShape[] = [
  { N: 2, H: 7, W: 6, Cin: 8, Cout: 12, k: 3, stride: 1, pad: 1 },
  { N: 3, H: 9, W: 9, Cin: 4, Cout: 8, k: 3, stride: 2, pad: 1 },
  { N: 2, H: 5, W: 5, Cin: 1, Cout: 5, k: 3, stride: 1, pad: 1 },
  { N: 1, H: 6, W: 5, Cin: 6, Cout: 3, k: 1, stride: 1, pad: 0 },
  { N: 2, H: 8, W: 8, Cin: 36, Cout: 20, k: 3, stride: 2, pad: 1 },
  { N: 3, H: 7, W: 9, Cin: 16, Cout: 12, k: 3, stride: 1, pad: 1 },
  { N: 2, H: 30, W: 20, Cin: 8, Cout: 8, k: 3, stride: 2, pad: 1 },
  { N: 2, H: 9, W: 7, Cin: 32, Cout: 1, k: 3, stride: 1, pad: 1 }, // an image UNet's output convolution
  { N: 2, H: 9, W: 7, Cin: 1, Cout: 32, k: 3, stride: 1, pad: 1 }, // and its input convolution
];

describe.each([
  { threads: 1, noRelaxedSimd: false },
  { threads: 2, noRelaxedSimd: false },
  { threads: 2, noRelaxedSimd: true },
])('conv2d kernels, %o', (options) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createNodeEngine(options);
    // Node 20 validates the relaxed-SIMD build once the V8 flag is set; the fallback must really be the plain one.
    expect(engine.relaxedSimd).toBe(!options.noRelaxedSimd);
  });
  afterAll(() => engine.dispose());

  it.each(SHAPES)('forward and both gradients match the float64 definition: %o', (s) => {
    const rng = Rng.fromSeed(11);
    const Ho = outSize(s.H, s);
    const Wo = outSize(s.W, s);
    const nx = s.N * s.H * s.W * s.Cin;
    const nw = s.k * s.k * s.Cin * s.Cout;
    const ny = s.N * Ho * Wo * s.Cout;
    const x = Float64Array.from(rng.fillNormal(new Float32Array(nx)));
    const w = Float64Array.from(rng.fillNormal(new Float32Array(nw)));
    const dy = Float64Array.from(rng.fillNormal(new Float32Array(ny)));
    const px = upload(engine, x);
    const pw = upload(engine, w);
    const pdy = upload(engine, dy);
    const py = engine.heap.alloc(ny * 4);
    const pdx = engine.heap.alloc(nx * 4);
    const pdw = engine.heap.alloc(nw * 4);
    const geom = [s.H, s.W, s.Cin, Ho, Wo, s.Cout, s.k, s.k, s.stride, s.pad];
    engine.parallel('conv2dForward', s.N * Ho * Wo, 4, [px, pw, py, ...geom, 0, 0]);
    engine.parallel('conv2dBackwardInput', s.N * s.H * s.W, 4, [pdy, pw, pdx, ...geom, 0]);
    // Any channel counts: partial tiles discard the lanes and rows they read past their channels.
    directWeightGrad(engine, px, pdy, pdw, s.N * Ho * Wo, geom);

    // float32 products summed over ≤ 324 terms: relative L2 error ~1e-7, allow 2e-6.
    expect(relativeL2(download(engine, py, ny), convReference(x, w, s))).toBeLessThan(2e-6);
    // Both gradients, at every coordinate, against the float64 adjoint of the convolution.
    const grads = convGradReference(x, w, dy, s);
    expect(relativeL2(download(engine, pdx, nx), grads.dx)).toBeLessThan(2e-6);
    expect(relativeL2(download(engine, pdw, nw), grads.dw)).toBeLessThan(2e-6);

    // Gradients of L = Σ dy ⊙ conv(x, w) by central differences of the float64 definition (exact for a
    // bilinear function up to rounding), at 12 random coordinates each.
    const dx = download(engine, pdx, nx);
    const dw = download(engine, pdw, nw);
    const h = 1e-3;
    for (let trial = 0; trial < 12; trial++) {
      const i = rng.int(nx);
      const xp = x.slice();
      const xm = x.slice();
      xp[i] += h;
      xm[i] -= h;
      const fd = (dot(dy, convReference(xp, w, s)) - dot(dy, convReference(xm, w, s))) / (2 * h);
      expect(dx[i]).toBeCloseTo(fd, 4);
      const j = rng.int(nw);
      const wp = w.slice();
      const wm = w.slice();
      wp[j] += h;
      wm[j] -= h;
      const fdw = (dot(dy, convReference(x, wp, s)) - dot(dy, convReference(x, wm, s))) / (2 * h);
      expect(dw[j]).toBeCloseTo(fdw, 3);
    }
    // accumulate = 1 adds to what is there; a bias is added to every pixel as the output is written (also in
    // the partial tiles of output channel counts that are not a multiple of 8).
    const b = Float64Array.from(rng.fillNormal(new Float32Array(s.Cout)));
    engine.parallel('conv2dForward', s.N * Ho * Wo, 4, [px, pw, py, ...geom, 1, upload(engine, b)]);
    const want = convReference(x, w, s).map((v, i) => 2 * v + b[i % s.Cout]);
    expect(relativeL2(download(engine, py, ny), want)).toBeLessThan(2e-6);
  });
});
