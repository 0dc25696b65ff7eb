/**
 * The learned-range parameterisation ([ND21] eq. 15) and the analytic check on Gaussian data: for x0 ~ N(μ, s²)
 * the true reverse variance Var(x_{t−1} | x_t) = β̃_t + c0² Var(x0 | x_t) is known in closed form (see
 * src/samplers/gaussianData.test.ts), so one can ask whether v ∈ [−1, 1] can represent it, and whether the bound
 * with that v is the exact-variance bound.
 */
import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { Rng } from '../random/rng.js';
import type { BatchModel } from '../samplers/types.js';
import {
  joinLearnedRangeOutput,
  learnedRangeLogVariance,
  learnedRangeSlope,
  learnedRangeVFromLogVariance,
  splitLearnedRangeOutput,
} from './learnedVariance.js';
import { gaussianDataOptimalEps, gaussianDataReverseLogVar } from './gaussianData.js';
import { noiseSchedule } from './schedule.js';
import { negativeElbo } from './vlb.js';

const schedule = noiseSchedule('linear', 1000);

const exactReverseLogVar = (t: number, s: number) => gaussianDataReverseLogVar(schedule, t, s);

/** v*(t): the learned-range value of the exact reverse variance. */
const vStar = (t: number, s: number) => learnedRangeVFromLogVariance(schedule, t, exactReverseLogVar(t, s));

describe('learnedRangeLogVariance', () => {
  it('v = −1 gives log β̃_t (clipped at t = 0), v = 1 log β_t, v = 0 their mean; linear in v (1e-14)', () => {
    for (const t of [0, 1, 2, 500, 999]) {
      const [lo, mid, hi] = learnedRangeLogVariance(schedule, t, [-1, 0, 1]);
      const logBetaTilde = Math.log(schedule.posteriorVariance[t > 0 ? t : 1]);
      assertAllClose(lo, logBetaTilde, { rtol: 1e-14 }, `t=${t} v=−1`);
      assertAllClose(hi, Math.log(schedule.beta[t]), { rtol: 1e-14 }, `t=${t} v=1`);
      assertAllClose(mid, 0.5 * (lo + hi), { rtol: 1e-14 }, `t=${t} v=0`);
      assertAllClose(learnedRangeSlope(schedule, t), (hi - lo) / 2, { rtol: 1e-12 }, `t=${t} slope`);
      const v = 0.37;
      // The inverse divides by log β_t − log β̃_t, which is 1e-5 at t = 999 (β̃ → β): rounding grows by 1e5 there.
      const back = learnedRangeVFromLogVariance(schedule, t, learnedRangeLogVariance(schedule, t, [v])[0]);
      assertAllClose(back, v, { rtol: 1e-7 }, `t=${t} inverse`);
    }
  });

  it('split and join of the network output layout are inverse (interleaved per pixel, C channels)', () => {
    const out = Float64Array.from({ length: 24 }, (_, i) => i);
    const { mean, v } = splitLearnedRangeOutput(out, 3);
    expect(Array.from(mean)).toEqual([0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20]);
    expect(Array.from(v)).toEqual([3, 4, 5, 9, 10, 11, 15, 16, 17, 21, 22, 23]);
    expect(Array.from(joinLearnedRangeOutput(mean, v, 3))).toEqual(Array.from(out));
  });
});

describe('learned-range variances on Gaussian data N(μ, s²)', () => {
  it('v* lies in [−1, 1] at every t for s < 1; v* = 1 (σ² = β_t) for s = 1; v* > 1 at every t for s > 1', () => {
    // β̃_t is the reverse variance for a point mass (s = 0) and β_t the one for s = 1 ([Ho20] §3.2): the range
    // covers data less spread than the standard normal, which 8-bit images in [−1, 1] are, and no wider data.
    for (const s of [0.1, 0.25, 0.5, 0.9]) {
      for (let t = 0; t < schedule.T; t++) {
        const v = vStar(t, s);
        expect(v, `s=${s} t=${t}`).toBeGreaterThanOrEqual(-1);
        expect(v, `s=${s} t=${t}`).toBeLessThanOrEqual(1);
      }
    }
    for (let t = 0; t < schedule.T; t++) {
      expect(Math.abs(vStar(t, 1) - 1), `s=1 t=${t}`).toBeLessThan(1e-6);
      expect(vStar(t, 1.5), `s=1.5 t=${t}`).toBeGreaterThan(1);
    }
  });

  it('the bound with v* equals the bound with the exact reverse variance, draw for draw (1e-10)', () => {
    const MU = 0.3;
    const S = 0.5;
    const optimalEps = gaussianDataOptimalEps(schedule, MU, S);
    const learned: BatchModel = (xt, t) => {
      const out = new Float64Array(2 * xt.length);
      out.set(optimalEps(xt, t));
      out.fill(vStar(t, S), xt.length);
      return out;
    };
    const batch = 200;
    const x0 = Rng.fromSeed(1).fillNormal(new Float64Array(batch), MU, S);
    const run = (model: BatchModel, variance: Parameters<typeof negativeElbo>[5]['variance']) =>
      negativeElbo(schedule, model, x0, batch, Rng.fromSeed(2), {
        prediction: 'eps',
        variance,
        data: 'continuous',
        terms: 'all',
      });
    const a = run(learned, 'learned-range');
    const b = run(optimalEps, { logVar: (t) => exactReverseLogVar(t, S) });
    assertAllClose(a.total, b.total, { rtol: 1e-10 });
    // …and it is tighter than β̃'s by the known margin (≈ 0.57 nats/dim at T = 1000, see gaussianData.test.ts).
    const c = run(optimalEps, 'posterior');
    const mean = (r: typeof a) => r.total.reduce((s, v) => s + v, 0) / batch;
    expect(mean(c) - mean(a)).toBeGreaterThan(0.3);
  });
});
