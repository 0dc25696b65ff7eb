import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { Rng } from '../random/rng.js';
import { qMeanVariance, qSample, qStepMeanVariance, qStepSample } from './forward.js';
import { noiseSchedule } from './schedule.js';

describe('q(x_t | x0)', () => {
  const s = noiseSchedule('linear', 1000);

  it('has mean √ᾱ_t x0 and variance 1 − ᾱ_t ([Ho20] eq. 4, 1e-12)', () => {
    const x0 = [0.5, -1, 0.25];
    for (const t of [0, 1, 250, 999]) {
      const q = qMeanVariance(s, x0, t);
      const ab = s.alphaBar[t];
      assertAllClose(
        q.mean,
        x0.map((v) => Math.sqrt(ab) * v),
        { rtol: 1e-14 },
        `mean t=${t}`,
      );
      // At t = 0, 1 − ᾱ_0 = β_0 exactly; the naive 1 − ᾱ_0 loses ~4 digits, so compare with β_0 there.
      assertAllClose(q.variance, t === 0 ? s.beta[0] : 1 - ab, { rtol: 1e-12 }, `variance t=${t}`);
      assertAllClose(q.logVar, Math.log(q.variance), { rtol: 1e-15 });
    }
  });

  it('qSample is the mean with ε = 0 and √(1 − ᾱ_t)·ε with x0 = 0; writes into out', () => {
    const t = 300;
    const x0 = [1, -2];
    const eps = [0.3, 0.7];
    assertAllClose(qSample(s, x0, t, [0, 0]), qMeanVariance(s, x0, t).mean, { rtol: 1e-15 });
    assertAllClose(
      qSample(s, [0, 0], t, eps),
      eps.map((e) => Math.sqrt(1 - s.alphaBar[t]) * e),
      { rtol: 1e-12 },
    );
    const out = new Float64Array(2);
    expect(qSample(s, x0, t, eps, out)).toBe(out);
  });

  it('iterating the one-step variances gives 1 − ᾱ_t exactly: v_t = α_t v_{t−1} + β_t, v_{−1} = 0 (1e-12)', () => {
    for (const name of ['linear', 'cosine', 'sigmoid'] as const) {
      const sc = noiseSchedule(name, 500);
      let v = 0;
      for (let t = 0; t < sc.T; t++) {
        v = sc.alpha[t] * v + sc.beta[t];
        assertAllClose(v, sc.oneMinusAlphaBar[t], { rtol: 1e-12 }, `${name} t=${t}`);
      }
    }
  });

  it('matches iterated q(x_t | x_{t−1}) draws by Monte Carlo: mean and variance within 4 standard errors (n = 20000, seed 31)', () => {
    // n independent chains x_{−1} = x0 = 0.7, pushed through qStepSample for t = 0..tEnd.
    // SE(mean) = √(var/n); SE(sample variance) ≈ var·√(2/(n − 1)) for Gaussian data.
    const rng = Rng.fromSeed(31);
    const n = 20_000;
    const x0 = 0.7;
    for (const tEnd of [49, 299]) {
      let x: Float64Array = new Float64Array(n).fill(x0);
      const eps = new Float64Array(n);
      for (let t = 0; t <= tEnd; t++) x = qStepSample(s, x, t, rng.fillNormal(eps), x);
      const q = qMeanVariance(s, [x0], tEnd);
      let m = 0;
      for (const v of x) m += v;
      m /= n;
      let ss = 0;
      for (const v of x) ss += (v - m) ** 2;
      const sampleVar = ss / (n - 1);
      expect(Math.abs(m - q.mean[0])).toBeLessThan(4 * Math.sqrt(q.variance / n));
      expect(Math.abs(sampleVar - q.variance)).toBeLessThan(4 * q.variance * Math.sqrt(2 / (n - 1)));
    }
  });

  it('rejects a bad timestep or mismatched lengths', () => {
    expect(() => qMeanVariance(s, [0], 1000)).toThrow(
      /timestep t must be an integer in \[0, 999\].*got 1000/,
    );
    expect(() => qSample(s, [0], -1, [0])).toThrow(/got -1/);
    expect(() => qSample(s, [0, 1], 3, [0])).toThrow(/eps has length 1, expected 2/);
    expect(() => qStepSample(s, [0], 1.5, [0])).toThrow(/got 1.5/);
  });
});

describe('q(x_t | x_{t−1})', () => {
  it('has mean √(1 − β_t) x_{t−1} and variance β_t ([Ho20] eq. 2)', () => {
    const s = noiseSchedule('cosine', 100);
    const q = qStepMeanVariance(s, [2, -1], 40);
    assertAllClose(q.mean, [2 * Math.sqrt(1 - s.beta[40]), -Math.sqrt(1 - s.beta[40])], { rtol: 1e-15 });
    expect(q.variance).toBe(s.beta[40]);
    expect(q.logVar).toBe(Math.log(s.beta[40]));
    assertAllClose(qStepSample(s, [2, -1], 40, [1, 0]), [q.mean[0] + Math.sqrt(s.beta[40]), q.mean[1]], {
      rtol: 1e-15,
    });
  });
});
