/**
 * One term of the variational bound for one example at one timestep, with its gradient with respect to the
 * network's raw outputs (the mean prediction and, for learned variances, v), in float64: what the L_hybrid and
 * L_vlb objectives of [ND21] §3.1 need. The trainer feeds the gradient into the engine's backward pass.
 *
 *   code t ≥ 1: L = KL(q(x_{t−1} | x_t, x0) ‖ N(μ_θ, Σ_θ))          (Gaussian vs Gaussian, [Ho20] eq. 5)
 *   code t = 0: L = −log p_θ(x0 | x_1)  (discretized Gaussian decoder, [Ho20] eq. 13; or a density)
 *
 * with μ_θ = c_x0·x̂0(out) + c_xt·x_t (the posterior mean at the predicted x0, [Ho20] eqs. 7, 11, 15) and
 * log Σ_θ = learnedRangeLogVariance(v) ([ND21] eq. 15), or a fixed log variance.
 *
 * [Ho20] arXiv:2006.11239v2 · [ND21] arXiv:2102.09672v1 (improved-diffusion `_vb_terms_bpd`) · [SH22]
 * arXiv:2202.00512v2 (v-prediction)
 */
import { assertNever, assertTimestep } from '../math/checks.js';
import { discretizedNormalLogProbGrad, normalKl, normalLogProb } from '../math/gaussian.js';
import { learnedRangeLogVariance, learnedRangeSlope } from './learnedVariance.js';
import type { Prediction } from './parameterization.js';
import type { NoiseSchedule } from './schedule.js';

/**
 * The reverse mean μ_θ is affine in the network's mean output: μ_θ = xt·x_t + out·o (per element).
 * From x̂0 = A x_t + B o (ε: A = 1/√ᾱ_t, B = −√(1 − ᾱ_t)/√ᾱ_t; x0: A = 0, B = 1; v: A = √ᾱ_t, B = −√(1 − ᾱ_t))
 * and μ̃_t(x_t, x̂0) = c_x0 x̂0 + c_xt x_t: xt = c_xt + c_x0·A, out = c_x0·B.
 * @see [Ho20] eqs. 7, 11, 15; [SH22] §4
 */
export function reverseMeanCoefficients(
  schedule: NoiseSchedule,
  prediction: Prediction,
  t: number,
): { xt: number; out: number } {
  assertTimestep(t, schedule.T);
  const a = schedule.sqrtAlphaBar[t];
  const s = schedule.sqrtOneMinusAlphaBar[t];
  const c0 = schedule.posteriorMeanCoefX0[t];
  const ct = schedule.posteriorMeanCoefXt[t];
  const affine = (A: number, B: number) => ({ xt: ct + c0 * A, out: c0 * B });
  switch (prediction) {
    case 'eps':
      return affine(1 / a, -s / a);
    case 'x0':
      return affine(0, 1);
    case 'v':
      return affine(a, -s);
    default:
      return assertNever(prediction, 'prediction');
  }
}

/** What x0 is: 8-bit values scaled to [−1, 1] (a probability mass, in nats) or real numbers (a density). */
export type DataKind = 'discrete8bit' | 'continuous';

/** One example's inputs to {@link vlbTermWithGradient}; arrays of one example's `dims` elements. */
export interface VlbTermInput {
  t: number;
  x0: ArrayLike<number>;
  xt: ArrayLike<number>;
  /** The network's mean output (ε̂, x̂0 or v̂ as `prediction` says). */
  meanOut: ArrayLike<number>;
  /** Learned variances: the network's v output. Fixed variances: the log variance (a number). */
  variance: ArrayLike<number> | { logVar: number };
}

/**
 * The bound's term at code timestep t for one example, in nats (summed over its elements), and, if `grad` is
 * given, ∂L/∂meanOut into grad.mean and ∂L/∂v into grad.v (left untouched for a fixed variance).
 * Per element, with m = μ_θ, ℓ = log Σ_θ, μ̃, β̃ the posterior's mean and variance:
 *   t ≥ 1: L = ½(ℓ − log β̃ + e^{log β̃ − ℓ} − 1 + (μ̃ − m)² e^{−ℓ}),
 *          ∂L/∂m = (m − μ̃) e^{−ℓ}, ∂L/∂ℓ = ½(1 − (β̃ + (μ̃ − m)²) e^{−ℓ});
 *   t = 0: L = −log p(x0 | m, ℓ) (discretized: see discretizedNormalLogProbGrad; density: ½(log 2π + ℓ + (x0 − m)² e^{−ℓ})).
 * Then ∂m/∂meanOut = reverseMeanCoefficients(…).out and ∂ℓ/∂v = learnedRangeSlope(t).
 * @see [Ho20] eqs. 5, 13; [ND21] §3.1, eq. 15; improved-diffusion `_vb_terms_bpd`
 */
export function vlbTermWithGradient(
  schedule: NoiseSchedule,
  prediction: Prediction,
  data: DataKind,
  input: VlbTermInput,
  grad?: { mean: Float64Array; v: Float64Array },
): number {
  const { t, x0, xt, meanOut, variance } = input;
  const n = x0.length;
  if (xt.length !== n || meanOut.length !== n)
    throw new Error(`vlbTermWithGradient: x0, xt and meanOut must have one length (${n})`);
  const learned = !('logVar' in variance);
  if (learned && variance.length !== n)
    throw new Error(`vlbTermWithGradient: v has length ${variance.length}, expected ${n}`);
  const coef = reverseMeanCoefficients(schedule, prediction, t);
  const logVar = learned ? learnedRangeLogVariance(schedule, t, variance) : null;
  const fixedLogVar = learned ? 0 : variance.logVar;
  const slope = learned ? learnedRangeSlope(schedule, t) : 0;
  const c0 = schedule.posteriorMeanCoefX0[t];
  const ct = schedule.posteriorMeanCoefXt[t];
  const postVar = schedule.posteriorVariance[t];
  const postLogVar = Math.log(postVar);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const m = coef.xt * xt[i] + coef.out * meanOut[i];
    const l = logVar ? logVar[i] : fixedLogVar;
    let dm: number;
    let dl: number;
    if (t > 0) {
      const muTilde = c0 * x0[i] + ct * xt[i];
      const d = muTilde - m;
      const invVar = Math.exp(-l);
      total += normalKl(muTilde, postLogVar, m, l);
      dm = -d * invVar;
      dl = 0.5 * (1 - (postVar + d * d) * invVar);
    } else if (data === 'discrete8bit') {
      const g = discretizedNormalLogProbGrad(x0[i], m, 0.5 * l);
      total -= g.logProb;
      dm = -g.dMean;
      dl = -0.5 * g.dLogStd;
    } else {
      const d = x0[i] - m;
      const invVar = Math.exp(-l);
      total -= normalLogProb(x0[i], m, l);
      dm = -d * invVar;
      dl = 0.5 * (1 - d * d * invVar);
    }
    if (grad) {
      grad.mean[i] = dm * coef.out;
      if (learned) grad.v[i] = dl * slope;
    }
  }
  return total;
}
