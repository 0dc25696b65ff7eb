/**
 * Ancestral sampling of the learned reverse chain p_θ(x_{t−1} | x_t) = N(μ_θ(x_t, t), σ_t² I), from
 * x_T ~ N(0, I) down to x_0.
 *
 * [Ho20] Ho, Jain, Abbeel 2020, arXiv:2006.11239v2 (Algorithm 2, eq. 11) · [ND21] improved-diffusion
 * `p_mean_variance` (x̂0 clipping, posterior mean)
 */
import { predictEps, predictX0 } from '../diffusion/parameterization.js';
import { qPosteriorMeanVariance } from '../diffusion/posterior.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { Rng } from '../random/rng.js';
import type { BatchModel, ReverseVariance } from './types.js';

/** σ_t² of the reverse step: β̃_t or β_t. */
export function reverseVariance(schedule: NoiseSchedule, t: number, variance: ReverseVariance): number {
  return variance === 'posterior' ? schedule.posteriorVariance[t] : schedule.beta[t];
}

/**
 * μ_θ(x_t, t) from ε̂: (x_t − β_t/√(1 − ᾱ_t) · ε̂)/√α_t.
 * @see [Ho20] eq. 11
 */
export function reverseMeanFromEps(
  schedule: NoiseSchedule,
  xt: ArrayLike<number>,
  t: number,
  eps: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const n = xt.length;
  const r = out ?? new Float64Array(n);
  const c = schedule.beta[t] / schedule.sqrtOneMinusAlphaBar[t];
  const inv = 1 / Math.sqrt(schedule.alpha[t]);
  for (let i = 0; i < n; i++) r[i] = inv * (xt[i] - c * eps[i]);
  return r;
}

/** Clips to [−1, 1] in place (the data range). */
export function clipToDataRange(x: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] = x[i] < -1 ? -1 : x[i] > 1 ? 1 : x[i];
  return x;
}

/**
 * The mean of p_θ(x_{t−1} | x_t): by eq. 11 from ε̂ ('eps'), or as the posterior mean μ̃_t(x_t, x̂0) with x̂0
 * predicted (and optionally clipped) ('x0'). Without clipping the two are the same function.
 * @see [Ho20] eqs. 7, 11
 */
export function reverseMean(
  schedule: NoiseSchedule,
  prediction: Parameters<typeof predictX0>[1],
  xt: Float64Array,
  t: number,
  modelOut: ArrayLike<number>,
  meanFrom: 'eps' | 'x0',
  clip: boolean,
): Float64Array {
  if (meanFrom === 'eps' && !clip) {
    return reverseMeanFromEps(schedule, xt, t, predictEps(schedule, prediction, xt, t, modelOut));
  }
  const x0 = predictX0(schedule, prediction, xt, t, modelOut);
  if (clip) clipToDataRange(x0);
  return qPosteriorMeanVariance(schedule, x0, xt, t).mean;
}

/** One step x_t → x_{t−1} = μ_θ + σ_t z (no noise at t = 0). @see [Ho20] Algorithm 2, line 4 */
export function ancestralStep(
  schedule: NoiseSchedule,
  prediction: Parameters<typeof predictX0>[1],
  xt: Float64Array,
  t: number,
  modelOut: ArrayLike<number>,
  options: { variance: ReverseVariance; meanFrom: 'eps' | 'x0'; clip: boolean },
  rng: Rng,
): Float64Array {
  const mean = reverseMean(schedule, prediction, xt, t, modelOut, options.meanFrom, options.clip);
  if (t === 0) return mean;
  const sigma = Math.sqrt(reverseVariance(schedule, t, options.variance));
  for (let i = 0; i < mean.length; i++) mean[i] += sigma * rng.normal();
  return mean;
}

export function sampleAncestral(
  schedule: NoiseSchedule,
  model: BatchModel,
  size: number,
  rng: Rng,
  prediction: Parameters<typeof predictX0>[1],
  options: { variance: ReverseVariance; meanFrom: 'eps' | 'x0'; clip: boolean },
  record: (t: number, x: Float64Array) => void,
  onStep?: (done: number, total: number) => void,
): Float64Array {
  let x: Float64Array = rng.fillNormal(new Float64Array(size));
  record(schedule.T, x);
  for (let t = schedule.T - 1; t >= 0; t--) {
    x = ancestralStep(schedule, prediction, x, t, model(x, t), options, rng);
    record(t, x);
    onStep?.(schedule.T - t, schedule.T);
  }
  return x;
}
