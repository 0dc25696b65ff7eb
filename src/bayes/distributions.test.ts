import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { estimateExpectation } from '../math/montecarlo.js';
import { normalCdf } from '../math/special.js';
import { Rng } from '../random/rng.js';
import {
  betaCdf,
  betaLogPdf,
  betaQuantile,
  logBetaFunction,
  logGamma,
  regularizedIncompleteBeta,
  sampleBeta,
  sampleGamma,
  standardNormalQuantile,
} from './distributions.js';

describe('log Γ and log B', () => {
  it('log Γ(n) = log (n − 1)! for n = 1…25 and log Γ(½) = log √π (closed forms, 1e-14 relative / 2e-15 absolute)', () => {
    let fact = 1;
    for (let n = 1; n <= 25; n++) {
      if (n > 1) fact *= n - 1;
      assertAllClose(logGamma(n), Math.log(fact), { rtol: 1e-14, atol: 2e-15 }, `logΓ(${n})`);
    }
    assertAllClose(logGamma(0.5), 0.5 * Math.log(Math.PI), { rtol: 1e-14 });
    // Γ(x + 1) = xΓ(x) away from integers, across the shift boundary at 10
    for (const x of [0.01, 0.3, 2.7, 9.5, 10.5, 123.4]) {
      assertAllClose(logGamma(x + 1), logGamma(x) + Math.log(x), { rtol: 1e-13, atol: 1e-14 });
    }
  });

  it('B(a, b) = (a − 1)!(b − 1)!/(a + b − 1)! for integers (1e-13)', () => {
    assertAllClose(Math.exp(logBetaFunction(3, 5)), (2 * 24) / 5040, { rtol: 1e-13 });
    assertAllClose(Math.exp(logBetaFunction(1, 1)), 1, { rtol: 1e-14 });
  });
});

describe('Beta distribution', () => {
  it('the density integrates to 1 and I_x matches the closed forms x^a, 1 − (1 − x)^b and the binomial tail', () => {
    // ∫ Beta(3.5, 2.2) by the midpoint rule on 20 000 cells (the density is smooth and vanishes at the ends)
    let s = 0;
    const m = 20_000;
    for (let i = 0; i < m; i++) s += Math.exp(betaLogPdf((i + 0.5) / m, 3.5, 2.2)) / m;
    expect(Math.abs(s - 1)).toBeLessThan(1e-6);
    for (const x of [0.01, 0.2, 0.5, 0.77, 0.999]) {
      assertAllClose(regularizedIncompleteBeta(x, 2.5, 1), x ** 2.5, { rtol: 1e-13 });
      assertAllClose(regularizedIncompleteBeta(x, 1, 3.5), 1 - (1 - x) ** 3.5, { rtol: 1e-13 });
      // I_x(a, n − a + 1) = P(Binomial(n, x) ≥ a), n = 12, a = 4
      let tail = 0;
      let choose = 1;
      for (let k = 0; k <= 12; k++) {
        if (k > 0) choose = (choose * (12 - k + 1)) / k;
        if (k >= 4) tail += choose * x ** k * (1 - x) ** (12 - k);
      }
      assertAllClose(regularizedIncompleteBeta(x, 4, 9), tail, { rtol: 1e-12, atol: 1e-300 });
    }
  });

  it('the quantile inverts the CDF to 1e-13 and the CDF of samples (n = 20000, seed 3) matches I_x within 4 SE', () => {
    for (const [a, b] of [
      [0.5, 0.5],
      [2, 8],
      [30, 12],
    ]) {
      for (const p of [0.025, 0.3, 0.5, 0.975]) {
        assertAllClose(betaCdf(betaQuantile(p, a, b), a, b), p, { rtol: 1e-12 });
      }
    }
    const rng = Rng.fromSeed(3);
    const xs = Array.from({ length: 20_000 }, () => sampleBeta(2, 5, rng));
    for (const x of [0.1, 0.3, 0.5]) {
      const e = estimateExpectation(xs.map((v) => (v <= x ? 1 : 0)));
      expect(Math.abs(e.mean - betaCdf(x, 2, 5))).toBeLessThan(4 * e.stdError);
    }
  });

  it('Gamma draws have mean = variance = shape (shape 0.4 and 3, n = 40000, seed 4, 4 SE)', () => {
    const rng = Rng.fromSeed(4);
    for (const shape of [0.4, 3]) {
      const xs = Array.from({ length: 40_000 }, () => sampleGamma(shape, rng));
      const mean = estimateExpectation(xs);
      expect(Math.abs(mean.mean - shape)).toBeLessThan(4 * mean.stdError);
      const sq = estimateExpectation(xs.map((x) => (x - shape) ** 2));
      expect(Math.abs(sq.mean - shape)).toBeLessThan(4 * sq.stdError);
    }
  });
});

describe('standard normal quantile (AS 241)', () => {
  it("Φ(Φ⁻¹(p)) = p to 1e-14·(1 + x²) relative from 1e-300 to 1 − 1e-12 (Φ's condition number at x is ≈ x²), Φ⁻¹(0.975) = 1.959963984540054", () => {
    for (const p of [1e-300, 1e-20, 1e-5, 0.025, 0.1, 0.5, 0.7, 0.975, 0.999, 1 - 1e-12]) {
      const x = standardNormalQuantile(p);
      const rtol = 1e-14 * (1 + x * x);
      // above ½ compare the upper tail 1 − p, which 1 − p still holds to ~1e-16 absolute (1e-4 relative at 1e-12)
      if (p > 0.5) assertAllClose(normalCdf(-x), 1 - p, { rtol: Math.max(rtol, 2e-16 / (1 - p)) });
      else assertAllClose(normalCdf(x), p, { rtol });
    }
    assertAllClose(standardNormalQuantile(0.975), 1.959963984540054, { rtol: 1e-15 });
    expect(standardNormalQuantile(0.5)).toBe(0);
    expect(standardNormalQuantile(0)).toBe(-Infinity);
  });
});
