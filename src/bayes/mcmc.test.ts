/**
 * MCMC against the exact posterior of Bayesian linear regression: chain averages of w and (w − m_N)² within
 * 4 Monte Carlo standard errors √(s²/ESS) of m_N and diag S_N; the ESS estimator against the closed form of
 * an AR(1) chain; and a negative control (a chain of the wrong posterior fails the same check).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import {
  type LinearRegressionProblem,
  linearRegressionPosterior,
  linearRegressionTarget,
  syntheticLinearRegression,
} from './linearRegression.js';
import {
  batchJackknife,
  batchMeansStdError,
  type Chain,
  chainColumn,
  chainExpectation,
  effectiveSampleSize,
  hamiltonianMonteCarlo,
  randomWalkMetropolis,
  sampleMoments,
  sortedQuantile,
} from './mcmc.js';
import type { MvNormal } from './mvn.js';

function problem(): LinearRegressionProblem {
  const rng = Rng.fromSeed(1);
  const x = Array.from({ length: 12 }, () => 1 + 2 * rng.uniform());
  return syntheticLinearRegression(
    { x, degree: 1, trueWeights: [-0.5, 1.2], noiseStd: 0.6, priorStd: 2 },
    rng,
  );
}

/** Largest |chain average − exact| / MCSE over the means and the variances of both coordinates. */
function worstZ(chain: Chain, exact: MvNormal): number {
  let worst = 0;
  for (let j = 0; j < chain.d; j++) {
    const col = chainColumn(chain, j);
    const m = chainExpectation(col);
    worst = Math.max(worst, Math.abs(m.mean - exact.mean[j]) / m.stdError);
    const v = chainExpectation(col.map((w) => (w - exact.mean[j]) ** 2));
    worst = Math.max(worst, Math.abs(v.mean - exact.covariance[j * chain.d + j]) / v.stdError);
  }
  return worst;
}

describe('MCMC on the Bayesian linear regression posterior', () => {
  const p = problem();
  const post = linearRegressionPosterior(p);

  it('HMC (ε = 0.06, L = 25, 4000 draws, seed 2): means and variances within 4 MCSE, acceptance > 0.8', () => {
    const chain = hamiltonianMonteCarlo(
      linearRegressionTarget(p),
      [0, 0],
      { steps: 4000, stepSize: 0.06, leapfrogSteps: 25 },
      Rng.fromSeed(2),
    );
    expect(chain.acceptanceRate).toBeGreaterThan(0.8);
    expect(worstZ(chain, post)).toBeLessThan(4);
    expect(effectiveSampleSize(chainColumn(chain, 0))).toBeGreaterThan(1000);
  });

  it('random-walk Metropolis (s = 0.15, 40000 draws, seed 3): within 4 MCSE, acceptance in (0.2, 0.7), far fewer effective draws than HMC per draw', () => {
    const chain = randomWalkMetropolis(
      linearRegressionTarget(p),
      [0, 0],
      { steps: 40_000, proposalStd: 0.15 },
      Rng.fromSeed(3),
    );
    expect(chain.acceptanceRate).toBeGreaterThan(0.2);
    expect(chain.acceptanceRate).toBeLessThan(0.7);
    expect(worstZ(chain, post)).toBeLessThan(4);
    expect(effectiveSampleSize(chainColumn(chain, 0)) / chain.n).toBeLessThan(0.1);
  });

  it('negative control: a chain of the posterior with σ² doubled fails the same check', () => {
    const wrong = { ...p, noiseVariance: 2 * p.noiseVariance };
    const chain = hamiltonianMonteCarlo(
      linearRegressionTarget(wrong),
      [0, 0],
      { steps: 4000, stepSize: 0.06, leapfrogSteps: 25 },
      Rng.fromSeed(2),
    );
    expect(worstZ(chain, post)).toBeGreaterThan(8);
  });
});

describe('Monte Carlo error of chain averages', () => {
  it('ESS of an AR(1) chain (φ = 0.9, n = 100000, seed 4) is within 10 % of n(1 − φ)/(1 + φ); batch means within 15 % of the true SE', () => {
    const phi = 0.9;
    const n = 100_000;
    const rng = Rng.fromSeed(4);
    const xs = new Float64Array(n);
    let x = rng.normal();
    for (let i = 0; i < n; i++) {
      x = phi * x + Math.sqrt(1 - phi * phi) * rng.normal();
      xs[i] = x;
    }
    const exactEss = (n * (1 - phi)) / (1 + phi);
    expect(Math.abs(effectiveSampleSize(xs) / exactEss - 1)).toBeLessThan(0.1);
    expect(Math.abs(batchMeansStdError(xs) / Math.sqrt(1 / exactEss) - 1)).toBeLessThan(0.15);
    // independent draws: ESS ≈ n
    const iid = Rng.fromSeed(5).fillNormal(new Float64Array(20_000));
    expect(Math.abs(effectiveSampleSize(iid) / 20_000 - 1)).toBeLessThan(0.1);
  });

  it('the batch jackknife SE of a sample mean equals the batch-means SE (1e-12), sample moments and quantiles are exact on small inputs', () => {
    const rng = Rng.fromSeed(6);
    const xs = rng.fillNormal(new Float64Array(2000));
    const jk = batchJackknife(xs, 1, (rows) => rows.reduce((a, b) => a + b, 0) / rows.length, 20);
    expect(Math.abs(jk.stdError / batchMeansStdError(xs, 20) - 1)).toBeLessThan(1e-12);
    const m = sampleMoments(Float64Array.of(1, 2, 3, 6, 5, 10), 2);
    expect([...m.mean]).toEqual([3, 6]);
    expect([...m.covariance]).toEqual([4, 8, 8, 16]);
    expect(sortedQuantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(sortedQuantile([1, 2, 3, 4, 5], 0.1)).toBeCloseTo(1.4, 14);
  });
});
