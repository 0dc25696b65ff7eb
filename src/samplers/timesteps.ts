/**
 * Which timesteps a sampler visits, and the noise level at each.
 *
 * A sampler of N steps visits N timesteps t_0 > t_1 > … > t_{N−1} (0-based code timesteps in [0, T−1]):
 * step i takes x_{t_i} to x_{t_{i+1}}, and the last step takes x_{t_{N−1}} to the clean data (ᾱ = 1, σ = 0).
 * That is how diffusers' multistep solvers (`DPMSolverMultistepScheduler`, `UniPCMultistepScheduler`, with
 * `final_sigmas_type="zero"`) walk, and every elbo sampler uses the same list, so "N steps" is always N
 * network calls.
 *
 * [Lin24] Lin, Liu, Li, Yang 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed",
 * arXiv:2305.08891v4, Table 2 (the names linspace / leading / trailing) · diffusers
 * `DPMSolverMultistepScheduler.set_timesteps` (commit 58eb52c0, 2026-08-23) · [Lu22] DPM-Solver
 * arXiv:2206.00927v3 §3.1 (λ_t = log(α_t/σ_t))
 */
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { assertTimestep } from '../math/checks.js';

/**
 * How N timesteps are spread over [0, T−1], exactly as diffusers' `DPMSolverMultistepScheduler` and
 * `UniPCMultistepScheduler` compute them ([Lin24] Table 2):
 * - 'linspace': round(linspace(0, T − 1, N + 1)), reversed, without the last (0) entry;
 * - 'leading': (0, 1, …, N)·⌊T/(N + 1)⌋, reversed, without the last entry, plus `stepsOffset`;
 * - 'trailing': round(arange(T, 0, −T/N)) − 1: always starts at T − 1, the pure-noise end.
 *
 * diffusers' `DDIMScheduler` spaces 'linspace' and 'leading' differently (N points including 0, then a last
 * step from 0 to ᾱ = 1); elbo's DDIM uses the list above so that every sampler is compared on the same
 * timesteps. For 'trailing' the two agree.
 */
export type Spacing = 'linspace' | 'leading' | 'trailing';

/** Every {@link Spacing}, for validating strings from the command line. */
export const SPACINGS: readonly Spacing[] = ['linspace', 'leading', 'trailing'];

/** The code timestep that stands for the clean data at the end of every chain (ᾱ = 1, σ = 0). */
export const CLEAN = -1;

/** Spaced timesteps, descending: see {@link Spacing}. Throws if they are not N distinct timesteps in [0, T−1]. */
export function spacedTimesteps(T: number, steps: number, spacing: Spacing, stepsOffset = 0): number[] {
  if (!Number.isInteger(T) || T < 1) throw new Error(`T must be an integer ≥ 1, got ${T}`);
  if (!Number.isInteger(steps) || steps < 1 || steps > T)
    throw new Error(`the number of steps must be an integer in [1, ${T}], got ${steps}`);
  if (!Number.isInteger(stepsOffset) || stepsOffset < 0)
    throw new Error(`stepsOffset must be an integer ≥ 0, got ${stepsOffset}`);
  let ts: number[];
  switch (spacing) {
    case 'linspace':
      // numpy.linspace(0, T − 1, N + 1).round()[::-1][:-1]; numpy rounds halves to even.
      ts = Array.from({ length: steps + 1 }, (_, i) => roundHalfEven(((T - 1) * i) / steps))
        .reverse()
        .slice(0, steps);
      break;
    case 'leading': {
      const ratio = Math.floor(T / (steps + 1));
      ts = Array.from({ length: steps + 1 }, (_, i) => i * ratio + stepsOffset)
        .reverse()
        .slice(0, steps);
      break;
    }
    case 'trailing': {
      // numpy.arange(T, 0, −T/N): T − i·T/N while > 0, i.e. exactly N values; then rounded, minus one.
      const ratio = T / steps;
      ts = Array.from({ length: steps }, (_, i) => roundHalfEven(T - i * ratio) - 1);
      break;
    }
    default:
      throw new Error(
        `unknown spacing '${String(spacing)}'; expected one of ${SPACINGS.map((s) => `'${s}'`).join(', ')}`,
      );
  }
  if (spacing !== 'leading' && stepsOffset !== 0)
    throw new Error(`stepsOffset applies to the 'leading' spacing only (diffusers), got ${stepsOffset}`);
  return checkTimesteps(T, ts, `${steps} steps with '${spacing}' spacing`);
}

/**
 * Checks an explicit timestep list: integers in [0, T−1], strictly decreasing, at least one. Returns it.
 * `what` names the list in the error.
 */
export function checkTimesteps(T: number, timesteps: readonly number[], what = 'timesteps'): number[] {
  if (timesteps.length === 0) throw new Error(`${what}: need at least one timestep`);
  timesteps.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t > T - 1)
      throw new Error(`${what}: timestep ${t} (position ${i}) is not an integer in [0, ${T - 1}]`);
    if (i > 0 && !(t < timesteps[i - 1]))
      throw new Error(
        `${what}: timesteps must strictly decrease, but ${timesteps[i - 1]} is followed by ${t}` +
          ' (fewer steps, or another spacing, avoids repeats)',
      );
  });
  return [...timesteps];
}

/** α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t) and the half log-SNR λ_t = log(α_t/σ_t) of a timestep. */
export interface NoiseLevel {
  alphaBar: number;
  alpha: number;
  sigma: number;
  lambda: number;
}

/**
 * The noise level of code timestep t, or of {@link CLEAN} (ᾱ = 1, σ = 0, λ = +∞: the solvers' last step then
 * returns their data prediction, as diffusers' `final_sigmas_type="zero"`).
 * @see [Lu22] §3.1 (λ_t = log α_t − log σ_t)
 */
export function noiseLevel(schedule: NoiseSchedule, t: number): NoiseLevel {
  if (t === CLEAN) return { alphaBar: 1, alpha: 1, sigma: 0, lambda: Infinity };
  assertTimestep(t, schedule.T);
  return {
    alphaBar: schedule.alphaBar[t],
    alpha: schedule.sqrtAlphaBar[t],
    sigma: schedule.sqrtOneMinusAlphaBar[t],
    lambda: 0.5 * schedule.logSnr[t],
  };
}

/** numpy's `round` (half to even), which diffusers' spacings use. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
