/**
 * The data prediction x̂0 that DDIM and the ODE solvers step with, from whatever the network outputs.
 *
 * [Lu22b] Lu et al. 2022, DPM-Solver++, arXiv:2211.01095v2 §4 (data prediction, x̂0 clipping as thresholding)
 */
import { predictX0, type Prediction } from '../diffusion/parameterization.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';

/**
 * The first n values of a model output: the prediction, without the learned-range variance values a model that
 * learns Σ_θ appends (see BatchModel). Throws if the output has neither n nor 2n values.
 */
export function predictionPart(out: ArrayLike<number>, n: number): ArrayLike<number> {
  if (out.length === n) return out;
  if (out.length === 2 * n && (out instanceof Float64Array || out instanceof Float32Array))
    return out.subarray(0, n);
  if (out.length === 2 * n) return Array.prototype.slice.call(out, 0, n) as number[];
  throw new Error(`the model returned ${out.length} values for ${n} inputs; expected ${n} or ${2 * n}`);
}

/** Clips to [−1, 1] in place (the data range). */
export function clipToDataRange(x: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] = x[i] < -1 ? -1 : x[i] > 1 ? 1 : x[i];
  return x;
}

/**
 * x̂0 implied by the model output at (x_t, t), optionally clipped to the data range [−1, 1] (static
 * thresholding; diffusers' `clip_sample`).
 * @see [Ho20] eq. 15; [Lu22b] §4
 */
export function denoise(
  schedule: NoiseSchedule,
  prediction: Prediction,
  xt: Float64Array,
  t: number,
  modelOut: ArrayLike<number>,
  clip: boolean,
): Float64Array {
  const x0 = predictX0(schedule, prediction, xt, t, predictionPart(modelOut, xt.length));
  return clip ? clipToDataRange(x0) : x0;
}
