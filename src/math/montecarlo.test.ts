import { describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import { assertAllClose } from './checks.js';
import { estimateExpectation, logMeanExp, logSumExp, monteCarlo, WelfordAccumulator } from './montecarlo.js';

describe('Monte Carlo estimates', () => {
  it('E[x²] for x ~ N(0, 1) is within 4 standard errors of 1, and the SE is within 5% of √(2/n) (n = 100000, seed 11)', () => {
    // Var(x²) = E[x⁴] − 1 = 2, so SE = √(2/n); the SE estimate itself has relative sd ≈ √(101/n)/2 ≈ 1.6%.
    const n = 100_000;
    const est = monteCarlo(
      (x: number) => x * x,
      (rng) => rng.normal(),
      n,
      Rng.fromSeed(11),
    );
    expect(est.n).toBe(n);
    expect(Math.abs(est.mean - 1)).toBeLessThan(4 * est.stdError);
    expect(Math.abs(est.stdError / Math.sqrt(2 / n) - 1)).toBeLessThan(0.05);
  });

  it('estimateExpectation of [1, 2, 3, 4]: mean 2.5, s² = 5/3, SE = √(5/12) (closed form)', () => {
    const e = estimateExpectation([1, 2, 3, 4]);
    assertAllClose([e.mean, e.variance, e.stdError], [2.5, 5 / 3, Math.sqrt(5 / 12)], { rtol: 1e-15 });
    expect(estimateExpectation([7]).stdError).toBeNaN();
    expect(() => estimateExpectation([])).toThrow(/at least one sample, got 0/);
  });

  it('Welford is stable with a large offset: 1e9 + {4, 7, 13, 16} has variance 30 exactly', () => {
    // The example of Wikipedia's "Algorithms for calculating variance"; the naive Σx² − n·mean² fails here.
    const xs = [4, 7, 13, 16].map((v) => 1e9 + v);
    expect(estimateExpectation(xs).variance).toBe(30);
  });

  it('merging two accumulators equals one pass over all samples (1e-13)', () => {
    const rng = Rng.fromSeed(12);
    const xs = Array.from({ length: 1000 }, () => 5 + 2 * rng.normal());
    const whole = new WelfordAccumulator().pushAll(xs).estimate();
    const a = new WelfordAccumulator().pushAll(xs.slice(0, 377));
    const b = new WelfordAccumulator().pushAll(xs.slice(377));
    const merged = a.merge(b).merge(new WelfordAccumulator()).estimate();
    expect(merged.n).toBe(1000);
    assertAllClose([merged.mean, merged.variance], [whole.mean, whole.variance], { rtol: 1e-13 });
  });

  it('rejects bad sample counts', () => {
    expect(() =>
      monteCarlo(
        (x: number) => x,
        (r) => r.uniform(),
        0,
        Rng.fromSeed(1),
      ),
    ).toThrow(/n must be an integer ≥ 1, got 0/);
    expect(() => new WelfordAccumulator().estimate()).toThrow(/no samples yet/);
  });
});

describe('logSumExp and logMeanExp', () => {
  it('are stable for huge and tiny values', () => {
    expect(logMeanExp([1000, 1000])).toBe(1000);
    // mpmath: −1000 + log((1 + e^{−1})/2) = −1000.3798854930417
    assertAllClose(logMeanExp([-1000, -1001]), -1000.3798854930417, { rtol: 1e-15 });
    assertAllClose(logSumExp([0, 0, 0]), Math.log(3), { rtol: 1e-15 });
    // The naive log(mean(exp(v))) overflows / underflows on these inputs.
    expect(Math.log((Math.exp(1000) + Math.exp(1000)) / 2)).toBe(Infinity);
    expect(Math.log((Math.exp(-1000) + Math.exp(-1001)) / 2)).toBe(-Infinity);
  });

  it('handle infinities, NaN and empty input', () => {
    expect(logSumExp([])).toBe(-Infinity);
    expect(logSumExp([-Infinity, -Infinity])).toBe(-Infinity);
    expect(logSumExp([-Infinity, 2])).toBe(2);
    expect(logSumExp([Infinity, 2])).toBe(Infinity);
    expect(logSumExp([1, NaN])).toBeNaN();
    expect(() => logMeanExp([])).toThrow(/at least one value, got 0/);
  });
});
