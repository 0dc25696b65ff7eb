/**
 * Winograd F(2×2, 3×3) kernels (src/engine/assembly/winograd.ts) against the float64 definition of a
 * 'same' 3×3 convolution and its two gradients, on shapes with odd sizes (partial tiles), one pixel, several
 * tile blocks, and on 1 and 2 threads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../node/engine.js';
import { type ConvShape, convGradReference, convReference } from '../../test/helpers/conv.js';
import { download, relativeL2, upload } from '../../test/helpers/engine.js';
import { Rng } from '../random/rng.js';
import { conv2d, winogradTile } from '../tensor/ops/conv.js';
import { mul, sum } from '../tensor/ops/index.js';
import { Context } from '../tensor/tensor.js';
import type { Engine } from './engine.js';

const same = (N: number, H: number, W: number, Cin: number, Cout: number): ConvShape => ({
  N,
  H,
  W,
  Cin,
  Cout,
  k: 3,
  stride: 1,
  pad: 1,
});

const SHAPES: ConvShape[] = [
  same(2, 7, 6, 8, 16),
  same(3, 5, 9, 16, 8),
  same(1, 1, 1, 8, 8),
  same(2, 2, 3, 24, 8),
  same(5, 28, 28, 32, 32), // many tile blocks per thread
  same(2, 14, 14, 128, 64),
  same(1, 6, 5, 160, 16), // input channels in two passes of the tile transforms (128 + 32)
  same(1, 5, 6, 8, 136), // and output-gradient channels
];

describe.each([
  { threads: 1, m: 2 },
  { threads: 2, m: 2 },
  { threads: 1, m: 4 },
  { threads: 2, m: 4 },
])('Winograd F(m×m, 3×3), %o', ({ threads, m }) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createNodeEngine({ threads });
  });
  afterAll(() => engine.dispose());

  it.each(SHAPES)('forward, input and weight gradients match the float64 definition: %o', (s) => {
    const rng = Rng.fromSeed(5);
    const nx = s.N * s.H * s.W * s.Cin;
    const nw = 9 * s.Cin * s.Cout;
    const ny = s.N * s.H * s.W * s.Cout;
    const x = Float64Array.from(rng.fillNormal(new Float32Array(nx)));
    const w = Float64Array.from(rng.fillNormal(new Float32Array(nw)));
    const dy = Float64Array.from(rng.fillNormal(new Float32Array(ny)));
    const [px, pw, pdy] = [upload(engine, x), upload(engine, w), upload(engine, dy)];
    const tiles = s.N * Math.ceil(s.H / m) * Math.ceil(s.W / m);
    // F(2×2, 3×3) adds and subtracts before multiplying: float32 error ~1e-7 relative. F(4×4, 3×3) has
    // transform coefficients up to 8 (and 1/24): a few times more.
    const tol = m === 2 ? 2e-6 : 1e-5;
    const transformed = (K: number, Nc: number, flip: boolean) => {
      const u = engine.heap.alloc((m + 2) ** 2 * K * Nc * 4);
      engine.parallel('winogradWeightTransform', K, 4, [pw, u, s.Cin, s.Cout, flip ? 1 : 0, m]);
      return u;
    };

    // Forward: src = x (Cin channels), weights as they are.
    const u = transformed(s.Cin, s.Cout, false);
    const py = engine.heap.alloc(ny * 4);
    engine.parallel('winogradConv', tiles, 4, [px, u, py, s.N, s.H, s.W, s.Cin, s.Cout, m, 0, 0]);
    const y = convReference(x, w, s);
    expect(relativeL2(download(engine, py, ny), y)).toBeLessThan(tol);

    // accumulate = 1 adds to what is there; a bias is added to every pixel as the output is written.
    const b = Float64Array.from(rng.fillNormal(new Float32Array(s.Cout)));
    engine.parallel('winogradConv', tiles, 4, [
      px,
      u,
      py,
      s.N,
      s.H,
      s.W,
      s.Cin,
      s.Cout,
      m,
      1,
      upload(engine, b),
    ]);
    expect(
      relativeL2(
        download(engine, py, ny),
        y.map((v, i) => 2 * v + b[i % s.Cout]),
      ),
    ).toBeLessThan(tol);

    const { dx, dw } = convGradReference(x, w, dy, s);
    // Input gradient: the same convolution of dy with the flipped, channel-transposed filter.
    const uFlip = transformed(s.Cout, s.Cin, true);
    const pdx = engine.heap.alloc(nx * 4);
    engine.parallel('winogradConv', tiles, 4, [pdy, uFlip, pdx, s.N, s.H, s.W, s.Cout, s.Cin, m, 0, 0]);
    expect(relativeL2(download(engine, pdx, nx), dx)).toBeLessThan(tol);

    // Weight gradient: partial sums over `chunks` tile ranges, then summed and transformed.
    for (const chunks of [1, 3]) {
      const partials = engine.heap.alloc(chunks * (m + 2) ** 2 * s.Cin * s.Cout * 4);
      const pdw = engine.heap.alloc(nw * 4);
      engine.parallel('winogradWeightGradPartial', chunks, 1, [
        px,
        pdy,
        partials,
        chunks,
        s.N,
        s.H,
        s.W,
        s.Cin,
        s.Cout,
        m,
      ]);
      engine.parallel('winogradWeightGradFinish', s.Cin, 1, [partials, chunks, pdw, s.Cin, s.Cout, m, 0]);
      expect(relativeL2(download(engine, pdw, nw), dw)).toBeLessThan(tol);
      engine.parallel('winogradWeightGradFinish', s.Cin, 1, [partials, chunks, pdw, s.Cin, s.Cout, m, 1]);
      expect(
        relativeL2(
          download(engine, pdw, nw),
          dw.map((v) => 2 * v),
        ),
      ).toBeLessThan(tol);
    }
  });
});

describe('the Winograd tile choice', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createNodeEngine({ threads: 1 });
  });
  afterAll(() => engine.dispose());

  it('takes the tile with fewer transformed values per output, unless one is forced', () => {
    // 28×28: 49 tiles of 36 (m = 4) vs 196 of 16 (m = 2); 1×1: one tile either way, 16 < 36.
    expect(winogradTile(engine, 28, 28)).toBe(4);
    expect(winogradTile(engine, 7, 7)).toBe(4);
    expect(winogradTile(engine, 1, 1)).toBe(2);
    expect(winogradTile(engine, 2, 30)).toBe(2);
    engine.winogradTile = 2;
    expect(winogradTile(engine, 28, 28)).toBe(2);
  });
});

describe('conv2d on 1 and 2 threads', () => {
  // 32 images of 12×12: 4608 output rows at stride 1, so the bias gradient takes the row-range column sums.
  it.each([
    { k: 3, stride: 1, padding: 1, cin: 16, kernels: 'Winograd' },
    { k: 3, stride: 2, padding: 1, cin: 16, kernels: 'implicit GEMM, direct weight gradient' },
    { k: 1, stride: 1, padding: 0, cin: 16, kernels: 'implicit GEMM, direct weight gradient' },
    {
      k: 3,
      stride: 1,
      padding: 1,
      cin: 1,
      kernels: 'implicit GEMM, direct weight gradient (1 input channel)',
    },
  ])(
    'gives bit-identical outputs and gradients (weight and bias gradients sum a fixed number of partial sums): %o',
    async ({ k, stride, padding, cin }) => {
      const results: Float32Array[][] = [];
      for (const threads of [1, 2]) {
        const engine = await createNodeEngine({ threads });
        try {
          const ctx = new Context(engine);
          const rng = Rng.fromSeed(3);
          const x = ctx.fromArray(
            rng.fillNormal(new Float32Array(32 * 12 * 12 * cin)),
            [32, 12, 12, cin],
            true,
          );
          const w = ctx.fromArray(rng.fillNormal(new Float32Array(k * k * cin * 24)), [k, k, cin, 24], true);
          const b = ctx.fromArray(rng.fillNormal(new Float32Array(24)), [24], true);
          const y = conv2d(x, w, b, { stride, padding });
          const dy = ctx.fromArray(rng.fillNormal(new Float32Array(y.size)), y.shape);
          ctx.backward(sum(mul(y, dy)));
          results.push([y, x.grad!, w.grad!, b.grad!].map((t) => t.toFloat32Array()));
        } finally {
          engine.dispose();
        }
      }
      for (let i = 0; i < 4; i++) expect(results[1][i]).toEqual(results[0][i]);
    },
  );
});
