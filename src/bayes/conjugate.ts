/**
 * Exact Bayesian inference in the two textbook conjugate models, as the seed frames it: training is the
 * posterior p(θ | D) ∝ p(D | θ) p(θ); prediction is the posterior predictive
 * p(x_new | D) = ∫ p(x_new | θ) p(θ | D) dθ. Each comes with its 95 % (or any level) equal-tailed interval.
 *
 * - Beta–Bernoulli: θ ~ Beta(a, b), x_i | θ ~ Bernoulli(θ). Posterior Beta(a + k, b + n − k); predictive
 *   P(x_new = 1 | D) = E[θ | D]; the number of successes in m future trials is beta-binomial.
 * - Normal–Normal with known noise variance σ²: μ ~ N(μ₀, τ₀²), x_i | μ ~ N(μ, σ²). Posterior N(μ_n, τ_n²)
 *   with 1/τ_n² = 1/τ₀² + n/σ², μ_n = τ_n² (μ₀/τ₀² + Σx_i/σ²); predictive N(μ_n, τ_n² + σ²).
 *
 * References:
 * - [Bis06] C. M. Bishop, Pattern Recognition and Machine Learning, Springer 2006: §2.1.1 (eqs. 2.13–2.20,
 *   Beta–Bernoulli), §2.3.3 (eq. 2.115, marginal of a linear-Gaussian model), §2.3.6 (eqs. 2.141–2.142)
 * - [Mur12] K. P. Murphy, Machine Learning: A Probabilistic Perspective, MIT Press 2012: §3.3 (beta-binomial
 *   model, §3.3.4 posterior predictive), §4.6.1 (posterior of μ with known variance)
 */

import { betaQuantile, logBetaFunction, logGamma, standardNormalQuantile } from './distributions.js';

/** Beta(a, b) with a, b > 0 (Bishop's notation; `alpha`/`beta` are taken by the noise schedules). */
export interface BetaParams {
  a: number;
  b: number;
}

/** A univariate normal N(mean, variance). */
export interface NormalParams {
  mean: number;
  variance: number;
}

/** A closed interval [lower, upper] and the probability it holds under its distribution. */
export interface Interval {
  lower: number;
  upper: number;
  /** The exact probability of the interval (for discrete distributions it is ≥ the level asked for). */
  probability: number;
}

function assertLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new Error(`interval level must be in (0, 1), got ${level}`);
}

function assertBeta(p: BetaParams, what: string): void {
  if (!(p.a > 0 && p.b > 0)) throw new Error(`${what}: Beta parameters must be > 0, got a ${p.a}, b ${p.b}`);
}

/**
 * The Beta posterior after k successes in n Bernoulli trials: Beta(a + k, b + n − k).
 * @see [Bis06] eq. 2.18
 */
export function betaBernoulliPosterior(prior: BetaParams, successes: number, trials: number): BetaParams {
  assertBeta(prior, 'betaBernoulliPosterior');
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || successes < 0 || successes > trials) {
    throw new Error(
      `betaBernoulliPosterior: need integers 0 ≤ successes ≤ trials, got ${successes}/${trials}`,
    );
  }
  return { a: prior.a + successes, b: prior.b + trials - successes };
}

/** E[θ] = a/(a + b) under Beta(a, b). @see [Bis06] eq. 2.15 */
export function betaMean(p: BetaParams): number {
  return p.a / (p.a + p.b);
}

/** Var[θ] = ab / ((a + b)² (a + b + 1)) under Beta(a, b). @see [Bis06] eq. 2.16 */
export function betaVariance(p: BetaParams): number {
  const s = p.a + p.b;
  return (p.a * p.b) / (s * s * (s + 1));
}

/**
 * The equal-tailed credible interval of Beta(a, b): [Q((1 − level)/2), Q((1 + level)/2)] with Q the
 * Beta quantile (the inverse of the regularised incomplete beta function).
 */
export function betaCredibleInterval(p: BetaParams, level = 0.95): Interval {
  assertBeta(p, 'betaCredibleInterval');
  assertLevel(level);
  const tail = (1 - level) / 2;
  return { lower: betaQuantile(tail, p.a, p.b), upper: betaQuantile(1 - tail, p.a, p.b), probability: level };
}

/**
 * The posterior predictive probability of a success, P(x_new = 1 | D) = ∫ θ Beta(θ | a, b) dθ = a/(a + b)
 * for the posterior Beta(a, b).
 * @see [Bis06] eq. 2.19–2.20
 */
export function betaBernoulliPredictive(posterior: BetaParams): number {
  return betaMean(posterior);
}

/**
 * log P(K = k) for K ~ BetaBinomial(m, a, b), the posterior predictive number of successes in m future
 * trials: log C(m, k) + log B(k + a, m − k + b) − log B(a, b).
 * @see [Mur12] §3.3.4 (eq. 3.34)
 */
export function betaBinomialLogPmf(k: number, m: number, p: BetaParams): number {
  if (!Number.isInteger(k) || k < 0 || k > m) return -Infinity;
  const logChoose = logGamma(m + 1) - logGamma(k + 1) - logGamma(m - k + 1);
  return logChoose + logBetaFunction(k + p.a, m - k + p.b) - logBetaFunction(p.a, p.b);
}

/** E[K] = m a/(a + b) for K ~ BetaBinomial(m, a, b). @see [Mur12] §3.3.4 */
export function betaBinomialMean(m: number, p: BetaParams): number {
  return (m * p.a) / (p.a + p.b);
}

/** Var[K] = m ab (a + b + m) / ((a + b)² (a + b + 1)) for K ~ BetaBinomial(m, a, b). @see [Mur12] §3.3.4 */
export function betaBinomialVariance(m: number, p: BetaParams): number {
  const s = p.a + p.b;
  return (m * p.a * p.b * (s + m)) / (s * s * (s + 1));
}

/**
 * The equal-tailed predictive interval of K ~ BetaBinomial(m, a, b): lower = the smallest k with
 * P(K ≤ k) ≥ (1 − level)/2, upper = the smallest k with P(K ≤ k) ≥ (1 + level)/2; `probability` is
 * P(lower ≤ K ≤ upper), at least the level up to the two end masses.
 */
export function betaBinomialPredictiveInterval(m: number, p: BetaParams, level = 0.95): Interval {
  assertBeta(p, 'betaBinomialPredictiveInterval');
  assertLevel(level);
  if (!Number.isInteger(m) || m < 0) throw new Error(`betaBinomialPredictiveInterval: bad m ${m}`);
  const tail = (1 - level) / 2;
  const pmf = Array.from({ length: m + 1 }, (_, k) => Math.exp(betaBinomialLogPmf(k, m, p)));
  let cdf = 0;
  let lower = -1;
  let upper = m;
  for (let k = 0; k <= m; k++) {
    cdf += pmf[k];
    if (lower < 0 && cdf >= tail) lower = k;
    if (cdf >= 1 - tail) {
      upper = k;
      break;
    }
  }
  let probability = 0;
  for (let k = lower; k <= upper; k++) probability += pmf[k];
  return { lower, upper, probability };
}

/**
 * The posterior of a normal mean μ with known noise variance σ² after observing x₁…x_n, from the prior
 * N(μ₀, τ₀²): N(μ_n, τ_n²) with 1/τ_n² = 1/τ₀² + n/σ² and μ_n = τ_n² (μ₀/τ₀² + Σ_i x_i/σ²).
 * @see [Bis06] eqs. 2.141–2.142
 * @see [Mur12] §4.6.1
 */
export function normalKnownVariancePosterior(
  prior: NormalParams,
  noiseVariance: number,
  data: ArrayLike<number>,
): NormalParams {
  if (!(prior.variance > 0 && noiseVariance > 0)) {
    throw new Error(
      `normalKnownVariancePosterior: variances must be > 0, got ${prior.variance}, ${noiseVariance}`,
    );
  }
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  const precision = 1 / prior.variance + data.length / noiseVariance;
  const variance = 1 / precision;
  return { mean: variance * (prior.mean / prior.variance + sum / noiseVariance), variance };
}

/**
 * The posterior predictive of a new observation, x_new | D ~ N(μ_n, τ_n² + σ²): the marginal of
 * x_new = μ + ε with μ ~ N(μ_n, τ_n²) and ε ~ N(0, σ²) independent.
 * @see [Bis06] eq. 2.115 (marginal of a linear-Gaussian model)
 */
export function normalKnownVariancePredictive(posterior: NormalParams, noiseVariance: number): NormalParams {
  return { mean: posterior.mean, variance: posterior.variance + noiseVariance };
}

/**
 * The central interval of N(mean, variance): mean ± Φ⁻¹((1 + level)/2)·√variance (1.959964 σ for 95 %).
 * @see [Wic88] for Φ⁻¹ (distributions.ts)
 */
export function normalCentralInterval(p: NormalParams, level = 0.95): Interval {
  assertLevel(level);
  const half = standardNormalQuantile(0.5 + level / 2) * Math.sqrt(p.variance);
  return { lower: p.mean - half, upper: p.mean + half, probability: level };
}
