/**
 * The forward-process posterior q(x_{t−1} | x_t, x0), the target of every reverse step.
 *
 * References:
 * - [Ho20] Ho, Jain, Abbeel 2020, "Denoising Diffusion Probabilistic Models", arXiv:2006.11239v2
 * - [ND21] Nichol & Dhariwal 2021, arXiv:2102.09672v1; code: improved-diffusion gaussian_diffusion.py
 *   (`q_posterior_mean_variance`, `posterior_log_variance_clipped`)
 * - [Lai25] Lai et al. 2025, arXiv:2510.21890 (seed 001 writes σ²(i) = (1 − ᾱ_{i−1})/(1 − ᾱ_i) β_i²; in its own
 *   notation it is (1 − ᾱ²_{i−1})/(1 − ᾱ²_i) β²_i, which is Ho's β̃_t — implemented here)
 */

import { assertSameLength, assertTimestep } from '../math/checks.js';
import type { NoiseSchedule } from './schedule.js';

/** The Gaussian q(x_{t−1} | x_t, x0) = N(mean, variance·I). */
export interface PosteriorGaussian {
  /** μ̃_t(x_t, x0). */
  mean: Float64Array;
  /** β̃_t (0 at t = 0, where x_{t−1} = x0 is known). */
  variance: number;
  /** log β̃_t (−∞ at t = 0). */
  logVar: number;
  /** log β̃_t with β̃_0 replaced by β̃_1 (improved-diffusion), finite for every t. */
  logVarClipped: number;
}

/**
 * q(x_{t−1} | x_t, x0) = N(μ̃_t, β̃_t I) with
 * μ̃_t = √ᾱ_{t−1} β_t/(1 − ᾱ_t) · x0 + √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t) · x_t and β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) · β_t.
 * @see [Ho20] eqs. 6–7
 */
export function qPosteriorMeanVariance(
  schedule: NoiseSchedule,
  x0: ArrayLike<number>,
  xt: ArrayLike<number>,
  t: number,
  out?: Float64Array,
): PosteriorGaussian {
  assertTimestep(t, schedule.T);
  const n = x0.length;
  const mean = out ?? new Float64Array(n);
  assertSameLength(n, { xt, out: mean });
  const c0 = schedule.posteriorMeanCoefX0[t];
  const ct = schedule.posteriorMeanCoefXt[t];
  for (let i = 0; i < n; i++) mean[i] = c0 * x0[i] + ct * xt[i];
  const variance = schedule.posteriorVariance[t];
  return {
    mean,
    variance,
    logVar: Math.log(variance),
    logVarClipped: schedule.posteriorLogVarianceClipped[t],
  };
}
