/** Every differentiable op: forward against a float64 definition where it is not a kernel test's job, and its
 * gradient against central finite differences (test/helpers/gradcheck.ts). */
import { describe, expect, it } from 'vitest';
import { startTestEngine } from '../../../test/helpers/engine.js';
import { gradcheck } from '../../../test/helpers/gradcheck.js';
import { Rng } from '../../random/rng.js';
import type { Tensor } from '../tensor.js';
import * as ops from './index.js';

const { ctx } = await startTestEngine({ threads: 2 });

const awayFromZero = (n: number, seed: number) =>
  Float32Array.from(Rng.fromSeed(seed).fillNormal(new Float32Array(n)), (v) => (v >= 0 ? v + 0.2 : v - 0.2));
const positive = (n: number, seed: number) =>
  Float32Array.from(Rng.fromSeed(seed).fillNormal(new Float32Array(n)), (v) => 0.5 + Math.abs(v));

type Case = [
  name: string,
  f: (...x: Tensor[]) => Tensor,
  shapes: { shape: number[]; values?: ArrayLike<number>; check?: boolean }[],
];

const CASES: Case[] = [
  ['matmul', (a, b) => ops.matmul(a, b), [{ shape: [5, 7] }, { shape: [7, 3] }]],
  ['matmul Aᵀ', (a, b) => ops.matmul(a, b, true), [{ shape: [7, 5] }, { shape: [7, 3] }]],
  ['matmul Bᵀ', (a, b) => ops.matmul(a, b, false, true), [{ shape: [5, 7] }, { shape: [3, 7] }]],
  ['matmul AᵀBᵀ', (a, b) => ops.matmul(a, b, true, true), [{ shape: [7, 5] }, { shape: [3, 7] }]],
  ['bmm', (a, b) => ops.bmm(a, b), [{ shape: [3, 5, 6] }, { shape: [3, 6, 4] }]],
  ['bmm Bᵀ', (a, b) => ops.bmm(a, b, false, true), [{ shape: [3, 5, 6] }, { shape: [3, 4, 6] }]],
  ['bmm Aᵀ', (a, b) => ops.bmm(a, b, true), [{ shape: [2, 6, 5] }, { shape: [2, 6, 4] }]],
  ['linear', (x, w, b) => ops.linear(x, w, b), [{ shape: [6, 5] }, { shape: [5, 9] }, { shape: [9] }]],
  [
    'conv2d 3×3',
    (x, w, b) => ops.conv2d(x, w, b, { padding: 1 }),
    [{ shape: [2, 5, 6, 4] }, { shape: [3, 3, 4, 5] }, { shape: [5] }],
  ],
  [
    // 3×3 'same' with channels divisible by 8 takes the Winograd kernels (F(2×2, 3×3) on this 3×5 image).
    'conv2d 3×3 Winograd',
    (x, w, b) => ops.conv2d(x, w, b, { padding: 1 }),
    [{ shape: [2, 3, 5, 8] }, { shape: [3, 3, 8, 16] }, { shape: [16] }],
  ],
  [
    'conv2d stride 2',
    (x, w, b) => ops.conv2d(x, w, b, { stride: 2, padding: 1 }),
    [{ shape: [2, 6, 6, 3] }, { shape: [3, 3, 3, 4] }, { shape: [4] }],
  ],
  [
    'conv2d 1×1',
    (x, w, b) => ops.conv2d(x, w, b),
    [{ shape: [2, 3, 3, 8] }, { shape: [1, 1, 8, 4] }, { shape: [4] }],
  ],
  [
    'groupNorm',
    (x, g, b) => ops.groupNorm(x, g, b, 2),
    [{ shape: [2, 3, 3, 4] }, { shape: [4] }, { shape: [4] }],
  ],
  [
    'groupNormSilu',
    (x, g, b) => ops.groupNormSilu(x, g, b, 2),
    [{ shape: [2, 3, 3, 4] }, { shape: [4] }, { shape: [4] }],
  ],
  ['silu', (x) => ops.silu(x), [{ shape: [4, 33] }]],
  ['add', (a, b) => ops.add(a, b), [{ shape: [3, 4] }, { shape: [3, 4] }]],
  ['sub', (a, b) => ops.sub(a, b), [{ shape: [3, 4] }, { shape: [3, 4] }]],
  ['mul', (a, b) => ops.mul(a, b), [{ shape: [3, 4] }, { shape: [3, 4] }]],
  ['scale', (a) => ops.scale(a, -2.5), [{ shape: [3, 4] }]],
  ['addRowVector', (x, v) => ops.addRowVector(x, v), [{ shape: [5, 6] }, { shape: [6] }]],
  ['addPerImage', (x, v) => ops.addPerImage(x, v), [{ shape: [2, 3, 3, 4] }, { shape: [2, 4] }]],
  ['upsampleNearest2x', (x) => ops.upsampleNearest2x(x), [{ shape: [2, 3, 2, 4] }]],
  ['cropSpatial', (x) => ops.cropSpatial(x, 3, 2), [{ shape: [2, 4, 4, 3] }]],
  ['padBottomRight', (x) => ops.padBottomRight(x, 1, 2), [{ shape: [2, 3, 2, 3] }]],
  ['concatChannels', (a, b) => ops.concatChannels(a, b), [{ shape: [2, 3, 3, 4] }, { shape: [2, 3, 3, 2] }]],
  ['softmax', (x) => ops.softmax(x, 0.7), [{ shape: [4, 9] }]],
  ['reshape', (x) => ops.scale(ctx.reshape(x, [6, 2]), 3), [{ shape: [3, 4] }]],
  ['mseLoss', (a, b) => ops.mseLoss(a, b), [{ shape: [4, 5] }, { shape: [4, 5] }]],
  ['relu', (x) => ops.relu(x), [{ shape: [20], values: awayFromZero(20, 1) }]],
  ['tanh', (x) => ops.tanh(x), [{ shape: [20] }]],
  ['sigmoid', (x) => ops.sigmoid(x), [{ shape: [20] }]],
  ['softplus', (x) => ops.softplus(x), [{ shape: [20] }]],
  ['exp', (x) => ops.exp(x), [{ shape: [20] }]],
  ['log', (x) => ops.log(x), [{ shape: [20], values: positive(20, 2) }]],
  ['sum', (x) => ops.sum(x), [{ shape: [4, 5] }]],
  ['mean', (x) => ops.mean(x), [{ shape: [4, 5] }]],
  ['sumLastAxis', (x) => ops.sumLastAxis(x), [{ shape: [4, 5] }]],
  ['logSumExp', (x) => ops.logSumExp(x), [{ shape: [4, 7] }]],
  ['transpose', (x) => ops.transpose(x), [{ shape: [4, 7] }]],
  ['sliceLastAxis', (x) => ops.sliceLastAxis(x, 2, 5), [{ shape: [4, 7] }]],
  ['crossEntropy', (z) => ops.crossEntropy(z, [0, 3, 2, 1, 3]), [{ shape: [5, 4] }]],
];

describe('gradients against central finite differences', () => {
  it.each(CASES)('%s', (_name, f, shapes) => {
    const { worst, checked } = gradcheck(ctx, f, shapes);
    expect(checked).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('the check fails for a wrong gradient (a deliberately broken op)', () => {
    // y = 2x with a backward that claims dy/dx = 3: the checker must notice.
    const broken = (x: Tensor) => {
      const y = ops.scale(x, 2);
      y.node = null;
      y.requiresGrad = false;
      return ctx.record(y, [x], (gy) => [ops.scale(gy, 3)]);
    };
    expect(gradcheck(ctx, broken, [{ shape: [6] }]).worst).toBeGreaterThan(1);
  });
});

describe('forward values of the JavaScript ops', () => {
  it('cropSpatial keeps the top-left corner of every image and channel, and refuses a larger size', () => {
    ctx.scope(() => {
      const [N, H, W, C] = [2, 4, 5, 3];
      const x = ctx.fromArray(
        Float32Array.from({ length: N * H * W * C }, (_, i) => i),
        [N, H, W, C],
      );
      const y = ops.cropSpatial(x, 3, 2);
      expect(y.shape).toEqual([N, 3, 2, C]);
      const got = y.toFloat32Array();
      for (let n = 0; n < N; n++)
        for (let h = 0; h < 3; h++)
          for (let w = 0; w < 2; w++)
            for (let c = 0; c < C; c++)
              expect(got[((n * 3 + h) * 2 + w) * C + c]).toBe(((n * H + h) * W + w) * C + c);
      expect(() => ops.cropSpatial(x, 5, 2)).toThrow(/cannot crop \[2, 4, 5, 3\] to 5×2/);
    });
  });

  it('padBottomRight puts x in the top-left corner and zeros below and to the right', () => {
    ctx.scope(() => {
      const [N, H, W, C] = [2, 3, 2, 2];
      const x = ctx.fromArray(
        Float32Array.from({ length: N * H * W * C }, (_, i) => i + 1),
        [N, H, W, C],
      );
      const y = ops.padBottomRight(x, 1, 2);
      expect(y.shape).toEqual([N, 4, 4, C]);
      const got = y.toFloat32Array();
      for (let n = 0; n < N; n++)
        for (let h = 0; h < 4; h++)
          for (let w = 0; w < 4; w++)
            for (let c = 0; c < C; c++)
              expect(got[((n * 4 + h) * 4 + w) * C + c]).toBe(
                h < H && w < W ? ((n * H + h) * W + w) * C + c + 1 : 0,
              );
    });
  });

  it('logSumExp is stable for large inputs and matches the float64 definition', () => {
    ctx.scope(() => {
      const x = ctx.fromArray([1000, 1000, 0, -1000, -1001, -1002], [2, 3]);
      const y = ops.logSumExp(x).toFloat32Array();
      expect(y[0]).toBeCloseTo(1000 + Math.log(2), 3);
      expect(y[1]).toBeCloseTo(-1000 + Math.log(1 + Math.exp(-1) + Math.exp(-2)), 3);
    });
  });

  it('crossEntropy equals −log softmax at the label', () => {
    ctx.scope(() => {
      const z = [0.1, 2, -1, 0.5, 0.5, 0.5];
      const ce = ops.crossEntropy(ctx.fromArray(z, [2, 3]), [1, 2]).item();
      const lse0 = Math.log(Math.exp(0.1) + Math.exp(2) + Math.exp(-1));
      const expected = (lse0 - 2 + Math.log(3)) / 2;
      expect(ce).toBeCloseTo(expected, 6);
    });
  });

  it('groupNormSilu is silu(groupNorm(x)): the same forward, gradients to float32 rounding, also for groups too large to fuse', () => {
    // 28×28×32 in 8 groups (fused) and 160×160×32 in one group (3.3 MB: falls back to the two ops).
    const cases: [number[], number][] = [
      [[2, 28, 28, 32], 8],
      [[1, 160, 160, 32], 1],
    ];
    for (const [shape, groups] of cases) {
      ctx.scope(() => {
        const rng = Rng.fromSeed(4);
        const n = shape.reduce((a, b) => a * b, 1);
        const values = rng.fillNormal(new Float32Array(n));
        const dyValues = rng.fillNormal(new Float32Array(n));
        const gValues = rng.fillNormal(new Float32Array(32));
        const bValues = rng.fillNormal(new Float32Array(32));
        const run = (fused: boolean) => {
          const x = ctx.fromArray(values, [...shape], true);
          const g = ctx.fromArray(gValues, [32], true);
          const b = ctx.fromArray(bValues, [32], true);
          const y = fused ? ops.groupNormSilu(x, g, b, groups) : ops.silu(ops.groupNorm(x, g, b, groups));
          ctx.backward(ops.sum(ops.mul(y, ctx.fromArray(dyValues, [...shape]))));
          return [y, x.grad!, g.grad!, b.grad!].map((t) => t.toFloat32Array());
        };
        const fused = run(true);
        const plain = run(false);
        expect(fused[0]).toEqual(plain[0]);
        for (let i = 1; i < 4; i++) {
          let err = 0;
          let norm = 0;
          for (let j = 0; j < fused[i].length; j++) {
            err += (fused[i][j] - plain[i][j]) ** 2;
            norm += plain[i][j] ** 2;
          }
          expect(Math.sqrt(err / norm)).toBeLessThan(1e-5);
        }
      });
    }
  });

  it('scopes free what they create and keep what they return', () => {
    const before = ctx.liveBytes;
    const kept = ctx.scope(() => {
      const a = ctx.fromArray([1, 2, 3], [3]);
      ops.scale(a, 2);
      return ops.add(a, a);
    });
    expect(kept.toFloat32Array()).toEqual(Float32Array.of(2, 4, 6));
    expect(ctx.liveBytes).toBeGreaterThan(before);
    kept.dispose();
    expect(ctx.liveBytes).toBe(before);
    const a = ctx.scope(() => ctx.fromArray([1], [1]));
    a.dispose();
    expect(() => a.item()).toThrow(/freed/);
  });
});
