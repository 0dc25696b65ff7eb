/**
 * The conjugate formulas against Bayes' rule computed numerically on a grid (posterior ∝ likelihood × prior,
 * normalised by the midpoint rule), and the posterior predictives against Monte Carlo draws of
 * θ ~ posterior, x_new ~ p(x | θ) with their standard errors.
 */
import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { estimateExpectation } from '../math/montecarlo.js';
import { Rng } from '../random/rng.js';
import {
  betaBernoulliPosterior,
  betaBernoulliPredictive,
  betaBinomialLogPmf,
  betaBinomialMean,
  betaBinomialPredictiveInterval,
  betaBinomialVariance,
  betaCredibleInterval,
  betaMean,
  betaVariance,
  normalCentralInterval,
  normalKnownVariancePosterior,
  normalKnownVariancePredictive,
} from './conjugate.js';
import { betaCdf, betaLogPdf, sampleBeta, sampleBinomial } from './distributions.js';

/** Posterior mean, variance and CDF at `at` of an unnormalised log density on a midpoint grid over [lo, hi]. */
function gridPosterior(
  logDensity: (t: number) => number,
  lo: number,
  hi: number,
  cells: number,
  at: number[],
) {
  const h = (hi - lo) / cells;
  const xs = Float64Array.from({ length: cells }, (_, i) => lo + (i + 0.5) * h);
  const logs = xs.map(logDensity);
  const m = logs.reduce((a, b) => Math.max(a, b), -Infinity);
  const w = logs.map((l) => Math.exp(l - m));
  const z = w.reduce((a, b) => a + b, 0);
  let mean = 0;
  for (let i = 0; i < cells; i++) mean += (xs[i] * w[i]) / z;
  let variance = 0;
  for (let i = 0; i < cells; i++) variance += ((xs[i] - mean) ** 2 * w[i]) / z;
  const cdf = at.map((a) => {
    let s = 0;
    for (let i = 0; i < cells; i++)
      if (xs[i] + h / 2 <= a) s += w[i] / z;
      else if (xs[i] - h / 2 < a) s += ((w[i] / z) * (a - (xs[i] - h / 2))) / h;
    return s;
  });
  return { mean, variance, cdf };
}

describe('Beta–Bernoulli', () => {
  const prior = { a: 2, b: 3 };
  const successes = 7;
  const trials = 20;
  const post = betaBernoulliPosterior(prior, successes, trials);

  it('posterior Beta(a + k, b + n − k) equals Bayes rule on a 200 000-cell grid (mean, variance, 95 % interval to 1e-7)', () => {
    expect(post).toEqual({ a: 9, b: 16 });
    const logLik = (t: number) => successes * Math.log(t) + (trials - successes) * Math.log1p(-t);
    const ci = betaCredibleInterval(post, 0.95);
    const grid = gridPosterior((t) => logLik(t) + betaLogPdf(t, prior.a, prior.b), 0, 1, 200_000, [
      ci.lower,
      ci.upper,
    ]);
    assertAllClose(betaMean(post), grid.mean, { atol: 1e-7 });
    assertAllClose(betaVariance(post), grid.variance, { atol: 1e-8 });
    assertAllClose(grid.cdf, [0.025, 0.975], { atol: 1e-7 });
    assertAllClose(betaCdf(ci.upper, post.a, post.b) - betaCdf(ci.lower, post.a, post.b), 0.95, {
      rtol: 1e-12,
    });
  });

  it('predictive P(x = 1 | D) = a/(a + b) and the beta-binomial of m = 10 future trials match Monte Carlo (n = 50000, seed 5, 4 SE)', () => {
    const m = 10;
    const pmf = Array.from({ length: m + 1 }, (_, k) => Math.exp(betaBinomialLogPmf(k, m, post)));
    assertAllClose(
      pmf.reduce((a, b) => a + b, 0),
      1,
      { rtol: 1e-13 },
    );
    assertAllClose(
      pmf.reduce((s, p, k) => s + k * p, 0),
      betaBinomialMean(m, post),
      { rtol: 1e-12 },
    );
    assertAllClose(
      pmf.reduce((s, p, k) => s + (k - betaBinomialMean(m, post)) ** 2 * p, 0),
      betaBinomialVariance(m, post),
      { rtol: 1e-12 },
    );
    const interval = betaBinomialPredictiveInterval(m, post, 0.95);
    expect(interval.probability).toBeGreaterThanOrEqual(0.95);
    const rng = Rng.fromSeed(5);
    const n = 50_000;
    const next = new Float64Array(n);
    const ks = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const theta = sampleBeta(post.a, post.b, rng);
      next[i] = rng.uniform() < theta ? 1 : 0;
      ks[i] = sampleBinomial(m, theta, rng);
    }
    const pNext = estimateExpectation(next);
    expect(Math.abs(pNext.mean - betaBernoulliPredictive(post))).toBeLessThan(4 * pNext.stdError);
    const kMean = estimateExpectation(ks);
    expect(Math.abs(kMean.mean - betaBinomialMean(m, post))).toBeLessThan(4 * kMean.stdError);
    const inside = estimateExpectation(ks.map((k) => (k >= interval.lower && k <= interval.upper ? 1 : 0)));
    expect(Math.abs(inside.mean - interval.probability)).toBeLessThan(4 * inside.stdError);
    const atThree = estimateExpectation(ks.map((k) => (k === 3 ? 1 : 0)));
    expect(Math.abs(atThree.mean - pmf[3])).toBeLessThan(4 * atThree.stdError);
  });
});

describe('Normal–Normal with known variance', () => {
  const prior = { mean: 0, variance: 4 };
  const noiseVariance = 1.5;
  const data = [1.2, 2.9, 0.4, 1.7, 2.2, 1.1];
  const post = normalKnownVariancePosterior(prior, noiseVariance, data);

  it('posterior N(μ_n, τ_n²) equals Bayes rule on a 200 000-cell grid over [−10, 10] (1e-8)', () => {
    const logLik = (mu: number) => data.reduce((s, x) => s - (x - mu) ** 2 / (2 * noiseVariance), 0);
    const ci = normalCentralInterval(post, 0.95);
    const grid = gridPosterior(
      (mu) => logLik(mu) - (mu - prior.mean) ** 2 / (2 * prior.variance),
      -10,
      10,
      200_000,
      [ci.lower, ci.upper],
    );
    assertAllClose([post.mean, post.variance], [grid.mean, grid.variance], { atol: 1e-8 });
    assertAllClose(grid.cdf, [0.025, 0.975], { atol: 1e-8 });
    // closed form by hand: 1/τ² = 1/4 + 6/1.5 = 4.25; μ = (9.5/1.5)/4.25
    assertAllClose([post.variance, post.mean], [1 / 4.25, 9.5 / 1.5 / 4.25], { rtol: 1e-14 });
  });

  it('predictive N(μ_n, τ_n² + σ²): mean, variance and 95 % interval coverage match Monte Carlo (n = 100000, seed 6, 4 SE)', () => {
    const pred = normalKnownVariancePredictive(post, noiseVariance);
    const interval = normalCentralInterval(pred, 0.95);
    const rng = Rng.fromSeed(6);
    const xs = new Float64Array(100_000);
    for (let i = 0; i < xs.length; i++) {
      const mu = post.mean + Math.sqrt(post.variance) * rng.normal();
      xs[i] = mu + Math.sqrt(noiseVariance) * rng.normal();
    }
    const mean = estimateExpectation(xs);
    expect(Math.abs(mean.mean - pred.mean)).toBeLessThan(4 * mean.stdError);
    const sq = estimateExpectation(xs.map((x) => (x - pred.mean) ** 2));
    expect(Math.abs(sq.mean - pred.variance)).toBeLessThan(4 * sq.stdError);
    const cover = estimateExpectation(xs.map((x) => (x >= interval.lower && x <= interval.upper ? 1 : 0)));
    expect(Math.abs(cover.mean - 0.95)).toBeLessThan(4 * cover.stdError);
    // the plug-in N(μ_n, σ²), which forgets the posterior uncertainty, under-covers detectably
    const plugIn = normalCentralInterval({ mean: post.mean, variance: noiseVariance }, 0.95);
    const plugCover = estimateExpectation(xs.map((x) => (x >= plugIn.lower && x <= plugIn.upper ? 1 : 0)));
    expect(0.95 - plugCover.mean).toBeGreaterThan(4 * plugCover.stdError);
  });
});
