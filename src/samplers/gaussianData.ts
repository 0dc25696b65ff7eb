/**
 * The check that needs no training: for data x0 ~ N(μ, s² I) the optimal denoiser is closed-form, and so is the
 * probability-flow ODE it defines. With α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t), x_t ~ N(α_t μ, α_t² s² + σ_t²) and
 *   ε̂(x_t, t) = E[ε | x_t] = σ_t (x_t − α_t μ)/(α_t² s² + σ_t²),
 * and the ODE keeps the standardised value (x_t − α_t μ)/√(α_t² s² + σ_t²) constant: it transports the
 * Gaussian marginals onto each other affinely. Samplers, their convergence order and the ELBO are tested on it.
 */
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { BatchModel } from './types.js';

/** The optimal ε-prediction network for N(μ, s²) data under `schedule`. */
export function gaussianDataEpsModel(schedule: NoiseSchedule, mu: number, s: number): BatchModel {
  return (xt, t) => {
    const ab = schedule.alphaBar[t];
    const c = Math.sqrt(1 - ab) / (ab * s * s + 1 - ab);
    return xt.map((x) => c * (x - Math.sqrt(ab) * mu));
  };
}

/** The exact probability-flow ODE solution at timestep `to` from the state x at timestep `from`. */
export function gaussianDataOdeSolution(
  schedule: NoiseSchedule,
  mu: number,
  s: number,
  x: Float64Array,
  from: number,
  to: number,
): Float64Array {
  const spread = (k: number) => Math.sqrt(schedule.alphaBar[k] * s * s + schedule.oneMinusAlphaBar[k]);
  const [a0, a1] = [schedule.sqrtAlphaBar[from], schedule.sqrtAlphaBar[to]];
  return x.map((v) => a1 * mu + (spread(to) * (v - a0 * mu)) / spread(from));
}
