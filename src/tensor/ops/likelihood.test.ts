/**
 * The likelihood ops: forward values against the float64 definitions in src/math (tolerance: float32 inputs,
 * float64 sums, so 1e-5 relative), gradients against central finite differences (test/helpers/gradcheck.ts),
 * and input checks.
 */
import { describe, expect, it } from 'vitest';
import { startTestEngine } from '../../../test/helpers/engine.js';
import { gradcheck } from '../../../test/helpers/gradcheck.js';
import { bernoulliLogProbSum } from '../../math/bernoulli.js';
import { gaussianLogProb, klToStandardNormal } from '../../math/gaussian.js';
import { Rng } from '../../random/rng.js';
import type { Tensor } from '../tensor.js';
import { bernoulliLogLikelihood, gaussianLogDensity, klToStandardNormalPerExample } from './likelihood.js';

const { ctx } = await startTestEngine({ threads: 1 });

const normal = (n: number, seed: number, s = 1) =>
  Float32Array.from(Rng.fromSeed(seed).fillNormal(new Float32Array(n)), (v) => s * v);
const unit = (n: number, seed: number) => Rng.fromSeed(seed).fillUniform(new Float32Array(n));
const binary = (n: number, seed: number) => unit(n, seed).map((u) => (u < 0.4 ? 1 : 0));

describe('forward values against the float64 definitions (rtol 1e-5)', () => {
  it('bernoulliLogLikelihood = Σ x l − softplus(l) per example, binary and grey x, logits up to ±60', () => {
    ctx.scope(() => {
      const [B, D] = [3, 7];
      const l = normal(B * D, 1, 20);
      l[0] = 60;
      l[1] = -60;
      for (const x of [binary(B * D, 2), unit(B * D, 3)]) {
        const y = bernoulliLogLikelihood(
          ctx.fromArray(l, [B, D]),
          ctx.fromArray(x, [B, 1, D]),
        ).toFloat32Array();
        for (let b = 0; b < B; b++) {
          const ref = bernoulliLogProbSum(x.subarray(b * D, (b + 1) * D), l.subarray(b * D, (b + 1) * D));
          expect(Math.abs(y[b] - ref)).toBeLessThanOrEqual(1e-5 * Math.abs(ref) + 1e-6);
        }
      }
    });
  });

  it('gaussianLogDensity = Σ log N(x; μ, e^{logVar}), logVar a tensor or a fixed number', () => {
    ctx.scope(() => {
      const [B, D] = [4, 5];
      const x = normal(B * D, 4);
      const m = normal(B * D, 5);
      const lv = normal(B * D, 6, 0.5);
      const xs = ctx.fromArray(x, [B, D]);
      const ms = ctx.fromArray(m, [B, D]);
      const y1 = gaussianLogDensity(xs, ms, ctx.fromArray(lv, [B, D])).toFloat32Array();
      const y2 = gaussianLogDensity(xs, ms, -1.3).toFloat32Array();
      for (let b = 0; b < B; b++) {
        const sl = (a: Float32Array) => a.subarray(b * D, (b + 1) * D);
        const r1 = gaussianLogProb(sl(x), sl(m), sl(lv));
        const r2 = gaussianLogProb(sl(x), sl(m), -1.3);
        expect(Math.abs(y1[b] - r1)).toBeLessThanOrEqual(1e-5 * Math.abs(r1));
        expect(Math.abs(y2[b] - r2)).toBeLessThanOrEqual(1e-5 * Math.abs(r2));
      }
    });
  });

  it('klToStandardNormalPerExample = ½ Σ (μ² + e^{logVar} − 1 − logVar), 0 for N(0, I)', () => {
    ctx.scope(() => {
      const [B, L] = [3, 6];
      const m = normal(B * L, 7);
      const lv = normal(B * L, 8);
      const y = klToStandardNormalPerExample(
        ctx.fromArray(m, [B, L]),
        ctx.fromArray(lv, [B, L]),
      ).toFloat32Array();
      for (let b = 0; b < B; b++) {
        const ref = klToStandardNormal(m.subarray(b * L, (b + 1) * L), lv.subarray(b * L, (b + 1) * L));
        expect(Math.abs(y[b] - ref)).toBeLessThanOrEqual(1e-5 * ref);
      }
      const zero = klToStandardNormalPerExample(ctx.zeros([2, 3]), ctx.zeros([2, 3])).toFloat32Array();
      expect([...zero]).toEqual([0, 0]);
    });
  });
});

describe('gradients against central finite differences', () => {
  type Case = [
    string,
    (...t: Tensor[]) => Tensor,
    { shape: number[]; values?: ArrayLike<number>; check?: boolean }[],
  ];
  const CASES: Case[] = [
    [
      'bernoulliLogLikelihood (logits and grey x)',
      (l, x) => bernoulliLogLikelihood(l, x),
      [
        { shape: [3, 8], values: normal(24, 9, 2) },
        { shape: [3, 8], values: unit(24, 10) },
      ],
    ],
    [
      'bernoulliLogLikelihood (binary x, no x gradient)',
      (l, x) => bernoulliLogLikelihood(l, x),
      [{ shape: [4, 5] }, { shape: [4, 5], values: binary(20, 11), check: false }],
    ],
    [
      'gaussianLogDensity (x, μ, logVar)',
      (x, m, lv) => gaussianLogDensity(x, m, lv),
      [{ shape: [3, 4] }, { shape: [3, 4] }, { shape: [3, 4], values: normal(12, 12, 0.5) }],
    ],
    [
      'gaussianLogDensity (fixed logVar)',
      (x, m) => gaussianLogDensity(x, m, 0.4),
      [{ shape: [2, 6] }, { shape: [2, 6] }],
    ],
    [
      'klToStandardNormalPerExample',
      (m, lv) => klToStandardNormalPerExample(m, lv),
      [{ shape: [3, 5] }, { shape: [3, 5] }],
    ],
  ];
  it.each(CASES)('%s', (_name, f, specs) => {
    const { worst, checked } = gradcheck(ctx, f, specs);
    expect(checked).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe('bad input', () => {
  it('names the op and the shapes', () => {
    ctx.scope(() => {
      expect(() => bernoulliLogLikelihood(ctx.zeros([2, 3]), ctx.zeros([2, 4]))).toThrow(
        /bernoulliLogLikelihood: logits \[2, 3\] and x \[2, 4\]/,
      );
      expect(() => gaussianLogDensity(ctx.zeros([2, 3]), ctx.zeros([2, 3]), Number.NaN)).toThrow(
        /logVar must be finite/,
      );
      expect(() => klToStandardNormalPerExample(ctx.zeros([2, 3]), ctx.zeros([3, 2]))).toThrow(
        /differ in size or batch/,
      );
    });
  });
});
