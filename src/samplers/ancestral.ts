/**
 * Ancestral sampling of the learned reverse chain p_θ(x_{t−1} | x_t) = N(μ_θ(x_t, t), σ_t² I), from
 * x_T ~ N(0, I) down to x_0.
 *
 * [Ho20] Ho, Jain, Abbeel 2020, arXiv:2006.11239v2 (Algorithm 2, eq. 11) · [ND21] Nichol & Dhariwal 2021,
 * arXiv:2102.09672v1, improved-diffusion `p_mean_variance` (x̂0 clipping, posterior mean) and `respace.py`
 */
import { predictEps, type Prediction } from '../diffusion/parameterization.js';
import { learnedRangeLogVariance } from '../diffusion/learnedVariance.js';
import { qPosteriorMeanVariance } from '../diffusion/posterior.js';
import { makeNoiseSchedule, type NoiseSchedule } from '../diffusion/schedule.js';
import type { Rng } from '../random/rng.js';
import { denoise, predictionPart } from './dataPrediction.js';
import { CLEAN } from './timesteps.js';
import type { AncestralConfig, BatchModel, ChainOptions, ReverseVariance, SamplerHooks } from './types.js';

/** σ_t² of the reverse step with a fixed variance: β̃_t or β_t. */
export function reverseVariance(schedule: NoiseSchedule, t: number, variance: 'posterior' | 'beta'): number {
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

/**
 * The mean of p_θ(x_{t−1} | x_t): by eq. 11 from ε̂ ('eps'), or as the posterior mean μ̃_t(x_t, x̂0) with x̂0
 * predicted (and optionally clipped) ('x0'). Without clipping the two are the same function.
 * @see [Ho20] eqs. 7, 11
 */
export function reverseMean(
  schedule: NoiseSchedule,
  prediction: Prediction,
  xt: Float64Array,
  t: number,
  modelOut: ArrayLike<number>,
  meanFrom: 'eps' | 'x0',
  clip: boolean,
): Float64Array {
  const out = predictionPart(modelOut, xt.length);
  if (meanFrom === 'eps' && !clip) {
    return reverseMeanFromEps(schedule, xt, t, predictEps(schedule, prediction, xt, t, out));
  }
  return qPosteriorMeanVariance(schedule, denoise(schedule, prediction, xt, t, out, clip), xt, t).mean;
}

/**
 * One step x_t → x_{t−1} = μ_θ + σ_t z (no noise at t = 0 unless `lastStepNoise`); σ_t² fixed, or Σ_θ from the
 * model's v outputs.
 * @see [Ho20] Algorithm 2, line 4; [ND21] eq. 15
 */
export function ancestralStep(
  schedule: NoiseSchedule,
  prediction: Prediction,
  xt: Float64Array,
  t: number,
  modelOut: ArrayLike<number>,
  options: { variance: ReverseVariance; meanFrom: 'eps' | 'x0'; clip: boolean; lastStepNoise?: boolean },
  rng: Rng,
): Float64Array {
  const mean = reverseMean(schedule, prediction, xt, t, modelOut, options.meanFrom, options.clip);
  if (t === 0 && !options.lastStepNoise) return mean;
  if (options.variance === 'learned-range') {
    // Σ_θ per element from the model's v values, the second half of its output ([ND21] eq. 15).
    const n = xt.length;
    if (modelOut.length !== 2 * n)
      throw new Error('the learned-range variance needs a model that learns its variances (2n outputs)');
    const logVar = learnedRangeLogVariance(schedule, t, Array.prototype.slice.call(modelOut, n) as number[]);
    for (let i = 0; i < n; i++) mean[i] += Math.exp(0.5 * logVar[i]) * rng.normal();
    return mean;
  }
  const sigma = Math.sqrt(reverseVariance(schedule, t, options.variance));
  for (let i = 0; i < mean.length; i++) mean[i] += sigma * rng.normal();
  return mean;
}

/**
 * The respaced DDPM of a timestep subsequence S_0 < … < S_{K−1}: ᾱ'_k = ᾱ_{S_k}, so β'_k = 1 − ᾱ_{S_k}/ᾱ_{S_{k−1}}
 * (ᾱ_{S_{−1}} = 1), and β̃'_k follows; the network is still called at S_k. On the full list 0…T−1 it is the
 * schedule itself. `timesteps` may be given in either order.
 * @see [ND21] §4 and improved-diffusion `respace.py` (`SpacedDiffusion`)
 */
export function respacedSchedule(schedule: NoiseSchedule, timesteps: readonly number[]): NoiseSchedule {
  const ascending = [...timesteps].sort((a, b) => a - b);
  if (ascending.length === schedule.T && ascending.every((t, k) => t === k)) return schedule;
  const beta = new Float64Array(ascending.length);
  ascending.forEach((t, k) => {
    // 1 − ᾱ_t/ᾱ_s = −expm1(log ᾱ_t − log ᾱ_s): no cancellation when the two are close.
    beta[k] = -Math.expm1(schedule.logAlphaBar[t] - (k > 0 ? schedule.logAlphaBar[ascending[k - 1]] : 0));
  });
  return makeNoiseSchedule(beta);
}

/**
 * Ancestral sampling from x_T over the given timesteps (descending), on the respaced DDPM of
 * {@link respacedSchedule}; the last step returns the mean, without noise ([Ho20] Algorithm 2: z = 0 at t = 1;
 * diffusers and improved-diffusion alike), unless `lastStepNoise` adds σ_1 z there too.
 * @see [Ho20] Algorithm 2; [ND21] §4 (respacing)
 */
export function sampleAncestral(
  schedule: NoiseSchedule,
  model: BatchModel,
  xT: Float64Array,
  config: ChainOptions & Pick<AncestralConfig, 'variance' | 'meanFrom' | 'lastStepNoise'>,
  rng: Rng,
  hooks: SamplerHooks = {},
): Float64Array {
  const ts = config.timesteps;
  const spaced = respacedSchedule(schedule, ts);
  const K = ts.length;
  let x: Float64Array = xT.slice();
  for (let i = 0; i < K; i++) {
    const k = K - 1 - i; // index of ts[i] in the respaced chain
    const out = model(x, ts[i]);
    if (hooks.recordDenoised) {
      hooks.recordDenoised(ts[i], denoise(spaced, config.prediction, x, k, out, config.clip));
    }
    x = ancestralStep(spaced, config.prediction, x, k, out, config, rng);
    hooks.record?.(i + 1 < K ? ts[i + 1] : CLEAN, x);
    hooks.onStep?.(i + 1, K);
  }
  return x;
}
