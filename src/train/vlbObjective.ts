/**
 * The L_hybrid and L_vlb objectives of [ND21] on one batch, as a pure float64 function of the network's output:
 * the loss and its gradient with respect to every output value. The trainer seeds the engine's backward pass with
 * that gradient (backward(out, g) differentiates the surrogate Σ out ⊙ g with g held constant), so the engine never
 * sees the bound's special functions.
 *
 * Per example b, with L_b the bound's term at its timestep t_b in bits/dim (nats/(dims·ln 2), vlbTerm.ts):
 *   hybrid: loss = mean_{b,i} w_b (m_{b,i} − target_{b,i})² + λ·T·mean_b L_b, with the stop-gradient on the mean
 *           inside L_b: its gradient reaches the v channels only ([ND21] §3.1);
 *   vlb:    loss = mean_b iw_b·T·L_b, through mean and v, iw_b = 1/(T·p_{t_b}) for importance-sampled t ([ND21] §3.3).
 * T·L_b is improved-diffusion's single-timestep estimate of L_vlb; with λ = 0.001 and T = 1000, λ·T = 1, its
 * `vb *= num_timesteps / 1000`.
 *
 * [ND21] Nichol & Dhariwal 2021, arXiv:2102.09672v1; code: improved-diffusion gaussian_diffusion.py `training_losses`
 */
import { joinLearnedRangeOutput, splitLearnedRangeOutput } from '../diffusion/learnedVariance.js';
import type { Prediction } from '../diffusion/parameterization.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { type DataKind, vlbTermWithGradient } from '../diffusion/vlbTerm.js';

/** The objectives that need learned variances (see DdpmObjective in ddpm.ts). */
export type VlbObjective = { kind: 'hybrid'; vlbWeight: number } | { kind: 'vlb' };

/** One training batch, flattened [B·dims] per array. */
export interface VlbBatch {
  x0: ArrayLike<number>;
  xt: ArrayLike<number>;
  t: ArrayLike<number>;
  /** The regression target of the mean output (ε, x0 or v). */
  target: ArrayLike<number>;
  /** Per example: the loss weighting of the squared error (hybrid; absent: 1). */
  mseWeight?: ArrayLike<number>;
  /** Per example: the importance weight 1/(T·p_t) (vlb; absent: 1). */
  importanceWeight?: ArrayLike<number>;
}

/** What one L_hybrid or L_vlb batch gives: the loss terms and the gradient to feed into the backward pass. */
export interface VlbObjectiveResult {
  loss: number;
  /** ∂loss/∂out in the network's output layout (mean and v channels interleaved as in `out`). */
  grad: Float64Array;
  /** The weighted squared-error part of the loss (hybrid; 0 for vlb). */
  weightedMse: number;
  /** Unweighted mean squared error of the mean output. */
  mse: number;
  /** The batch's estimate of Σ_t L_t in bits/dim (prior excluded): mean_b iw_b·T·L_b. */
  vlbBpd: number;
  /** Per example: L_b in bits/dim (the importance sampler's history). */
  termBpd: Float64Array;
}

/**
 * The objective's loss and its gradient with respect to `out` (a learned-variance network's output for the batch:
 * `channels` mean values then `channels` v values per pixel or row).
 * @see [ND21] §3.1 (L_hybrid = L_simple + λ L_vlb, stop-gradient on μ in L_vlb), §3.3 (importance sampling)
 */
export function vlbObjectiveLossAndGradient(
  schedule: NoiseSchedule,
  prediction: Prediction,
  data: DataKind,
  objective: VlbObjective,
  batch: VlbBatch,
  out: ArrayLike<number>,
  channels: number,
): VlbObjectiveResult {
  const B = batch.t.length;
  const { mean, v } = splitLearnedRangeOutput(out, channels);
  const dims = mean.length / B;
  if (!Number.isInteger(dims) || batch.x0.length !== mean.length)
    throw new Error(
      `vlbObjectiveLossAndGradient: ${out.length} outputs do not fit ${B} examples of the batch`,
    );
  const toBpd = 1 / (dims * Math.LN2);
  const T = schedule.T;
  const gMean = new Float64Array(B * dims);
  const gV = new Float64Array(B * dims);
  const termBpd = new Float64Array(B);
  const slice = (a: ArrayLike<number>, lo: number) =>
    'subarray' in a
      ? (a as Float64Array).subarray(lo, lo + dims)
      : Array.from({ length: dims }, (_, i) => a[lo + i]);
  let sqErr = 0;
  let weightedSqErr = 0;
  let vlbBpd = 0;
  for (let b = 0; b < B; b++) {
    const lo = b * dims;
    const gm = gMean.subarray(lo, lo + dims);
    const gv = gV.subarray(lo, lo + dims);
    const input = {
      t: batch.t[b],
      x0: slice(batch.x0, lo),
      xt: slice(batch.xt, lo),
      meanOut: mean.subarray(lo, lo + dims),
      variance: v.subarray(lo, lo + dims),
    };
    termBpd[b] = vlbTermWithGradient(schedule, prediction, data, input, { mean: gm, v: gv }) * toBpd;
    const w = batch.mseWeight?.[b] ?? 1;
    let se = 0;
    for (let i = lo; i < lo + dims; i++) se += (mean[i] - batch.target[i]) ** 2;
    sqErr += se;
    weightedSqErr += w * se;
    const iw = objective.kind === 'vlb' ? (batch.importanceWeight?.[b] ?? 1) : 1;
    vlbBpd += (iw * T * termBpd[b]) / B;
    if (objective.kind === 'hybrid') {
      const k = (objective.vlbWeight * T * toBpd) / B;
      for (let i = 0; i < dims; i++) {
        gm[i] = (2 * w * (mean[lo + i] - batch.target[lo + i])) / (B * dims); // stop-gradient: no L_vlb part
        gv[i] *= k;
      }
    } else {
      const k = (iw * T * toBpd) / B;
      for (let i = 0; i < dims; i++) {
        gm[i] *= k;
        gv[i] *= k;
      }
    }
  }
  const weightedMse = objective.kind === 'hybrid' ? weightedSqErr / (B * dims) : 0;
  const loss = objective.kind === 'hybrid' ? weightedMse + objective.vlbWeight * vlbBpd : vlbBpd;
  return {
    loss,
    grad: joinLearnedRangeOutput(gMean, gV, channels),
    weightedMse,
    mse: sqErr / (B * dims),
    vlbBpd,
    termBpd,
  };
}
