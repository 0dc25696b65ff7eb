import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { Rng } from '../random/rng.js';
import { qPosteriorMeanVariance } from './posterior.js';
import { noiseSchedule } from './schedule.js';

describe('q(x_{t−1} | x_t, x0)', () => {
  it('equals the Bayes-rule product of q(x_t | x_{t−1}) and q(x_{t−1} | x0), precision-weighted (1e-10)', () => {
    // Written independently of [Ho20] eqs. 6–7: likelihood N(x_t; √α x_{t−1}, β) as a function of x_{t−1}
    // has precision α/β and mode x_t/√α; prior N(√ᾱ_{t−1} x0, 1 − ᾱ_{t−1}). Product: precisions add,
    // means are precision-weighted.
    const rng = Rng.fromSeed(41);
    for (const name of ['linear', 'cosine', 'sigmoid'] as const) {
      const s = noiseSchedule(name, 1000);
      for (const t of [1, 2, 10, 500, 998, 999]) {
        const x0 = [rng.normal(), rng.normal()];
        const xt = [rng.normal(), rng.normal()];
        const a = s.alpha[t];
        const b = s.beta[t];
        const abPrev = s.alphaBar[t - 1];
        const precLik = a / b;
        const precPrior = 1 / (1 - abPrev);
        const prec = precLik + precPrior;
        const mean = x0.map(
          (v, i) => (precLik * (xt[i] / Math.sqrt(a)) + precPrior * Math.sqrt(abPrev) * v) / prec,
        );
        const post = qPosteriorMeanVariance(s, x0, xt, t);
        assertAllClose(post.mean, mean, { rtol: 1e-10, atol: 1e-12 }, `${name} mean t=${t}`);
        assertAllClose(post.variance, 1 / prec, { rtol: 1e-10 }, `${name} variance t=${t}`);
        assertAllClose(post.logVar, Math.log(1 / prec), { rtol: 1e-10 });
      }
    }
  });

  it('matches the normalized product of the two densities on a grid (trapezoid, 200001 points, 1e-8)', () => {
    const s = noiseSchedule('cosine', 10);
    const t = 5;
    const x0 = 0.8;
    const xt = -0.3;
    const a = s.alpha[t];
    const b = s.beta[t];
    const abPrev = s.alphaBar[t - 1];
    const density = (y: number) =>
      Math.exp(
        -((xt - Math.sqrt(a) * y) ** 2) / (2 * b) - (y - Math.sqrt(abPrev) * x0) ** 2 / (2 * (1 - abPrev)),
      );
    const lo = -8;
    const hi = 8;
    const n = 200_000;
    const h = (hi - lo) / n;
    let z = 0;
    let m1 = 0;
    let m2 = 0;
    for (let i = 0; i <= n; i++) {
      const y = lo + i * h;
      const w = (i === 0 || i === n ? 0.5 : 1) * density(y);
      z += w;
      m1 += w * y;
      m2 += w * y * y;
    }
    const mean = m1 / z;
    const variance = m2 / z - mean * mean;
    const post = qPosteriorMeanVariance(s, [x0], [xt], t);
    assertAllClose(post.mean[0], mean, { rtol: 1e-8 });
    assertAllClose(post.variance, variance, { rtol: 1e-8 });
  });

  it('at t = 0 is the point mass at x0: mean x0, variance 0, log −∞, clipped log = log β̃_1', () => {
    const s = noiseSchedule('linear', 1000);
    const post = qPosteriorMeanVariance(s, [0.3, -0.9], [5, 5], 0);
    assertAllClose(post.mean, [0.3, -0.9], { rtol: 2.3e-16 });
    expect(post.variance).toBe(0);
    expect(post.logVar).toBe(-Infinity);
    expect(post.logVarClipped).toBe(Math.log(s.posteriorVariance[1]));
  });

  it('β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t ([Ho20] eq. 7, 1e-10) and mismatched lengths are rejected', () => {
    const s = noiseSchedule('sigmoid', 200);
    for (const t of [1, 100, 199]) {
      const post = qPosteriorMeanVariance(s, [0], [0], t);
      assertAllClose(post.variance, ((1 - s.alphaBar[t - 1]) / (1 - s.alphaBar[t])) * s.beta[t], {
        rtol: 1e-10,
      });
    }
    expect(() => qPosteriorMeanVariance(s, [0, 1], [0], 3)).toThrow(/xt has length 1, expected 2/);
  });
});
