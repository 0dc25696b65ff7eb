/**
 * DDIM sampling on a respaced subset of timesteps ([Song21] eq. 12):
 *   x_{τ_{i−1}} = √ᾱ_{τ_{i−1}} x̂0 + √(1 − ᾱ_{τ_{i−1}} − σ²) ε̂ + σ z,
 *   σ = η √((1 − ᾱ_{τ_{i−1}})/(1 − ᾱ_{τ_i})) √(1 − ᾱ_{τ_i}/ᾱ_{τ_{i−1}})   ([Song21] eq. 16).
 * η = 0 is deterministic; η = 1 on all T steps is the DDPM ancestral sampler with σ² = β̃_t.
 *
 * [Song21] Song, Meng, Ermon 2021, arXiv:2010.02502v4
 */
import { predictEps, predictEpsFromX0, predictX0, type Prediction } from '../diffusion/parameterization.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { Rng } from '../random/rng.js';
import { clipToDataRange } from './ancestral.js';
import type { BatchModel } from './types.js';

/**
 * `steps` timesteps spread evenly over [0, T−1], ascending, always including 0 and T − 1 ("trailing"
 * spacing with rounding, as diffusers' `timestep_spacing="linspace"`).
 */
export function respacedTimesteps(T: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T)
    throw new Error(`DDIM steps must be an integer in [1, ${T}], got ${steps}`);
  if (steps === 1) return [T - 1];
  const out = new Set<number>();
  for (let i = 0; i < steps; i++) out.add(Math.round((i * (T - 1)) / (steps - 1)));
  return [...out].sort((a, b) => a - b);
}

/** One DDIM update from timestep t to tPrev (tPrev = −1 means "to x0": ᾱ = 1). */
export function ddimStep(
  schedule: NoiseSchedule,
  prediction: Prediction,
  xt: Float64Array,
  t: number,
  tPrev: number,
  modelOut: ArrayLike<number>,
  eta: number,
  clip: boolean,
  rng: Rng,
): Float64Array {
  const x0 = predictX0(schedule, prediction, xt, t, modelOut);
  let eps: Float64Array;
  if (clip) {
    clipToDataRange(x0);
    eps = predictEpsFromX0(schedule, xt, t, x0); // ε consistent with the clipped x̂0
  } else {
    eps = predictEps(schedule, prediction, xt, t, modelOut);
  }
  const ab = schedule.alphaBar[t];
  const abPrev = tPrev >= 0 ? schedule.alphaBar[tPrev] : 1;
  const sigma = eta * Math.sqrt(((1 - abPrev) / (1 - ab)) * (1 - ab / abPrev));
  const dirCoef = Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma));
  const a = Math.sqrt(abPrev);
  const out = new Float64Array(xt.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = a * x0[i] + dirCoef * eps[i] + (sigma > 0 ? sigma * rng.normal() : 0);
  }
  return out;
}

export function sampleDdim(
  schedule: NoiseSchedule,
  model: BatchModel,
  size: number,
  rng: Rng,
  prediction: Prediction,
  options: { steps: number; eta: number; clip: boolean },
  record: (t: number, x: Float64Array) => void,
  onStep?: (done: number, total: number) => void,
): Float64Array {
  const taus = respacedTimesteps(schedule.T, options.steps);
  let x: Float64Array = rng.fillNormal(new Float64Array(size));
  record(schedule.T, x);
  for (let i = taus.length - 1; i >= 0; i--) {
    const t = taus[i];
    const tPrev = i > 0 ? taus[i - 1] : -1;
    x = ddimStep(schedule, prediction, x, t, tPrev, model(x, t), options.eta, options.clip, rng);
    record(tPrev >= 0 ? tPrev : 0, x);
    onStep?.(taus.length - i, taus.length);
  }
  return x;
}
