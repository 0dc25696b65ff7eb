/**
 * DDIM sampling over a list of timesteps ([Song21] eq. 12):
 *   x_{τ_{i−1}} = √ᾱ_{τ_{i−1}} x̂0 + √(1 − ᾱ_{τ_{i−1}} − σ²) ε̂ + σ z,
 *   σ = η √((1 − ᾱ_{τ_{i−1}})/(1 − ᾱ_{τ_i})) √(1 − ᾱ_{τ_i}/ᾱ_{τ_{i−1}})   ([Song21] eq. 16).
 * η = 0 is deterministic — the first-order solver of the probability-flow ODE, DPM-Solver++(1) — and η = 1 on all
 * T steps is the DDPM ancestral sampler with σ² = β̃_t.
 *
 * [Song21] Song, Meng, Ermon 2021, arXiv:2010.02502v4 · diffusers `DDIMScheduler.step`
 */
import { predictEps, predictEpsFromX0, type Prediction } from '../diffusion/parameterization.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { Rng } from '../random/rng.js';
import { denoise, predictionPart } from './dataPrediction.js';
import { CLEAN, noiseLevel } from './timesteps.js';
import type { BatchModel, ChainOptions, DdimConfig, SamplerHooks } from './types.js';

/**
 * One DDIM update from timestep t to tPrev ({@link CLEAN} = −1: to the data, ᾱ = 1). With clipping, ε̂ is
 * recomputed from the clipped x̂0 (diffusers' `use_clipped_model_output=True`). Needs `rng` only when η > 0.
 * @see [Song21] eqs. 12, 16
 */
export function ddimStep(
  schedule: NoiseSchedule,
  prediction: Prediction,
  xt: Float64Array,
  t: number,
  tPrev: number,
  modelOut: ArrayLike<number>,
  eta: number,
  clip: boolean,
  rng: Rng | null,
): Float64Array {
  const out = predictionPart(modelOut, xt.length);
  const x0 = denoise(schedule, prediction, xt, t, out, clip);
  const eps = clip ? predictEpsFromX0(schedule, xt, t, x0) : predictEps(schedule, prediction, xt, t, out);
  const ab = schedule.alphaBar[t];
  const abPrev = noiseLevel(schedule, tPrev).alphaBar;
  const sigma = eta * Math.sqrt(((1 - abPrev) / (1 - ab)) * (1 - ab / abPrev));
  if (sigma > 0 && !rng) throw new Error('DDIM with η > 0 adds noise: it needs a random generator');
  const dirCoef = Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma));
  const a = Math.sqrt(abPrev);
  const x = new Float64Array(xt.length);
  for (let i = 0; i < x.length; i++) {
    x[i] = a * x0[i] + dirCoef * eps[i] + (sigma > 0 ? sigma * rng!.normal() : 0);
  }
  return x;
}

/** DDIM from x_T over the given timesteps (descending), the last step to the data. `rng` only if η > 0. */
export function sampleDdim(
  schedule: NoiseSchedule,
  model: BatchModel,
  xT: Float64Array,
  config: ChainOptions & Pick<DdimConfig, 'eta'>,
  rng: Rng | null,
  hooks: SamplerHooks = {},
): Float64Array {
  const ts = config.timesteps;
  let x: Float64Array = xT.slice();
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    const tPrev = i + 1 < ts.length ? ts[i + 1] : CLEAN;
    const out = model(x, t);
    if (hooks.recordDenoised) {
      hooks.recordDenoised(t, denoise(schedule, config.prediction, x, t, out, config.clip));
    }
    x = ddimStep(schedule, config.prediction, x, t, tPrev, out, config.eta, config.clip, rng);
    hooks.record?.(tPrev, x);
    hooks.onStep?.(i + 1, ts.length);
  }
  return x;
}
