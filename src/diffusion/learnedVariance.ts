/**
 * Learned reverse variances ([ND21] §3.1): the network's second set of output channels is a value v per element,
 * and the reverse step's log variance interpolates in log space between the two fixed choices of [Ho20] §3.2,
 * the upper bound β_t and the lower bound β̃_t:
 *
 *   log Σ_θ(x_t, t) = frac·log β_t + (1 − frac)·log β̃_t,   frac = (v + 1)/2           [ND21] eq. 15
 *
 * (the paper writes it with v ∈ [0, 1]; improved-diffusion's network outputs v ∈ [−1, 1] "loosely" and maps
 * it to frac = (v + 1)/2, which is what is implemented). v is not clamped: values outside [−1, 1] extrapolate.
 *
 * [Ho20] Ho, Jain, Abbeel 2020, arXiv:2006.11239v2 · [ND21] Nichol & Dhariwal 2021, arXiv:2102.09672v1;
 * code: openai/improved-diffusion gaussian_diffusion.py `p_mean_variance` (ModelVarType.LEARNED_RANGE)
 */
import { assertSameLength, assertTimestep } from '../math/checks.js';
import type { NoiseSchedule } from './schedule.js';

/** How a DDPM's reverse variances are set: fixed (β̃_t or β_t, chosen when sampling) or learned ([ND21] eq. 15). */
export type VarianceKind = 'fixed' | 'learned-range';

/** Every variance kind of a DDPM config, for validating strings. */
export const VARIANCE_KINDS: readonly VarianceKind[] = ['fixed', 'learned-range'];

/**
 * The two ends of the learned range at code timestep t: log β_t (v = 1) and log β̃_t (v = −1).
 * DEVIATION ([ND21] improved-diffusion): β̃_0 = 0, so log β̃ is clipped to log β̃_1 at t = 0 (the schedule's
 * `posteriorLogVarianceClipped`).
 */
export function learnedRangeBounds(
  schedule: NoiseSchedule,
  t: number,
): { logBeta: number; logBetaTilde: number } {
  assertTimestep(t, schedule.T);
  return { logBeta: Math.log(schedule.beta[t]), logBetaTilde: schedule.posteriorLogVarianceClipped[t] };
}

/**
 * log Σ_θ per element from the network's v output at code timestep t.
 * Formula: log Σ = frac·log β_t + (1 − frac)·log β̃_t, frac = (v + 1)/2 (β̃ clipped at t = 0).
 * @see [ND21] eq. 15
 */
export function learnedRangeLogVariance(
  schedule: NoiseSchedule,
  t: number,
  v: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const { logBeta, logBetaTilde } = learnedRangeBounds(schedule, t);
  const r = out ?? new Float64Array(v.length);
  assertSameLength(v.length, { out: r });
  for (let i = 0; i < v.length; i++) {
    const frac = 0.5 * (v[i] + 1);
    r[i] = frac * logBeta + (1 - frac) * logBetaTilde;
  }
  return r;
}

/**
 * ∂ log Σ / ∂v at code timestep t (the same for every element): ½ (log β_t − log β̃_t), β̃ clipped at t = 0.
 * @see [ND21] eq. 15 (differentiated)
 */
export function learnedRangeSlope(schedule: NoiseSchedule, t: number): number {
  const { logBeta, logBetaTilde } = learnedRangeBounds(schedule, t);
  return 0.5 * (logBeta - logBetaTilde);
}

/**
 * The v that represents a given log variance: the inverse of {@link learnedRangeLogVariance},
 * v = 2 (logVar − log β̃_t)/(log β_t − log β̃_t) − 1. It lies in [−1, 1] exactly when β̃_t ≤ σ² ≤ β_t.
 * Infinite where the two bounds coincide (β_t = β̃_t only when ᾱ_{t−1} = 0).
 * @see [ND21] eq. 15 (inverted)
 */
export function learnedRangeVFromLogVariance(schedule: NoiseSchedule, t: number, logVar: number): number {
  const { logBeta, logBetaTilde } = learnedRangeBounds(schedule, t);
  return (2 * (logVar - logBetaTilde)) / (logBeta - logBetaTilde) - 1;
}

/**
 * Splits a learned-variance network's output (per pixel or row: `channels` mean values, then `channels` v values,
 * e.g. NHWC [B, H, W, 2C]) into the mean output and v, each in the layout of a fixed-variance network's output.
 */
export function splitLearnedRangeOutput(
  out: ArrayLike<number>,
  channels: number,
  mean = new Float64Array(out.length / 2),
  v = new Float64Array(out.length / 2),
): { mean: Float64Array; v: Float64Array } {
  const groups = out.length / (2 * channels);
  if (!Number.isInteger(groups) || mean.length !== groups * channels || v.length !== groups * channels)
    throw new Error(`splitLearnedRangeOutput: ${out.length} values do not split into 2×${channels} channels`);
  for (let g = 0; g < groups; g++) {
    for (let c = 0; c < channels; c++) {
      mean[g * channels + c] = out[2 * g * channels + c];
      v[g * channels + c] = out[(2 * g + 1) * channels + c];
    }
  }
  return { mean, v };
}

/** The inverse of {@link splitLearnedRangeOutput}: interleaves mean and v back into the network's output layout. */
export function joinLearnedRangeOutput(
  mean: ArrayLike<number>,
  v: ArrayLike<number>,
  channels: number,
): Float64Array {
  const groups = mean.length / channels;
  if (!Number.isInteger(groups) || v.length !== mean.length)
    throw new Error(
      `joinLearnedRangeOutput: mean (${mean.length}) and v (${v.length}) must split into ${channels} channels`,
    );
  const out = new Float64Array(2 * mean.length);
  for (let g = 0; g < groups; g++) {
    for (let c = 0; c < channels; c++) {
      out[2 * g * channels + c] = mean[g * channels + c];
      out[(2 * g + 1) * channels + c] = v[g * channels + c];
    }
  }
  return out;
}

/**
 * A learned-variance model (returning 2·batch·dims values: the means, then v) seen through its mean outputs only,
 * for code that uses fixed variances: DDIM ignores Σ_θ, and a bound or ancestral chain with σ² = β̃_t or β_t
 * needs only the mean.
 */
export function meanOutputs(
  model: (xt: Float64Array, t: number) => ArrayLike<number>,
): (xt: Float64Array, t: number) => Float64Array {
  return (xt, t) => {
    const out = model(xt, t);
    if (out.length !== 2 * xt.length)
      throw new Error(
        `meanOutputs: a learned-variance model returns 2×${xt.length} values, got ${out.length}`,
      );
    return Float64Array.from({ length: xt.length }, (_, i) => out[i]);
  };
}
