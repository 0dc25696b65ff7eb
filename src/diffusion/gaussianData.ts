/**
 * The exact reverse process for Gaussian data x0 ~ N(μ, s² I): x_t ~ N(√ᾱ_t μ, ᾱ_t s² + 1 − ᾱ_t) is Gaussian and
 * jointly Gaussian with ε and x0, so the optimal ε-predictor and the true reverse variance are closed forms. They
 * let samplers and bounds be tested with no training (DESIGN.md, "the Gaussian-data check").
 *
 * [Ho20] Ho, Jain, Abbeel 2020, arXiv:2006.11239v2 · [Bao22] Bao et al. 2022, "Analytic-DPM", arXiv:2201.06503v3
 * (the optimal reverse variance of a DDPM in general; here its Gaussian special case)
 */
import type { NoiseSchedule } from './schedule.js';

/**
 * E[ε | x_t] for x0 ~ N(μ, s²), elementwise: √(1 − ᾱ_t)(x_t − √ᾱ_t μ)/(ᾱ_t s² + 1 − ᾱ_t).
 * @see [Ho20] eq. 4 (x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε), conditioned on x_t
 */
export function gaussianDataOptimalEps(
  schedule: NoiseSchedule,
  mu: number,
  s: number,
): (xt: Float64Array, t: number) => Float64Array {
  return (xt, t) => {
    const ab = schedule.alphaBar[t];
    const c = Math.sqrt(1 - ab) / (ab * s * s + 1 - ab);
    return xt.map((x) => c * (x - Math.sqrt(ab) * mu));
  };
}

/**
 * log Var(x_{t−1} | x_t) for x0 ~ N(μ, s²): the variance of ∫ q(x_{t−1} | x_t, x0) q(x0 | x_t) dx0 is
 * β̃_t + c0² Var(x0 | x_t), c0 = √ᾱ_{t−1} β_t/(1 − ᾱ_t), Var(x0 | x_t) = s²(1 − ᾱ_t)/(ᾱ_t s² + 1 − ᾱ_t).
 * At code t = 0 the "previous" state is x0 itself: β̃_0 = 0, c0 = 1 (the decoder's variance Var(x0 | x_0)).
 * @see [Ho20] eqs. 6–7; [Bao22] Theorem 1 (Gaussian case)
 */
export function gaussianDataReverseLogVar(schedule: NoiseSchedule, t: number, s: number): number {
  const ab = schedule.alphaBar[t];
  const c0 = schedule.posteriorMeanCoefX0[t];
  const varX0 = (s * s * (1 - ab)) / (ab * s * s + 1 - ab);
  return Math.log(schedule.posteriorVariance[t] + c0 * c0 * varX0);
}
