import { describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import { assertAllClose } from './checks.js';
import {
  BIN_HALF_WIDTH,
  discretizedGaussianLogLikelihood,
  discretizedNormalLogProb,
  discretizedNormalLogProbGrad,
  gaussianLogProb,
  klToStandardNormal,
  normalKl,
  normalKlElementwise,
  normalKlSum,
  normalLogIntervalProb,
  normalLogProb,
} from './gaussian.js';
import { logSumExp } from './montecarlo.js';

/** The 256 values of 8-bit data scaled to [−1, 1]: k/127.5 − 1. */
const LEVELS = Float64Array.from({ length: 256 }, (_, k) => k / 127.5 - 1);

/** ∫_a^b f by composite Simpson with n (even) panels: written here, independent of the library's quadrature. */
function simpson(f: (x: number) => number, a: number, b: number, n: number): number {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

describe('normal log density', () => {
  it('equals the log of the density formula (1e-14 relative) and log N(1; 0, 1) from mpmath', () => {
    const rng = Rng.fromSeed(1);
    for (let i = 0; i < 200; i++) {
      const x = 3 * rng.normal();
      const mean = rng.normal();
      const logVar = 2 * rng.normal();
      const v = Math.exp(logVar);
      const density = Math.exp(-((x - mean) ** 2) / (2 * v)) / Math.sqrt(2 * Math.PI * v);
      assertAllClose(normalLogProb(x, mean, logVar), Math.log(density), { rtol: 1e-13, atol: 1e-14 });
    }
    // −½ − ½ log 2π (mpmath, 50 digits)
    assertAllClose(normalLogProb(1, 0, 0), -1.4189385332046727, { rtol: 1e-15 });
  });

  it('sums over coordinates and broadcasts scalar parameters; rejects mismatched lengths', () => {
    const x = [0.5, -1, 2];
    const expected = normalLogProb(0.5, 0.1, -1) + normalLogProb(-1, 0.1, -1) + normalLogProb(2, 0.1, -1);
    assertAllClose(gaussianLogProb(x, 0.1, -1), expected, { rtol: 1e-15 });
    assertAllClose(gaussianLogProb(x, [0.1, 0.1, 0.1], [-1, -1, -1]), expected, { rtol: 1e-15 });
    expect(() => gaussianLogProb(x, [0, 0], 0)).toThrow(/mean has length 2 but x has length 3/);
  });
});

describe('Gaussian KL divergence', () => {
  it('is exactly 0 for equal Gaussians and ≥ 0 otherwise (1000 random pairs, seed 2)', () => {
    const rng = Rng.fromSeed(2);
    for (let i = 0; i < 1000; i++) {
      const m1 = rng.normal();
      const lv1 = 3 * rng.normal();
      expect(normalKl(m1, lv1, m1, lv1)).toBe(0);
      const m2 = m1 + 1e-6 * rng.normal();
      const lv2 = lv1 + 1e-6 * rng.normal();
      expect(normalKl(m1, lv1, m2, lv2)).toBeGreaterThanOrEqual(0);
      expect(normalKl(m1, lv1, rng.normal(), 3 * rng.normal())).toBeGreaterThanOrEqual(0);
    }
  });

  it("equals improved-diffusion's normal_kl formula for moderate arguments (1e-12 relative)", () => {
    const rng = Rng.fromSeed(3);
    for (let i = 0; i < 200; i++) {
      const [m1, lv1, m2, lv2] = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
      const ref = 0.5 * (-1 + lv2 - lv1 + Math.exp(lv1 - lv2) + (m1 - m2) ** 2 * Math.exp(-lv2));
      assertAllClose(normalKl(m1, lv1, m2, lv2), ref, { rtol: 1e-12, atol: 1e-15 });
    }
  });

  it('keeps its relative accuracy for nearly equal variances (series ½(d²/2 + d³/6), 1e-12)', () => {
    const d = 1e-6;
    assertAllClose(normalKl(0, d, 0, 0), 0.5 * ((d * d) / 2 + (d * d * d) / 6), { rtol: 1e-12 });
  });

  it('matches a Monte Carlo estimate E_{N1}[log N1 − log N2] within 4 standard errors (n = 200000, seed 4)', () => {
    const rng = Rng.fromSeed(4);
    const [m1, lv1, m2, lv2] = [0.3, -0.5, -0.4, 0.7];
    const n = 200_000;
    const sd1 = Math.exp(0.5 * lv1);
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = m1 + sd1 * rng.normal();
      const f = normalLogProb(x, m1, lv1) - normalLogProb(x, m2, lv2);
      s += f;
      s2 += f * f;
    }
    const mean = s / n;
    const stdError = Math.sqrt((s2 / n - mean * mean) / (n - 1));
    expect(Math.abs(normalKl(m1, lv1, m2, lv2) - mean)).toBeLessThan(4 * stdError);
  });

  it('elementwise and summed variants agree with the scalar one and broadcast', () => {
    const m1 = [0, 1, -2];
    const lv1 = [0, -1, 2];
    const e = normalKlElementwise(m1, lv1, 0.5, 0);
    for (let i = 0; i < 3; i++) expect(e[i]).toBe(normalKl(m1[i], lv1[i], 0.5, 0));
    assertAllClose(normalKlSum(m1, lv1, 0.5, 0), e[0] + e[1] + e[2], { rtol: 1e-15 });
    expect(() => normalKlElementwise(m1, [0, 0], 0, 0)).toThrow(
      /logVar1 has length 2 but mean1 has length 3/,
    );
  });

  it('to N(0, I) equals −½ Σ(1 + logVar − μ² − e^logVar) [KW14 App. B] and the general KL (1e-13)', () => {
    const mean = [0.5, -1.2, 0, 3];
    const logVar = [0.1, -2, 0, 1.5];
    let kw = 0;
    for (let i = 0; i < 4; i++) kw += -0.5 * (1 + logVar[i] - mean[i] ** 2 - Math.exp(logVar[i]));
    assertAllClose(klToStandardNormal(mean, logVar), kw, { rtol: 1e-13 });
    assertAllClose(klToStandardNormal(mean, logVar), normalKlSum(mean, logVar, 0, 0), { rtol: 1e-15 });
    expect(klToStandardNormal([0, 0], [0, 0])).toBe(0);
  });
});

describe('log P(l < Z < u)', () => {
  // mpmath 1.3.0 (mp.dps = 50–60) at the float64 endpoints: log(ncdf(u) − ncdf(l)), or
  // log(ncdf(−l) − ncdf(−u)) when l ≥ 0 so that the difference does not cancel.
  const cases: [number, number, number][] = [
    [-1, 1, -0.38171514630212605],
    [-0.2, 3, -0.548337458111794],
    [2, 2.5, -4.101945378031025],
    [-3, -2.9, -7.56956801380749],
    [40, 41, -804.6084420137538],
    [-40, -39.99, -805.3174692698356],
    [30, 30.001, -457.8416564778848],
    [1000, 1000.01, -500007.8267402104],
    [5, 1e30, -15.064998393988725],
    [0.1, 0.1000001, -17.042034189273018],
    [-1e-9, 1e-9, -20.949057189591137],
  ];
  it('matches mpmath in every regime (narrow, one-tailed, around zero) to 1e-13 relative', () => {
    for (const [l, u, ref] of cases)
      assertAllClose(normalLogIntervalProb(l, u), ref, { rtol: 1e-13 }, `(${l}, ${u})`);
  });

  it('handles empty, infinite and reversed intervals', () => {
    expect(normalLogIntervalProb(1, 1)).toBe(-Infinity);
    expect(normalLogIntervalProb(-Infinity, Infinity)).toBe(0);
    assertAllClose(normalLogIntervalProb(-Infinity, 0), Math.log(0.5), { rtol: 1e-15 });
    expect(() => normalLogIntervalProb(2, 1)).toThrow(/lower \(2\) must be ≤ upper \(1\)/);
  });
});

describe('discretized Gaussian log-likelihood (8-bit data in [−1, 1])', () => {
  const params: [mean: number, logStd: number][] = [
    [0, Math.log(0.1)],
    [0.3, -1],
    [0.3, 0],
    [-0.999, -3],
    [0.9, -5],
    [0.5 / 127.5, -12], // exactly on a bin edge, σ = 6e-6: half the mass in each neighbour
    [0.2, -12],
    [1.5, Math.log(0.01)], // mean beyond the data range: mass piles into the top edge bin
    [-7, 0],
    [0, 3],
    [0, 8], // σ ≈ 3000: each interior bin holds ~2.6e-6
  ];

  it('bin probabilities sum to 1 over the 256 levels (|log Σ p| ≤ 1e-10)', () => {
    for (const [mean, logStd] of params) {
      const logp = discretizedGaussianLogLikelihood(LEVELS, mean, logStd);
      const total = logSumExp(logp);
      expect(Math.abs(total), `mean ${mean}, logStd ${logStd}: log Σp = ${total}`).toBeLessThanOrEqual(1e-10);
    }
  });

  it('interior bins equal the integral of the density over [x − 1/255, x + 1/255] (Simpson, 1e-9 relative)', () => {
    // Composite Simpson with 20000 panels per bin: relative error ~ (h/σ)⁴·z⁴/180 at z σ from the mean,
    // below 1e-12 for these cases (h/σ ≤ 4e-4, z ≤ 16).
    const cases: [number, number, number][] = [
      [0.1, Math.log(0.05), 140], // near the mean
      [0.1, Math.log(0.05), 200], // 13σ out: p ~ 1e-37
      [0.1, Math.log(0.05), 90],
      [0, Math.log(1e-3), 127], // a bin holding most of the mass
      [0, Math.log(1e-3), 129], // its neighbour, ~6σ away
      [-0.5, Math.log(2), 3],
      [0.7, 1, 250],
    ];
    for (const [mean, logStd, k] of cases) {
      const x = LEVELS[k];
      const sd = Math.exp(logStd);
      const density = (y: number) => Math.exp(-0.5 * ((y - mean) / sd) ** 2) / (sd * Math.sqrt(2 * Math.PI));
      const ref = simpson(density, x - BIN_HALF_WIDTH, x + BIN_HALF_WIDTH, 20000);
      assertAllClose(Math.exp(discretizedNormalLogProb(x, mean, logStd)), ref, { rtol: 1e-9 }, `bin ${k}`);
    }
  });

  it('edge bins extend to ±∞: log Φ((−1 + 1/255 − μ)/σ) and log(1 − Φ((1 − 1/255 − μ)/σ)) (mpmath, 1e-13)', () => {
    // mpmath 1.3.0, mp.dps = 50, exact 1/255.
    assertAllClose(discretizedNormalLogProb(-1, 0, Math.log(0.5)), -3.764598116216402, { rtol: 1e-13 });
    assertAllClose(discretizedNormalLogProb(1, 0.2, Math.log(0.1)), -34.69571002282829, { rtol: 1e-13 });
    assertAllClose(discretizedNormalLogProb(-1, 0.2, Math.log(0.1)), -74.93762447587441, { rtol: 1e-13 });
  });

  it('is not clamped at 1e-12 like improved-diffusion: far tails keep their true log-probability', () => {
    // 40σ below the mean: improved-diffusion would report log(1e-12) = −27.6.
    const logp = discretizedNormalLogProb(0, 0.4, Math.log(0.01));
    expect(logp).toBeLessThan(-700);
    expect(Number.isFinite(logp)).toBe(true);
  });

  it('broadcasts, writes into `out`, and rejects data outside [−1, 1]', () => {
    const out = new Float64Array(2);
    const r = discretizedGaussianLogLikelihood([-1, 1], [0, 0], 0, out);
    expect(r).toBe(out);
    expect(r[0]).toBe(discretizedNormalLogProb(-1, 0, 0));
    expect(() => discretizedNormalLogProb(1.5, 0, 0)).toThrow(
      /x must be 8-bit data scaled to \[-1, 1\], got 1.5/,
    );
    expect(() => discretizedGaussianLogLikelihood([0, 0], [0, 0, 0], 0)).toThrow(
      /mean has length 3 but x has length 2/,
    );
  });
});

describe('discretizedNormalLogProbGrad', () => {
  it('matches central differences of discretizedNormalLogProb in μ and log σ, edge bins included (1e-6)', () => {
    const h = 1e-6;
    for (const x of [-1, -1 + 2 / 255, 0, 100 / 127.5 - 1, 1]) {
      for (const [mean, logStd] of [
        [x + 0.003, Math.log(0.01)],
        [x - 0.05, Math.log(0.02)],
        [0.2, Math.log(0.5)],
        [x, Math.log(0.004)],
      ]) {
        const g = discretizedNormalLogProbGrad(x, mean, logStd);
        expect(g.logProb).toBe(discretizedNormalLogProb(x, mean, logStd));
        const dMean =
          (discretizedNormalLogProb(x, mean + h, logStd) - discretizedNormalLogProb(x, mean - h, logStd)) /
          (2 * h);
        const dLogStd =
          (discretizedNormalLogProb(x, mean, logStd + h) - discretizedNormalLogProb(x, mean, logStd - h)) /
          (2 * h);
        assertAllClose(g.dMean, dMean, { rtol: 1e-6, atol: 1e-6 }, `x=${x} μ=${mean} dμ`);
        assertAllClose(g.dLogStd, dLogStd, { rtol: 1e-6, atol: 1e-6 }, `x=${x} μ=${mean} dlogσ`);
      }
    }
  });

  it('stays finite where the bin probability underflows (50 σ away)', () => {
    const g = discretizedNormalLogProbGrad(0, 0.5, Math.log(0.01));
    expect(g.logProb).toBeLessThan(-1000);
    expect(Number.isFinite(g.dMean) && Number.isFinite(g.dLogStd)).toBe(true);
    expect(g.dMean).toBeLessThan(0); // moving μ towards x raises the probability
  });
});
