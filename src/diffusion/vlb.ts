/**
 * The DDPM's negative ELBO (variational bound) as the seeds write it, a sum of KL terms:
 *
 *   −log p_θ(x0) ≤ L_T + Σ_{t=2}^{T} L_{t−1} + L_0                                 [Ho20] eq. 5
 *   L_T     = KL(q(x_T | x0) ‖ N(0, I))                      (prior term, no parameters)
 *   L_{t−1} = E_q KL(q(x_{t−1} | x_t, x0) ‖ p_θ(x_{t−1} | x_t))  (Gaussian vs Gaussian, closed form)
 *   L_0     = −E_q log p_θ(x0 | x_1)                          (discretized Gaussian decoder for 8-bit data)
 *
 * Each L_{t−1} is estimated with one x_t ~ q(x_t | x0) per example, as improved-diffusion's
 * `calc_bpd_loop` does. With 0-based code timesteps, code t = 0 is the decoder term and code t ≥ 1 is
 * L_{t} in paper numbering shifted by one. The seed note 002 drops L_0 and L_T "as unimportant"; for a
 * likelihood they are needed, and are here.
 *
 * [Ho20] arXiv:2006.11239v2 · [ND21] arXiv:2102.09672v1 (§2, improved-diffusion `_vb_terms_bpd`)
 */
import {
  discretizedGaussianLogLikelihood,
  gaussianLogProb,
  klToStandardNormal,
  normalKlSum,
} from '../math/gaussian.js';
import type { Rng } from '../random/rng.js';
import { reverseMean, reverseVariance } from '../samplers/ancestral.js';
import type { BatchModel, ReverseVariance } from '../samplers/types.js';
import { qSample } from './forward.js';
import type { Prediction } from './parameterization.js';
import { qPosteriorMeanVariance } from './posterior.js';
import type { NoiseSchedule } from './schedule.js';

/**
 * Options of {@link negativeElbo}: the parameterisation, the reverse variance, the data kind and which terms.
 */
export interface VlbOptions {
  prediction: Prediction;
  /**
   * σ_t² of p_θ(x_{t−1} | x_t): β̃_t or β_t (the fixed choices of [Ho20]), or a model's own log σ_t² per
   * code timestep (learned variances, [ND21] §3.1; or the exact reverse variance in analytic tests).
   */
  variance:
    | ReverseVariance
    | {
        /** log σ_t² of p_θ(x_{t−1} | x_t) at code timestep t. */
        logVar: (t: number) => number;
      };
  /** 'discrete8bit': x0 are 8-bit values scaled to [−1, 1] (bin width 2/255); 'continuous': a density. */
  data: 'discrete8bit' | 'continuous';
  /**
   * Which L_{t−1} terms to evaluate: 'all' (T − 1 model calls per batch) or K strata: the timesteps
   * 1..T−1 split into K equal blocks, one uniform draw per block weighted by the block's size (unbiased).
   */
  terms: 'all' | { strata: number };
  /** Called after each evaluated term with (terms done, terms in all), for progress reports. */
  onTerm?: (done: number, total: number) => void;
}

/** The negative ELBO of each example and its terms, in nats ([Ho20] eq. 5). */
export interface VlbResult {
  /** Per example, in nats: the prior term L_T. */
  prior: Float64Array;
  /** Per example, in nats: the decoder term L_0. */
  decoder: Float64Array;
  /** Per evaluated code timestep t ≥ 1: per-example L (nats), and the weight it enters the sum with. */
  terms: Map<number, { nats: Float64Array; weight: number }>;
  /** Per example, in nats: prior + Σ weight·terms + decoder. */
  total: Float64Array;
}

/** The reverse-process log variance at code timestep t (β̃ clipped at t = 0, as improved-diffusion). */
function reverseLogVar(schedule: NoiseSchedule, t: number, variance: VlbOptions['variance']): number {
  if (typeof variance === 'object') return variance.logVar(t);
  if (variance === 'posterior') return schedule.posteriorLogVarianceClipped[t];
  return t === 0
    ? (schedule.posteriorLogVarianceClipped[1] ?? Math.log(schedule.beta[0]))
    : Math.log(reverseVariance(schedule, t, variance));
}

/** Code timesteps whose L_{t−1} terms are evaluated, with weights (see VlbOptions.terms). */
export function vlbTimesteps(
  T: number,
  terms: VlbOptions['terms'],
  rng: Rng,
): { t: number; weight: number }[] {
  if (terms === 'all') return Array.from({ length: T - 1 }, (_, i) => ({ t: i + 1, weight: 1 }));
  const k = terms.strata;
  if (!Number.isInteger(k) || k < 1 || k > T - 1)
    throw new Error(`strata must be an integer in [1, ${T - 1}], got ${k}`);
  const out: { t: number; weight: number }[] = [];
  for (let j = 0; j < k; j++) {
    const lo = 1 + Math.floor((j * (T - 1)) / k);
    const hi = 1 + Math.floor(((j + 1) * (T - 1)) / k); // exclusive
    out.push({ t: lo + rng.int(hi - lo), weight: hi - lo });
  }
  return out;
}

/**
 * The negative ELBO of each example of a batch (x0 flattened [batch·dims]), in nats, with its terms.
 * @see [Ho20] eq. 5; [ND21] eq. 4–5
 */
export function negativeElbo(
  schedule: NoiseSchedule,
  model: BatchModel,
  x0: Float64Array,
  batch: number,
  rng: Rng,
  options: VlbOptions,
): VlbResult {
  const dims = x0.length / batch;
  if (!Number.isInteger(dims))
    throw new Error(`negativeElbo: ${x0.length} values do not split into ${batch} examples`);
  const T = schedule.T;
  const slice = (a: Float64Array, b: number) => a.subarray(b * dims, (b + 1) * dims);
  // Prior term: q(x_T | x0) = N(√ᾱ_T x0, (1 − ᾱ_T) I).
  const prior = new Float64Array(batch);
  const logVarT = Math.log(schedule.oneMinusAlphaBar[T - 1]);
  for (let b = 0; b < batch; b++) {
    const mean = slice(x0, b).map((v) => schedule.sqrtAlphaBar[T - 1] * v);
    prior[b] = klToStandardNormal(mean, logVarT);
  }
  const noisy = (t: number) => {
    const xt = new Float64Array(x0.length);
    const eps = rng.fillNormal(new Float64Array(x0.length));
    for (let b = 0; b < batch; b++) qSample(schedule, slice(x0, b), t, slice(eps, b), slice(xt, b));
    return xt;
  };
  const model_mean = (xt: Float64Array, t: number) =>
    reverseMean(schedule, options.prediction, xt, t, model(xt, t), 'eps', false);
  const terms = new Map<number, { nats: Float64Array; weight: number }>();
  const steps = vlbTimesteps(T, options.terms, rng);
  steps.forEach(({ t, weight }, i) => {
    const xt = noisy(t);
    const mean = model_mean(xt, t);
    const logVar = reverseLogVar(schedule, t, options.variance);
    const nats = new Float64Array(batch);
    for (let b = 0; b < batch; b++) {
      const q = qPosteriorMeanVariance(schedule, slice(x0, b), slice(xt, b), t);
      nats[b] = normalKlSum(q.mean, q.logVar, slice(mean, b), logVar);
    }
    terms.set(t, { nats, weight });
    options.onTerm?.(i + 1, steps.length + 1);
  });
  // Decoder term at code t = 0: −log p(x0 | x_1).
  const x1 = noisy(0);
  const mean0 = model_mean(x1, 0);
  const logVar0 = reverseLogVar(schedule, 0, options.variance);
  const decoder = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    if (options.data === 'discrete8bit') {
      const ll = discretizedGaussianLogLikelihood(slice(x0, b), slice(mean0, b), 0.5 * logVar0);
      decoder[b] = -ll.reduce((s, v) => s + v, 0);
    } else {
      decoder[b] = -gaussianLogProb(slice(x0, b), slice(mean0, b), logVar0);
    }
  }
  options.onTerm?.(steps.length + 1, steps.length + 1);
  const total = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    let s = prior[b] + decoder[b];
    for (const { nats, weight } of terms.values()) s += weight * nats[b];
    total[b] = s;
  }
  return { prior, decoder, terms, total };
}
