/**
 * The check that needs no training, for samplers: for data x0 ~ N(μ, s² I) the optimal denoiser is closed-form
 * (src/diffusion/gaussianData.ts), and so is the probability-flow ODE it defines. With α_t = √ᾱ_t,
 * σ_t = √(1 − ᾱ_t), x_t ~ N(α_t μ, α_t² s² + σ_t²), and the ODE keeps the standardised value
 * (x_t − α_t μ)/√(α_t² s² + σ_t²) constant: it transports the Gaussian marginals onto each other affinely.
 * Samplers and their convergence order are tested on it.
 */
import { gaussianDataOptimalEps } from '../diffusion/gaussianData.js';
import { makeNoiseSchedule, type NoiseSchedule } from '../diffusion/schedule.js';
import { Rng } from '../random/rng.js';
import { sample } from './index.js';
import type { SamplerConfig } from './types.js';

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

/**
 * A schedule whose half log-SNR λ_t = log(α_t/σ_t) falls linearly from `lambdaMax` at t = 0 to `lambdaMin` at
 * t = T − 1: ᾱ_t = sigmoid(2λ_t), β_t = 1 − ᾱ_t/ᾱ_{t−1}. The solvers step in λ, so evenly spaced integer
 * timesteps are steps of equal size in λ — what measuring a convergence order needs.
 */
export function logSnrLinearSchedule(T: number, lambdaMax = 5, lambdaMin = -5): NoiseSchedule {
  const alphaBar = (t: number) =>
    1 / (1 + Math.exp(-2 * (lambdaMax + ((lambdaMin - lambdaMax) * t) / (T - 1))));
  return makeNoiseSchedule(
    Float64Array.from({ length: T }, (_, t) => 1 - alphaBar(t) / (t > 0 ? alphaBar(t - 1) : 1)),
  );
}

/**
 * The RMS error at t = 0 of a deterministic sampler against the exact probability-flow ODE solution for N(μ, s²)
 * data, over `count` starting points drawn from `seed`: N = `steps` evenly spaced steps from T − 1 to 0 (steps
 * must divide T − 1), the sampler's state at t = 0 taken before its final step to the data.
 */
export function gaussianOdeError(
  schedule: NoiseSchedule,
  mu: number,
  s: number,
  sampler: (steps: number, timesteps: number[]) => SamplerConfig,
  steps: number,
  { count = 64, seed = 3 } = {},
): number {
  const T = schedule.T;
  if ((T - 1) % steps !== 0) throw new Error(`${steps} steps do not divide T − 1 = ${T - 1}`);
  const timesteps = Array.from({ length: steps + 1 }, (_, i) => ((T - 1) * (steps - i)) / steps);
  const xT = Rng.fromSeed(seed).fillNormal(new Float64Array(count));
  const r = sample(schedule, gaussianDataOptimalEps(schedule, mu, s), {
    batch: count,
    dims: 1,
    prediction: 'eps',
    sampler: sampler(steps, timesteps),
    xT,
    recordAt: [0],
  });
  const exact = gaussianDataOdeSolution(schedule, mu, s, xT, T - 1, 0);
  const x = r.trajectory.get(0)!;
  return Math.sqrt(x.reduce((a, v, i) => a + (v - exact[i]) ** 2, 0) / x.length);
}

/** A deterministic sampler's config for `steps` steps over explicit `timesteps` (as {@link gaussianOdeError} asks). */
export type OdeSolverConfig = (steps: number, timesteps: number[]) => SamplerConfig;

/**
 * The deterministic samplers whose convergence is measured on the Gaussian ODE, by name: DDIM (η = 0),
 * DPM-Solver++ 2M, 2S and 3M (diffusers' update, and with D2 at its Taylor value), UniPC-1/2/3; every one without
 * lowering its order at the end, so that the measured slope is the formula's (2S's trailing first-order step is
 * the final jump to the data, which the measurement leaves out).
 */
export const ODE_SOLVERS: Readonly<Record<string, OdeSolverConfig>> = {
  'DDIM (η = 0)': (steps, timesteps) => ({ kind: 'ddim', steps, timesteps, eta: 0, clip: false }),
  'DPM-Solver++(2M)': dpmSolverConfig(2, false),
  'DPM-Solver++(2S)': (steps, timesteps) => ({
    kind: 'dpm-solver++',
    order: 2,
    singlestep: true,
    steps,
    timesteps,
    clip: false,
  }),
  "DPM-Solver++(3M), diffusers' update": dpmSolverConfig(3, false),
  'DPM-Solver++(3M), Taylor D2': dpmSolverConfig(3, true),
  'UniPC-1': uniPcConfig(1),
  'UniPC-2': uniPcConfig(2),
  'UniPC-3': uniPcConfig(3),
};

function dpmSolverConfig(order: 2 | 3, taylorThirdOrder: boolean): OdeSolverConfig {
  return (steps, timesteps) => ({
    kind: 'dpm-solver++',
    order,
    steps,
    timesteps,
    lowerOrderFinal: false,
    taylorThirdOrder,
    clip: false,
  });
}

function uniPcConfig(order: 1 | 2 | 3): OdeSolverConfig {
  return (steps, timesteps) => ({
    kind: 'unipc',
    order,
    steps,
    timesteps,
    lowerOrderFinal: false,
    clip: false,
  });
}
