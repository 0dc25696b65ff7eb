/**
 * Diagonal Gaussians in float64: log densities, KL divergences, and the discretized Gaussian
 * likelihood of 8-bit data that turns a DDPM's decoder into a probability mass function.
 *
 * References:
 * - [Ho20] Ho, Jain, Abbeel 2020, "Denoising Diffusion Probabilistic Models", arXiv:2006.11239v2
 * - [ND21] Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models",
 *   arXiv:2102.09672v1; code: openai/improved-diffusion, improved_diffusion/losses.py
 * - [KW14] Kingma & Welling 2014, "Auto-Encoding Variational Bayes", arXiv:1312.6114v11
 *
 * Scalars may stand in for arrays in the array variants (broadcast against the arrays' length).
 */

import { assertSameLength } from './checks.js';
import { gaussLegendre, type QuadratureRule } from './quadrature.js';
import { erf, expm1MinusX, log1mexp, normalLogCdf } from './special.js';

/** log(2π) */
const LOG_2PI = Math.log(2 * Math.PI);
/** Half the width of one of the 256 bins of 8-bit data scaled to [−1, 1]: 1/255. */
export const BIN_HALF_WIDTH = 1 / 255;

/** A number, or an array of them, that broadcasts against the arrays it is used with. */
export type NumberOrArray = number | ArrayLike<number>;

/** The common length of the array arguments (scalars broadcast); throws on a mismatch. */
function broadcastLength(fn: string, args: Record<string, NumberOrArray>): number {
  let n = -1;
  let first = '';
  for (const [name, a] of Object.entries(args)) {
    if (typeof a === 'number') continue;
    if (n < 0) {
      n = a.length;
      first = name;
    } else if (a.length !== n) {
      throw new Error(`${fn}: ${name} has length ${a.length} but ${first} has length ${n}`);
    }
  }
  return n < 0 ? 1 : n;
}

function at(a: NumberOrArray, i: number): number {
  return typeof a === 'number' ? a : a[i];
}

/**
 * log N(x; μ, σ²) for one number, with logVar = log σ².
 * Formula: −½ (log 2π + logVar + (x − μ)² e^{−logVar})
 */
export function normalLogProb(x: number, mean: number, logVar: number): number {
  const d = x - mean;
  return -0.5 * (LOG_2PI + logVar + d * d * Math.exp(-logVar));
}

/**
 * Σ_i log N(x_i; μ_i, σ_i²) for a diagonal Gaussian (mean and logVar may be scalars).
 * Formula: −½ Σ_i (log 2π + logVar_i + (x_i − μ_i)² e^{−logVar_i})
 */
export function gaussianLogProb(x: ArrayLike<number>, mean: NumberOrArray, logVar: NumberOrArray): number {
  const n = broadcastLength('gaussianLogProb', { x, mean, logVar });
  let sum = 0;
  for (let i = 0; i < n; i++) sum += normalLogProb(x[i], at(mean, i), at(logVar, i));
  return sum;
}

/**
 * KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) for one coordinate, in nats; exactly 0 for equal arguments and never negative.
 * Formula: ½ (logVar₂ − logVar₁ + e^{logVar₁ − logVar₂} − 1 + (μ₁ − μ₂)² e^{−logVar₂})
 * @see [ND21] improved-diffusion losses.py `normal_kl` (same formula; here e^d − 1 − d is summed without cancellation)
 */
export function normalKl(mean1: number, logVar1: number, mean2: number, logVar2: number): number {
  const dm = mean1 - mean2;
  return 0.5 * (expm1MinusX(logVar1 - logVar2) + dm * dm * Math.exp(-logVar2));
}

/**
 * Elementwise KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) of diagonal Gaussians, in nats (see {@link normalKl}).
 * @see [ND21] improved-diffusion losses.py `normal_kl`
 */
export function normalKlElementwise(
  mean1: NumberOrArray,
  logVar1: NumberOrArray,
  mean2: NumberOrArray,
  logVar2: NumberOrArray,
  out?: Float64Array,
): Float64Array {
  const n = broadcastLength('normalKlElementwise', { mean1, logVar1, mean2, logVar2 });
  const r = out ?? new Float64Array(n);
  assertSameLength(n, { out: r });
  for (let i = 0; i < n; i++) r[i] = normalKl(at(mean1, i), at(logVar1, i), at(mean2, i), at(logVar2, i));
  return r;
}

/**
 * KL between diagonal Gaussians summed over coordinates, in nats (see {@link normalKl}).
 * Formula: Σ_i ½ (logVar₂ − logVar₁ + e^{logVar₁ − logVar₂} − 1 + (μ₁ − μ₂)² e^{−logVar₂})
 */
export function normalKlSum(
  mean1: NumberOrArray,
  logVar1: NumberOrArray,
  mean2: NumberOrArray,
  logVar2: NumberOrArray,
): number {
  const n = broadcastLength('normalKlSum', { mean1, logVar1, mean2, logVar2 });
  let sum = 0;
  for (let i = 0; i < n; i++) sum += normalKl(at(mean1, i), at(logVar1, i), at(mean2, i), at(logVar2, i));
  return sum;
}

/**
 * KL(N(μ, σ²) ‖ N(0, I)) summed over coordinates, in nats: the VAE's regulariser.
 * Formula: −½ Σ_i (1 + logVar_i − μ_i² − e^{logVar_i}) = ½ Σ_i (μ_i² + (e^{logVar_i} − 1 − logVar_i))
 * @see [KW14] Appendix B
 */
export function klToStandardNormal(mean: NumberOrArray, logVar: NumberOrArray): number {
  const n = broadcastLength('klToStandardNormal', { mean, logVar });
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const m = at(mean, i);
    sum += 0.5 * (m * m + expm1MinusX(at(logVar, i)));
  }
  return sum;
}

/** The 8-point Gauss–Legendre rule (exact to rounding for the smooth integrands it is used on here). */
const GL8: QuadratureRule = gaussLegendre(8);
const HALF_LOG_2PI = 0.5 * LOG_2PI;

/**
 * log(Φ(u) − Φ(l)) = log P(l < Z < u) for Z ~ N(0, 1), accurate in relative terms for every l ≤ u:
 * - narrow intervals (w·(1 + |m|) ≤ ½ with w = u − l, m = (l + u)/2): 8-point Gauss–Legendre on
 *   φ(z)/φ(m) = exp(−(z − m)(z + m)/2), which is nearly linear there, times φ(m) in log space;
 * - intervals in one tail: log Φ(u) + log(1 − exp(log Φ(l) − log Φ(u))) (mirrored for l ≥ 0);
 * - intervals around 0: ½ (erf(u/√2) + erf(−l/√2)), a sum of two non-negative terms.
 * Returns −∞ for l = u; throws for l > u.
 */
export function normalLogIntervalProb(lower: number, upper: number): number {
  if (Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower === upper) return -Infinity;
  if (lower > upper) throw new Error(`normalLogIntervalProb: lower (${lower}) must be ≤ upper (${upper})`);
  const w = upper - lower;
  const m = 0.5 * lower + 0.5 * upper;
  if (w * (1 + Math.abs(m)) <= 0.5) {
    const half = 0.5 * w;
    let s = 0;
    for (let i = 0; i < GL8.nodes.length; i++) {
      const d = half * GL8.nodes[i];
      s += GL8.weights[i] * Math.exp(-0.5 * d * (2 * m + d));
    }
    return -0.5 * m * m - HALF_LOG_2PI + Math.log(half * s);
  }
  if (lower >= 0) {
    const a = normalLogCdf(-lower); // log P(Z > l)
    if (a === -Infinity) return -Infinity;
    return a + log1mexp(normalLogCdf(-upper) - a);
  }
  if (upper <= 0) {
    const a = normalLogCdf(upper);
    if (a === -Infinity) return -Infinity;
    return a + log1mexp(normalLogCdf(lower) - a);
  }
  return Math.log(0.5 * (erf(upper * Math.SQRT1_2) + erf(-lower * Math.SQRT1_2)));
}

/**
 * log p(x) of one 8-bit value x ∈ {−1, −1 + 2/255, …, 1} under the Gaussian N(μ, σ²) discretized to
 * the 256 bins [x − 1/255, x + 1/255], with logStd = log σ, and the edge bins extended to ±∞:
 * log p = log Φ((x − μ + 1/255)/σ) if x < −0.999, log(1 − Φ((x − μ − 1/255)/σ)) if x > 0.999,
 * else log(Φ((x − μ + 1/255)/σ) − Φ((x − μ − 1/255)/σ)).
 * @see [Ho20] eq. 13
 * @see [ND21] improved-diffusion losses.py `discretized_gaussian_log_likelihood` (log_scales = logStd)
 */
export function discretizedNormalLogProb(x: number, mean: number, logStd: number): number {
  if (!(x >= -1.000001 && x <= 1.000001)) {
    throw new Error(`discretizedNormalLogProb: x must be 8-bit data scaled to [-1, 1], got ${x}`);
  }
  const centered = x - mean;
  const invStd = Math.exp(-logStd);
  // DEVIATION: improved-diffusion uses the tanh approximation of Φ and clamps probabilities at 1e-12
  // (so −log p ≤ 27.6 nats per value). Here Φ is exact to a few ulps and the log is taken without
  // clamping, so tail bins get their true (possibly very small) probability.
  if (x < -0.999) return normalLogCdf((centered + BIN_HALF_WIDTH) * invStd);
  if (x > 0.999) return normalLogCdf(-(centered - BIN_HALF_WIDTH) * invStd);
  return normalLogIntervalProb((centered - BIN_HALF_WIDTH) * invStd, (centered + BIN_HALF_WIDTH) * invStd);
}

/**
 * Elementwise {@link discretizedNormalLogProb} (in nats) for 8-bit data scaled to [−1, 1]; mean and
 * logStd may be scalars. Sum the result for the log-likelihood of a whole image.
 * @see [Ho20] eq. 13
 * @see [ND21] improved-diffusion losses.py `discretized_gaussian_log_likelihood`
 */
export function discretizedGaussianLogLikelihood(
  x: ArrayLike<number>,
  mean: NumberOrArray,
  logStd: NumberOrArray,
  out?: Float64Array,
): Float64Array {
  const n = broadcastLength('discretizedGaussianLogLikelihood', { x, mean, logStd });
  const r = out ?? new Float64Array(n);
  assertSameLength(n, { out: r });
  for (let i = 0; i < n; i++) r[i] = discretizedNormalLogProb(x[i], at(mean, i), at(logStd, i));
  return r;
}

/** One value's log-probability and its partial derivatives (see {@link discretizedNormalLogProbGrad}). */
export interface LogProbGrad {
  logProb: number;
  /** ∂ log p / ∂μ. */
  dMean: number;
  /** ∂ log p / ∂ log σ. */
  dLogStd: number;
}

/**
 * {@link discretizedNormalLogProb} and its gradient in μ and log σ (float64). With c = x − μ, u = (c + 1/255)/σ,
 * l = (c − 1/255)/σ and P the bin's probability:
 * interior bins ∂/∂μ = −(φ(u) − φ(l))/(σP), ∂/∂log σ = −(u φ(u) − l φ(l))/P; the lowest bin (P = Φ(u))
 * drops the l terms, the highest (P = 1 − Φ(l)) the u terms. Each ratio φ/P is formed in log space, so tail
 * bins whose P underflows a float64 still get a finite gradient.
 * @see [Ho20] eq. 13 (differentiated)
 */
export function discretizedNormalLogProbGrad(x: number, mean: number, logStd: number): LogProbGrad {
  const logProb = discretizedNormalLogProb(x, mean, logStd);
  const invStd = Math.exp(-logStd);
  const centered = x - mean;
  const u = (centered + BIN_HALF_WIDTH) * invStd;
  const l = (centered - BIN_HALF_WIDTH) * invStd;
  // φ(z)/P = exp(log φ(z) − log P).
  const ratio = (z: number) => Math.exp(-0.5 * z * z - HALF_LOG_2PI - logProb);
  const ru = x > 0.999 ? 0 : ratio(u);
  const rl = x < -0.999 ? 0 : ratio(l);
  return { logProb, dMean: -(ru - rl) * invStd, dLogStd: -(u * ru - l * rl) };
}
