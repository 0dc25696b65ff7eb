/**
 * The forward (noising) process q: the closed form q(x_t | x0) and the single step q(x_t | x_{t−1}).
 *
 * References:
 * - [Ho20] Ho, Jain, Abbeel 2020, "Denoising Diffusion Probabilistic Models", arXiv:2006.11239v2
 * - [Lai25] Lai et al. 2025, "The Principles of Diffusion Models", arXiv:2510.21890 (seed 001;
 *   there x_i = ᾱ_i x0 + √(1 − ᾱ_i²) ε — the seed once drops the square root)
 *
 * Timesteps t are 0-based: t = 0 is the paper's first step.
 */

import { assertSameLength, assertTimestep } from '../math/checks.js';
import type { NoiseSchedule } from './schedule.js';

/** A diagonal Gaussian with a shared (scalar) variance. */
export interface IsotropicGaussian {
  mean: Float64Array;
  /** Variance shared by every coordinate. */
  variance: number;
  /** log of the variance. */
  logVar: number;
}

/**
 * q(x_t | x0) = N(√ᾱ_t x0, (1 − ᾱ_t) I).
 * @see [Ho20] eq. 4
 */
export function qMeanVariance(schedule: NoiseSchedule, x0: ArrayLike<number>, t: number): IsotropicGaussian {
  assertTimestep(t, schedule.T);
  const a = schedule.sqrtAlphaBar[t];
  const mean = new Float64Array(x0.length);
  for (let i = 0; i < x0.length; i++) mean[i] = a * x0[i];
  const variance = schedule.oneMinusAlphaBar[t];
  return { mean, variance, logVar: Math.log(variance) };
}

/**
 * A draw from q(x_t | x0) given the noise: x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε, ε ~ N(0, I).
 * @see [Ho20] eq. 4 and Algorithm 1
 */
export function qSample(
  schedule: NoiseSchedule,
  x0: ArrayLike<number>,
  t: number,
  eps: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  assertTimestep(t, schedule.T);
  const n = x0.length;
  const r = out ?? new Float64Array(n);
  assertSameLength(n, { eps, out: r });
  const a = schedule.sqrtAlphaBar[t];
  const s = schedule.sqrtOneMinusAlphaBar[t];
  for (let i = 0; i < n; i++) r[i] = a * x0[i] + s * eps[i];
  return r;
}

/**
 * One forward step, q(x_t | x_{t−1}) = N(√(1 − β_t) x_{t−1}, β_t I); at t = 0, x_{t−1} is x0.
 * @see [Ho20] eq. 2
 */
export function qStepMeanVariance(
  schedule: NoiseSchedule,
  xPrev: ArrayLike<number>,
  t: number,
): IsotropicGaussian {
  assertTimestep(t, schedule.T);
  const a = Math.sqrt(schedule.alpha[t]);
  const mean = new Float64Array(xPrev.length);
  for (let i = 0; i < xPrev.length; i++) mean[i] = a * xPrev[i];
  const variance = schedule.beta[t];
  return { mean, variance, logVar: Math.log(variance) };
}

/**
 * A draw from q(x_t | x_{t−1}) given the noise: x_t = √(1 − β_t) x_{t−1} + √β_t ε.
 * @see [Ho20] eq. 2
 */
export function qStepSample(
  schedule: NoiseSchedule,
  xPrev: ArrayLike<number>,
  t: number,
  eps: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  assertTimestep(t, schedule.T);
  const n = xPrev.length;
  const r = out ?? new Float64Array(n);
  assertSameLength(n, { eps, out: r });
  const a = Math.sqrt(schedule.alpha[t]);
  const s = Math.sqrt(schedule.beta[t]);
  for (let i = 0; i < n; i++) r[i] = a * xPrev[i] + s * eps[i];
  return r;
}
