/**
 * Bayesian linear regression with a Gaussian prior and known noise: the model with a known posterior that
 * the approximate methods (mean-field VI in vi.ts, MCMC in mcmc.ts) are measured against.
 *
 * Model: t_i = φ(x_i)ᵀ w + ε_i, ε_i ~ N(0, σ²) (σ² = noiseVariance), prior w ~ N(0, τ² I) (τ² = priorVariance).
 * Bishop writes α = 1/τ², β = 1/σ²; here the variances are named so as not to clash with the noise
 * schedules' β.
 *
 * References:
 * - [Bis06] C. M. Bishop, PRML 2006: §3.3.1 (eqs. 3.53–3.54 posterior), §3.3.2 (eqs. 3.58–3.59 predictive),
 *   §3.5.1 (eq. 3.86 log evidence), §10.1.2 (eqs. 10.12–10.13, the mean-field approximation of a
 *   correlated Gaussian: its variances are 1/Λ_jj, smaller than the marginals Σ_jj)
 * - [Blei17] Blei, Kucukelbir, McAuliffe, "Variational Inference: A Review for Statisticians",
 *   arXiv:1601.00670v9, eq. 13 (ELBO = E_q[log p(z, x)] − E_q[log q(z)])
 */

import type { Estimate } from '../math/montecarlo.js';
import { estimateExpectation } from '../math/montecarlo.js';
import type { Rng } from '../random/rng.js';
import type { Interval, NormalParams } from './conjugate.js';
import { type Chain, type LogDensity, sortedQuantile } from './mcmc.js';
import { inverseSpd, logDetSpd, type MvNormal } from './mvn.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** A Bayesian linear regression problem: design Φ (n × d, row-major), targets t, prior and noise variances. */
export interface LinearRegressionProblem {
  /** Φ, n rows of d basis-function values. */
  design: Float64Array;
  n: number;
  d: number;
  targets: Float64Array;
  /** τ² of the prior w ~ N(0, τ² I). */
  priorVariance: number;
  /** σ² of the noise t | w ~ N(Φw, σ² I). */
  noiseVariance: number;
}

/** The exact posterior N(m_N, S_N) and its precision S_N⁻¹. */
export interface LinearRegressionPosterior extends MvNormal {
  precision: Float64Array;
}

/** A mean-field (diagonal) Gaussian q(w) = Π_j N(w_j; mean_j, variance_j). */
export interface MeanFieldGaussian {
  mean: Float64Array;
  variance: Float64Array;
}

/** Polynomial basis functions φ(x) = (1, x, x², …, x^degree) as an n × (degree + 1) design matrix. */
export function polynomialDesign(x: ArrayLike<number>, degree: number): Float64Array {
  if (!Number.isInteger(degree) || degree < 0) throw new Error(`polynomialDesign: bad degree ${degree}`);
  const d = degree + 1;
  const out = new Float64Array(x.length * d);
  for (let i = 0; i < x.length; i++) {
    let p = 1;
    for (let j = 0; j < d; j++) {
      out[i * d + j] = p;
      p *= x[i];
    }
  }
  return out;
}

/** Targets t_i = φ_iᵀ w + σ ε_i, ε_i ~ N(0, 1), drawn from the model for given weights. */
export function simulateTargets(
  design: Float64Array,
  weights: ArrayLike<number>,
  noiseStd: number,
  rng: Rng,
): Float64Array {
  const d = weights.length;
  const n = design.length / d;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += design[i * d + j] * weights[j];
    t[i] = s + noiseStd * rng.normal();
  }
  return t;
}

/** What {@link syntheticLinearRegression} draws: inputs x, the true weights, the noise and prior scales. */
export interface SyntheticRegressionOptions {
  x: ArrayLike<number>;
  /** Polynomial degree of the basis (1: a straight line, weights = intercept and slope). */
  degree: number;
  trueWeights: ArrayLike<number>;
  noiseStd: number;
  priorStd: number;
}

/** A regression problem whose targets are drawn from the model with the given true weights. */
export function syntheticLinearRegression(o: SyntheticRegressionOptions, rng: Rng): LinearRegressionProblem {
  const design = polynomialDesign(o.x, o.degree);
  const d = o.degree + 1;
  if (o.trueWeights.length !== d) throw new Error(`syntheticLinearRegression: need ${d} weights`);
  return {
    design,
    n: o.x.length,
    d,
    targets: simulateTargets(design, o.trueWeights, o.noiseStd, rng),
    priorVariance: o.priorStd ** 2,
    noiseVariance: o.noiseStd ** 2,
  };
}

function validate(p: LinearRegressionProblem): void {
  if (p.design.length !== p.n * p.d || p.targets.length !== p.n) {
    throw new Error(
      `linear regression: design ${p.design.length} / targets ${p.targets.length} for n ${p.n}, d ${p.d}`,
    );
  }
  if (!(p.priorVariance > 0 && p.noiseVariance > 0))
    throw new Error('linear regression: variances must be > 0');
}

/**
 * The exact posterior p(w | t) = N(m_N, S_N) with S_N⁻¹ = τ⁻² I + σ⁻² ΦᵀΦ and m_N = σ⁻² S_N Φᵀ t.
 * @see [Bis06] eqs. 3.53–3.54
 */
export function linearRegressionPosterior(p: LinearRegressionProblem): LinearRegressionPosterior {
  validate(p);
  const { d, n, design } = p;
  const precision = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    for (let k = 0; k < d; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += design[i * d + j] * design[i * d + k];
      precision[j * d + k] = s / p.noiseVariance + (j === k ? 1 / p.priorVariance : 0);
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += design[i * d + j] * p.targets[i];
    rhs[j] = s / p.noiseVariance;
  }
  const covariance = inverseSpd(precision);
  const mean = new Float64Array(d);
  for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) mean[j] += covariance[j * d + k] * rhs[k];
  return { mean, covariance, precision };
}

/**
 * The posterior predictive of t at a new input with basis vector φ: N(m_Nᵀ φ, σ² + φᵀ S_N φ).
 * @see [Bis06] eqs. 3.58–3.59
 */
export function linearRegressionPredictive(
  posterior: MvNormal,
  phi: ArrayLike<number>,
  noiseVariance: number,
): NormalParams {
  const d = posterior.mean.length;
  let mean = 0;
  let quad = 0;
  for (let j = 0; j < d; j++) {
    mean += posterior.mean[j] * phi[j];
    for (let k = 0; k < d; k++) quad += phi[j] * posterior.covariance[j * d + k] * phi[k];
  }
  return { mean, variance: noiseVariance + quad };
}

/**
 * The log evidence (marginal likelihood) log p(t) =
 * (d/2) log τ⁻² + (n/2) log σ⁻² − E(m_N) − ½ log det S_N⁻¹ − (n/2) log 2π,
 * with E(m) = ‖t − Φm‖²/(2σ²) + ‖m‖²/(2τ²).
 * @see [Bis06] eqs. 3.86, 3.82
 */
export function linearRegressionLogEvidence(p: LinearRegressionProblem): number {
  const post = linearRegressionPosterior(p);
  const { n, d } = p;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let j = 0; j < d; j++) f += p.design[i * d + j] * post.mean[j];
    sse += (p.targets[i] - f) ** 2;
  }
  let mm = 0;
  for (let j = 0; j < d; j++) mm += post.mean[j] ** 2;
  const energy = sse / (2 * p.noiseVariance) + mm / (2 * p.priorVariance);
  return (
    -0.5 * d * Math.log(p.priorVariance) -
    0.5 * n * Math.log(p.noiseVariance) -
    energy -
    0.5 * logDetSpd(post.precision) -
    0.5 * n * LOG_2PI
  );
}

/**
 * log p(t, w) = log N(t; Φw, σ² I) + log N(w; 0, τ² I), the unnormalised log posterior; writes
 * ∇_w log p(t, w) = Φᵀ(t − Φw)/σ² − w/τ² into `grad` when given.
 * @see [Bis06] eqs. 3.10, 3.52
 */
export function linearRegressionLogJoint(
  p: LinearRegressionProblem,
  w: ArrayLike<number>,
  grad?: Float64Array,
): number {
  const { n, d, design } = p;
  if (grad) grad.fill(0);
  let sse = 0;
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let j = 0; j < d; j++) f += design[i * d + j] * w[j];
    const r = p.targets[i] - f;
    sse += r * r;
    if (grad) for (let j = 0; j < d; j++) grad[j] += (design[i * d + j] * r) / p.noiseVariance;
  }
  let ww = 0;
  for (let j = 0; j < d; j++) {
    ww += w[j] * w[j];
    if (grad) grad[j] -= w[j] / p.priorVariance;
  }
  return (
    -0.5 * (n * (LOG_2PI + Math.log(p.noiseVariance)) + sse / p.noiseVariance) -
    0.5 * (d * (LOG_2PI + Math.log(p.priorVariance)) + ww / p.priorVariance)
  );
}

/** The unnormalised posterior log p(t, w) as an MCMC target (value and gradient, {@link linearRegressionLogJoint}). */
export function linearRegressionTarget(p: LinearRegressionProblem): LogDensity {
  return {
    dim: p.d,
    logDensity: (w) => linearRegressionLogJoint(p, w),
    gradLogDensity: (w, out) => linearRegressionLogJoint(p, w, out),
  };
}

/**
 * The exact mean-field optimum min_q KL(q ‖ p) over factorised q for a Gaussian p = N(μ, Λ⁻¹):
 * q_j = N(μ_j, 1/Λ_jj). Its variances are the conditional variances, never larger than the marginals
 * Σ_jj (equal only without correlation): reverse-KL mean-field VI underestimates the spread.
 * @see [Bis06] §10.1.2, eqs. 10.12–10.13 (and Figure 10.2a)
 */
export function meanFieldOptimum(posterior: LinearRegressionPosterior): MeanFieldGaussian {
  const d = posterior.mean.length;
  return {
    mean: Float64Array.from(posterior.mean),
    variance: Float64Array.from({ length: d }, (_, j) => 1 / posterior.precision[j * d + j]),
  };
}

/**
 * The ELBO of a mean-field Gaussian q in closed form, E_q[log p(t, w)] + H[q]:
 * −(n/2) log 2πσ² − (‖t − Φm‖² + Σ_j s_j² ‖Φ_{:j}‖²)/(2σ²) − (d/2) log 2πτ² − (‖m‖² + Σ_j s_j²)/(2τ²)
 * + Σ_j ½ log(2πe s_j²). It equals log p(t) − KL(q ‖ p(w | t)).
 * @see [Blei17] eq. 13
 */
export function meanFieldElbo(p: LinearRegressionProblem, q: MeanFieldGaussian): number {
  const { n, d, design } = p;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let j = 0; j < d; j++) f += design[i * d + j] * q.mean[j];
    sse += (p.targets[i] - f) ** 2;
  }
  let spread = 0; // Σ_j s_j² ‖Φ_:j‖²
  let mm = 0;
  let trace = 0;
  let entropy = 0;
  for (let j = 0; j < d; j++) {
    let col = 0;
    for (let i = 0; i < n; i++) col += design[i * d + j] ** 2;
    spread += q.variance[j] * col;
    mm += q.mean[j] ** 2;
    trace += q.variance[j];
    entropy += 0.5 * (LOG_2PI + 1 + Math.log(q.variance[j]));
  }
  return (
    -0.5 * n * (LOG_2PI + Math.log(p.noiseVariance)) -
    (sse + spread) / (2 * p.noiseVariance) -
    0.5 * d * (LOG_2PI + Math.log(p.priorVariance)) -
    (mm + trace) / (2 * p.priorVariance) +
    entropy
  );
}

/**
 * The posterior predictive interval at φ from posterior draws (an MCMC chain): simulate t_s = φᵀw_s + σε_s
 * for every draw and take the empirical (1 ∓ level)/2 quantiles (Hyndman–Fan type 7). `probability` is the
 * nominal level.
 * @see [Bis06] eq. 3.57 (the predictive as ∫ p(t | w) p(w | t) dw, here by Monte Carlo)
 */
export function chainPredictiveInterval(
  chain: Chain,
  phi: ArrayLike<number>,
  noiseStd: number,
  level: number,
  rng: Rng,
): Interval {
  const t = new Float64Array(chain.n);
  for (let s = 0; s < chain.n; s++) {
    let f = 0;
    for (let j = 0; j < chain.d; j++) f += phi[j] * chain.samples[s * chain.d + j];
    t[s] = f + noiseStd * rng.normal();
  }
  t.sort();
  const tail = (1 - level) / 2;
  return { lower: sortedQuantile(t, tail), upper: sortedQuantile(t, 1 - tail), probability: level };
}

/**
 * The share of held-out targets inside their predictive intervals, with its standard error: the sample
 * mean c of the 0/1 indicators and √(s²/n), s² = c(1 − c)·n/(n − 1) (the binomial standard error).
 */
export function intervalCoverage(intervals: readonly Interval[], targets: ArrayLike<number>): Estimate {
  if (intervals.length !== targets.length) throw new Error('intervalCoverage: one interval per target');
  return estimateExpectation(
    intervals.map((iv, i) => (targets[i] >= iv.lower && targets[i] <= iv.upper ? 1 : 0)),
  );
}
