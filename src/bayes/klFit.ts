/**
 * KL in both directions, as seed 001 contrasts them: fit one Gaussian q = N(μ, s²) to a two-mode Gaussian
 * mixture p.
 *
 * - Forward KL(p ‖ q) = E_p[log p − log q] = −H(p) − E_p[log q]: minimising it over q is maximum likelihood
 *   on samples of p, and for a Gaussian q that is moment matching (μ = E_p[x], s² = Var_p[x]). Wherever p has
 *   mass q must too, or the KL is infinite: mode covering — the fit sits between the modes, where p has
 *   almost no mass.
 * - Reverse KL(q ‖ p) = E_q[log q − log p]: q pays nothing for the mass of p it ignores, only for putting
 *   mass where p has none: mode seeking — the fit locks onto one mode. It is minimised here by the
 *   reparameterised gradient (z = μ + sε) with Adam, as VI does, and checked by a grid search with
 *   quadrature.
 *
 * Every KL is estimated by Monte Carlo with its standard error (and computable by quadrature for tests).
 *
 * References:
 * - [Bis06] C. M. Bishop, PRML 2006: §1.6.1 (eq. 1.113 KL, 1.119 minimising KL(p ‖ q) on samples = maximum
 *   likelihood), §2.3.9 (mixtures of Gaussians), §10.1.2 and Figure 10.3 (KL(p ‖ q) vs KL(q ‖ p) on a
 *   two-mode p), §2.3.4 (eqs. 2.121–2.122, Gaussian maximum likelihood)
 * - [Mur12] K. P. Murphy, MLAPP 2012, §21.2.2 (forward vs reverse KL: "M-projection" mode covering,
 *   "I-projection" mode seeking)
 * - [KW14] Kingma & Welling, arXiv:1312.6114v11, §2.4 (the reparameterisation trick)
 * - [KB15] Kingma & Ba, "Adam", arXiv:1412.6980v9, Algorithm 1
 */

import { gaussLegendre, integrateGaussLegendre } from '../math/quadrature.js';
import type { Estimate } from '../math/montecarlo.js';
import { WelfordAccumulator } from '../math/montecarlo.js';
import type { Rng } from '../random/rng.js';

const LOG_2PI = Math.log(2 * Math.PI);
const GL16 = gaussLegendre(16);

/** A 1-D Gaussian mixture p(x) = Σ_k π_k N(x; μ_k, σ_k²). */
export interface GaussianMixture1d {
  weights: readonly number[];
  means: readonly number[];
  stds: readonly number[];
}

/** A 1-D Gaussian N(mean, std²). */
export interface Gaussian1d {
  mean: number;
  std: number;
}

function normalLogPdf(x: number, mean: number, std: number): number {
  const z = (x - mean) / std;
  return -0.5 * (LOG_2PI + z * z) - Math.log(std);
}

/** log of the N(mean, std²) density at x: −½ log 2π − log s − (x − μ)²/(2s²). @see [Bis06] eq. 1.46 */
export function gaussianLogPdf(x: number, q: Gaussian1d): number {
  return normalLogPdf(x, q.mean, q.std);
}

/**
 * log p(x) = log Σ_k π_k N(x; μ_k, σ_k²), by log-sum-exp.
 * @see [Bis06] eq. 2.188
 */
export function mixtureLogPdf(x: number, p: GaussianMixture1d): number {
  let m = -Infinity;
  const K = p.weights.length;
  const terms = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    terms[k] = Math.log(p.weights[k]) + normalLogPdf(x, p.means[k], p.stds[k]);
    if (terms[k] > m) m = terms[k];
  }
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let k = 0; k < K; k++) s += Math.exp(terms[k] - m);
  return m + Math.log(s);
}

/**
 * d/dx log p(x) = Σ_k r_k(x) (μ_k − x)/σ_k², r_k(x) = π_k N(x; μ_k, σ_k²)/p(x) the responsibilities.
 * @see [Bis06] eq. 9.13 (responsibilities)
 */
export function mixtureGradLogPdf(x: number, p: GaussianMixture1d): number {
  const lp = mixtureLogPdf(x, p);
  let g = 0;
  for (let k = 0; k < p.weights.length; k++) {
    const r = Math.exp(Math.log(p.weights[k]) + normalLogPdf(x, p.means[k], p.stds[k]) - lp);
    g += (r * (p.means[k] - x)) / (p.stds[k] * p.stds[k]);
  }
  return g;
}

/**
 * The mixture's mean and standard deviation: E[x] = Σ π_k μ_k, Var[x] = Σ π_k (σ_k² + μ_k²) − E[x]²
 * (law of total variance) — the forward-KL (moment-matching) optimum among Gaussians.
 * @see [Bis06] §2.3.9; §10.7 (moment matching minimises KL(p ‖ q) within the exponential family, eq. 10.187)
 */
export function mixtureMoments(p: GaussianMixture1d): Gaussian1d {
  let mean = 0;
  let second = 0;
  for (let k = 0; k < p.weights.length; k++) {
    mean += p.weights[k] * p.means[k];
    second += p.weights[k] * (p.stds[k] ** 2 + p.means[k] ** 2);
  }
  return { mean, std: Math.sqrt(second - mean * mean) };
}

/** n draws from the mixture: pick component k with probability π_k, then x ~ N(μ_k, σ_k²). */
export function sampleMixture(p: GaussianMixture1d, n: number, rng: Rng): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let u = rng.uniform();
    let k = 0;
    while (k < p.weights.length - 1 && u >= p.weights[k]) u -= p.weights[k++];
    out[i] = p.means[k] + p.stds[k] * rng.normal();
  }
  return out;
}

/** A Gaussian fitted by maximum likelihood, with the standard errors of its two parameters. */
export interface GaussianFit extends Gaussian1d {
  meanStdError: number;
  stdStdError: number;
  n: number;
}

/**
 * The forward-KL fit from samples of p: the Gaussian maximum-likelihood estimate μ̂ = x̄,
 * ŝ² = (1/n) Σ (x_i − x̄)², which minimises the sample estimate of KL(p ‖ q). Standard errors:
 * SE(μ̂) = ŝ/√n; SE(ŝ) = √((m₄ − ŝ⁴)/n)/(2ŝ) by the delta method (m₄ the fourth central sample moment;
 * no Gaussian assumption, which matters for a two-mode p).
 * @see [Bis06] §1.6.1 eq. 1.119, eqs. 2.121–2.122
 */
export function fitForwardKl(samples: ArrayLike<number>): GaussianFit {
  const n = samples.length;
  if (n < 2) throw new Error(`fitForwardKl: need at least 2 samples, got ${n}`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += samples[i];
  mean /= n;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const c = (samples[i] - mean) ** 2;
    m2 += c;
    m4 += c * c;
  }
  m2 /= n;
  m4 /= n;
  const std = Math.sqrt(m2);
  return {
    mean,
    std,
    meanStdError: std / Math.sqrt(n),
    stdStdError: Math.sqrt(Math.max(m4 - m2 * m2, 0) / n) / (2 * std),
    n,
  };
}

/**
 * KL(p ‖ q) = E_p[log p(x) − log q(x)] by Monte Carlo with x ~ p, with its standard error.
 * @see [Bis06] eq. 1.113; §1.6.1
 */
export function forwardKlMonteCarlo(p: GaussianMixture1d, q: Gaussian1d, n: number, rng: Rng): Estimate {
  const xs = sampleMixture(p, n, rng);
  const acc = new WelfordAccumulator();
  for (const x of xs) acc.push(mixtureLogPdf(x, p) - gaussianLogPdf(x, q));
  return acc.estimate();
}

/**
 * KL(q ‖ p) = E_q[log q(z) − log p(z)] by Monte Carlo with z = μ + sε, ε ~ N(0, 1), with its standard error.
 * @see [Bis06] eq. 1.113; [KW14] §2.4
 */
export function reverseKlMonteCarlo(q: Gaussian1d, p: GaussianMixture1d, n: number, rng: Rng): Estimate {
  const acc = new WelfordAccumulator();
  for (let i = 0; i < n; i++) {
    const z = q.mean + q.std * rng.normal();
    acc.push(gaussianLogPdf(z, q) - mixtureLogPdf(z, p));
  }
  return acc.estimate();
}

/** ∫ f over [a, b] with a composite 16-point Gauss–Legendre rule on `panels` equal panels. */
function integrateComposite(f: (x: number) => number, a: number, b: number, panels: number): number {
  const h = (b - a) / panels;
  let s = 0;
  for (let i = 0; i < panels; i++) s += integrateGaussLegendre(f, a + i * h, a + (i + 1) * h, GL16);
  return s;
}

/**
 * KL(q ‖ p) = ∫ q (log q − log p) by composite Gauss–Legendre quadrature over μ ± 10s (the rest of q's
 * mass is below 1e-22): the deterministic reference for the Monte Carlo estimate and the grid search.
 * @see [NR07] §4.6.1 (Gauss–Legendre, src/math/quadrature.ts)
 */
export function reverseKlQuadrature(q: Gaussian1d, p: GaussianMixture1d, panels = 16): number {
  const f = (z: number) => {
    const lq = normalLogPdf(z, q.mean, q.std);
    return Math.exp(lq) * (lq - mixtureLogPdf(z, p));
  };
  return integrateComposite(f, q.mean - 10 * q.std, q.mean + 10 * q.std, panels);
}

/**
 * KL(p ‖ q) = ∫ p (log p − log q) by composite Gauss–Legendre quadrature over the union of the components'
 * μ_k ± 10σ_k.
 * @see [NR07] §4.6.1
 */
export function forwardKlQuadrature(p: GaussianMixture1d, q: Gaussian1d, panels = 64): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < p.weights.length; k++) {
    lo = Math.min(lo, p.means[k] - 10 * p.stds[k]);
    hi = Math.max(hi, p.means[k] + 10 * p.stds[k]);
  }
  const f = (x: number) => {
    const lp = mixtureLogPdf(x, p);
    return Math.exp(lp) * (lp - gaussianLogPdf(x, q));
  };
  return integrateComposite(f, lo, hi, panels);
}

/** The value and gradient of a reparameterised reverse-KL estimate for fixed noise ε. */
export interface ReverseKlGradient {
  /** (1/S) Σ_s [log q(z_s) − log p(z_s)], z_s = μ + e^{logStd} ε_s. */
  value: number;
  dMean: number;
  dLogStd: number;
}

/**
 * The reparameterised estimate of KL(q ‖ p) and its exact gradient for fixed ε_1…ε_S: with z = μ + sε,
 * log q(z) = −½ log 2π − log s − ε²/2 does not depend on μ, so
 * ∂/∂μ = −(1/S) Σ ∇log p(z_s) and ∂/∂log s = −1 − (1/S) Σ ∇log p(z_s)·s ε_s.
 * @see [KW14] §2.4 (the reparameterisation trick)
 */
export function reverseKlReparamGradient(
  p: GaussianMixture1d,
  mean: number,
  logStd: number,
  eps: ArrayLike<number>,
): ReverseKlGradient {
  const s = Math.exp(logStd);
  const S = eps.length;
  let value = 0;
  let dMean = 0;
  let dLogStd = 0;
  for (let i = 0; i < S; i++) {
    const z = mean + s * eps[i];
    value += -0.5 * LOG_2PI - logStd - 0.5 * eps[i] * eps[i] - mixtureLogPdf(z, p);
    const g = mixtureGradLogPdf(z, p);
    dMean -= g;
    dLogStd -= g * s * eps[i];
  }
  return { value: value / S, dMean: dMean / S, dLogStd: -1 + dLogStd / S };
}

/** Options of {@link fitReverseKl}. */
export interface ReverseKlFitOptions {
  /** Starting point of q. */
  init: Gaussian1d;
  steps: number;
  /** Monte Carlo samples per gradient. */
  samples: number;
  /** Adam learning rate, decayed on a half cosine to 0. */
  lr: number;
}

/**
 * Minimises KL(q ‖ p) over q = N(μ, s²) with Adam on the reparameterised gradient (fresh ε each step),
 * in the parameters (μ, log s). Returns the final q and the per-step estimates of the objective.
 * @see [KW14] §2.4 · [KB15] Algorithm 1
 */
export function fitReverseKl(
  p: GaussianMixture1d,
  options: ReverseKlFitOptions,
  rng: Rng,
): Gaussian1d & { trace: Float64Array } {
  const { steps, samples, lr } = options;
  if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(samples) || samples < 1) {
    throw new Error(`fitReverseKl: steps and samples must be integers ≥ 1, got ${steps}, ${samples}`);
  }
  const theta = [options.init.mean, Math.log(options.init.std)];
  const m = [0, 0];
  const v = [0, 0];
  const [b1, b2, epsAdam] = [0.9, 0.999, 1e-8];
  const eps = new Float64Array(samples);
  const trace = new Float64Array(steps);
  for (let t = 1; t <= steps; t++) {
    rng.fillNormal(eps);
    const g = reverseKlReparamGradient(p, theta[0], theta[1], eps);
    trace[t - 1] = g.value;
    const grads = [g.dMean, g.dLogStd];
    const rate = lr * 0.5 * (1 + Math.cos((Math.PI * (t - 1)) / steps));
    for (let j = 0; j < 2; j++) {
      m[j] = b1 * m[j] + (1 - b1) * grads[j];
      v[j] = b2 * v[j] + (1 - b2) * grads[j] * grads[j];
      const mHat = m[j] / (1 - b1 ** t);
      const vHat = v[j] / (1 - b2 ** t);
      theta[j] -= (rate * mHat) / (Math.sqrt(vHat) + epsAdam);
    }
  }
  return { mean: theta[0], std: Math.exp(theta[1]), trace };
}

/** The grid point with the smallest KL(q ‖ p) (by quadrature) and that value. */
export interface GridMinimum extends Gaussian1d {
  kl: number;
}

/**
 * The global minimiser of KL(q ‖ p) over a grid of means × log standard deviations, each KL by quadrature
 * ({@link reverseKlQuadrature}): a derivative-free check that gradient descent found the best mode.
 */
export function reverseKlGridSearch(
  p: GaussianMixture1d,
  means: ArrayLike<number>,
  logStds: ArrayLike<number>,
): GridMinimum {
  let best: GridMinimum = { mean: NaN, std: NaN, kl: Infinity };
  for (let i = 0; i < means.length; i++) {
    for (let j = 0; j < logStds.length; j++) {
      const q = { mean: means[i], std: Math.exp(logStds[j]) };
      const kl = reverseKlQuadrature(q, p, 8);
      if (kl < best.kl) best = { ...q, kl };
    }
  }
  return best;
}

/** `count` evenly spaced values from lo to hi inclusive. */
export function linspace(lo: number, hi: number, count: number): Float64Array {
  if (!Number.isInteger(count) || count < 2) throw new Error(`linspace: count must be ≥ 2, got ${count}`);
  return Float64Array.from({ length: count }, (_, i) => lo + ((hi - lo) * i) / (count - 1));
}
