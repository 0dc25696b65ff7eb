import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { Rng } from '../random/rng.js';
import { gaussianDataOptimalEps, gaussianDataReverseLogVar } from './gaussianData.js';
import { noiseSchedule } from './schedule.js';

const schedule = noiseSchedule('linear', 1000);
const MU = 0.3;
const S = 0.5;

describe('Gaussian data N(μ, s²)', () => {
  it('the reverse variance equals Gaussian conditioning of (x_{t−1}, x_t): V_{t−1} − α_t V_{t−1}²/V_t (1e-9)', () => {
    // Written independently: V_t = Var(x_t) = ᾱ_t s² + 1 − ᾱ_t, Cov(x_{t−1}, x_t) = √α_t V_{t−1}.
    for (const s of [0.1, 0.5, 1, 2]) {
      for (const t of [1, 2, 10, 100, 500, 999]) {
        const v = (k: number) => schedule.alphaBar[k] * s * s + 1 - schedule.alphaBar[k];
        const expected = v(t - 1) - (schedule.alpha[t] * v(t - 1) ** 2) / v(t);
        assertAllClose(
          Math.exp(gaussianDataReverseLogVar(schedule, t, s)),
          expected,
          { rtol: 1e-9 },
          `s=${s} t=${t}`,
        );
      }
      // t = 0: Var(x0 | x_0) = s²(1 − ᾱ_0)/V_0.
      const v0 = schedule.alphaBar[0] * s * s + 1 - schedule.alphaBar[0];
      assertAllClose(
        Math.exp(gaussianDataReverseLogVar(schedule, 0, s)),
        (s * s * (1 - schedule.alphaBar[0])) / v0,
        { rtol: 1e-9 },
      );
    }
  });

  it('the optimal ε̂ leaves a residual uncorrelated with x_t, of variance 1 − (1 − ᾱ)/V_t (Monte Carlo, 4 SE)', () => {
    const rng = Rng.fromSeed(8);
    const n = 20000;
    const eps = gaussianDataOptimalEps(schedule, MU, S);
    for (const t of [5, 300, 900]) {
      const a = schedule.sqrtAlphaBar[t];
      const sn = schedule.sqrtOneMinusAlphaBar[t];
      const e = rng.fillNormal(new Float64Array(n));
      const xt = rng.fillNormal(new Float64Array(n), MU, S).map((x, i) => a * x + sn * e[i]);
      const r = eps(xt, t).map((h, i) => e[i] - h);
      const cross = r.map((x, i) => x * (xt[i] - a * MU));
      const mean = (xs: Float64Array) => xs.reduce((p, q) => p + q, 0) / n;
      const se = (xs: Float64Array) => {
        const m = mean(xs);
        return Math.sqrt(xs.reduce((p, q) => p + (q - m) ** 2, 0) / (n - 1) / n);
      };
      expect(Math.abs(mean(cross)), `t=${t} orthogonality`).toBeLessThan(4 * se(cross));
      const residual = 1 - (sn * sn) / (a * a * S * S + sn * sn);
      const sq = r.map((x) => x * x);
      expect(Math.abs(mean(sq) - residual), `t=${t} residual`).toBeLessThan(4 * se(sq));
    }
  });
});
