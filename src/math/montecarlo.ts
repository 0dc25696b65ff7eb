/**
 * Monte Carlo estimates with their standard errors, and stable log-sum-exp reductions (the IWAE
 * bound and importance-sampled likelihoods are log-mean-exps of log weights).
 *
 * References:
 * - [Wel62] B. P. Welford, "Note on a method for calculating corrected sums of squares and
 *   products", Technometrics 4 (1962) 419–420 (streaming mean and variance)
 * - [CGL79] Chan, Golub, LeVeque, "Updating formulae and a pairwise algorithm for computing sample
 *   variances", Stanford CS tech. report STAN-CS-79-773 (1979) (merging two accumulators)
 * - [BGS16] Burda, Grosse, Salakhutdinov 2016, "Importance Weighted Autoencoders", arXiv:1509.00519
 *   (the log-mean-exp of importance weights)
 */

import type { Rng } from '../random/rng.js';

/** A Monte Carlo estimate of an expectation: the sample mean and its standard error. */
export interface Estimate {
  /** Sample mean. */
  mean: number;
  /** Standard error of the mean, √(s²/n) with the unbiased sample variance s²; NaN for n = 1. */
  stdError: number;
  /** Unbiased sample variance s² = Σ(x − mean)²/(n − 1); NaN for n = 1. */
  variance: number;
  /** Number of samples. */
  n: number;
}

/**
 * Streaming mean and variance of a sequence of numbers (Welford's update, numerically stable);
 * `merge` combines two accumulators as if their samples had been pushed into one.
 * @see [Wel62]; [CGL79] for `merge`
 */
export class WelfordAccumulator {
  private count = 0;
  private runningMean = 0;
  /** Σ (x − mean)² */
  private m2 = 0;

  /** Adds one sample. Formula: δ = x − m; m += δ/n; M2 += δ (x − m) */
  push(x: number): this {
    this.count += 1;
    const delta = x - this.runningMean;
    this.runningMean += delta / this.count;
    this.m2 += delta * (x - this.runningMean);
    return this;
  }

  /** Adds every sample of an array. */
  pushAll(xs: ArrayLike<number>): this {
    for (let i = 0; i < xs.length; i++) this.push(xs[i]);
    return this;
  }

  /** Adds another accumulator's samples. Formula: M2 = M2_a + M2_b + δ² n_a n_b / n */
  merge(other: WelfordAccumulator): this {
    if (other.count === 0) return this;
    const n = this.count + other.count;
    const delta = other.runningMean - this.runningMean;
    this.m2 += other.m2 + (delta * delta * this.count * other.count) / n;
    this.runningMean += (delta * other.count) / n;
    this.count = n;
    return this;
  }

  /** Number of samples so far. */
  get n(): number {
    return this.count;
  }

  /** The estimate so far; throws if no sample has been pushed. */
  estimate(): Estimate {
    if (this.count === 0) throw new Error('WelfordAccumulator: no samples yet');
    const variance = this.count > 1 ? this.m2 / (this.count - 1) : NaN;
    return { mean: this.runningMean, stdError: Math.sqrt(variance / this.count), variance, n: this.count };
  }
}

/**
 * The sample mean of independent draws and its standard error.
 * Formula: mean = Σx/n, stdError = √(Σ(x − mean)²/((n − 1) n))
 */
export function estimateExpectation(samples: ArrayLike<number>): Estimate {
  if (samples.length === 0) throw new Error('estimateExpectation: need at least one sample, got 0');
  return new WelfordAccumulator().pushAll(samples).estimate();
}

/**
 * E[f(S)] estimated from n draws S ~ sample(rng), with its standard error.
 * Formula: (1/n) Σ_i f(s_i), s_i ~ p
 */
export function monteCarlo<S>(f: (s: S) => number, sample: (rng: Rng) => S, n: number, rng: Rng): Estimate {
  if (!Number.isInteger(n) || n < 1) throw new Error(`monteCarlo: n must be an integer ≥ 1, got ${n}`);
  const acc = new WelfordAccumulator();
  for (let i = 0; i < n; i++) acc.push(f(sample(rng)));
  return acc.estimate();
}

/**
 * log Σ_i exp(v_i), stable for large and very negative values; −∞ for an empty input.
 * Formula: m + log Σ_i exp(v_i − m), m = max_i v_i
 */
export function logSumExp(values: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) return NaN;
    if (v > m) m = v;
  }
  if (m === -Infinity || m === Infinity) return m;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.exp(values[i] - m);
  return m + Math.log(s);
}

/**
 * log((1/n) Σ_i exp(v_i)), stable (see {@link logSumExp}); the IWAE bound is the log-mean-exp of
 * log importance weights.
 * Formula: logSumExp(v) − log n
 * @see [BGS16] the k-sample bound L_k
 */
export function logMeanExp(values: ArrayLike<number>): number {
  if (values.length === 0) throw new Error('logMeanExp: need at least one value, got 0');
  return logSumExp(values) - Math.log(values.length);
}
