/**
 * Per-timestep weights on L_simple. L_simple ([Ho20] eq. 14) weights every t alike in the space of the
 * prediction target; written in x0-space, the three targets weight ‖x0 − x̂0‖² differently, because
 * (with SNR_t = ᾱ_t/(1 − ᾱ_t), from the conversions in parameterization.ts)
 *
 *   ‖ε − ε̂‖² = SNR_t ‖x0 − x̂0‖²      ‖v − v̂‖² = (SNR_t + 1) ‖x0 − x̂0‖².
 *
 * Min-SNR-γ caps the x0-space weight at γ: w_x0(t) = min(SNR_t, γ), so the nearly clean steps, whose SNR is
 * large, stop dominating the gradient. On the ε or v target's squared error that is the factor
 * min(SNR_t, γ)/SNR_t or min(SNR_t, γ)/(SNR_t + 1) (the second avoids dividing by a zero SNR at t = T with a
 * zero-terminal-SNR schedule).
 *
 * [Ho20] arXiv:2006.11239v2 · [Hang23] Hang et al. 2023, "Efficient Diffusion Training via Min-SNR Weighting
 * Strategy", arXiv:2303.09556, §3.4 (γ = 5 there)
 */
import { assertNever } from '../math/checks.js';
import type { Prediction } from './parameterization.js';

/** How the per-example squared errors of L_simple are weighted; absent means L_simple itself. */
export type LossWeighting = { kind: 'min-snr'; gamma: number };

/**
 * The Min-SNR-γ factor on the squared error of `prediction`'s target at a step with signal-to-noise `snr`.
 * Formula: ε: min(SNR, γ)/SNR · x0: min(SNR, γ) · v: min(SNR, γ)/(SNR + 1)
 * @see [Hang23] §3.4
 */
export function minSnrLossWeight(snr: number, gamma: number, prediction: Prediction): number {
  if (!(snr >= 0)) throw new Error(`SNR must be ≥ 0, got ${snr}`);
  if (!(gamma > 0)) throw new Error(`Min-SNR γ must be positive, got ${gamma}`);
  const capped = Math.min(snr, gamma);
  switch (prediction) {
    case 'eps':
      return capped / snr;
    case 'x0':
      return capped;
    case 'v':
      return capped / (snr + 1);
    default:
      return assertNever(prediction, 'prediction');
  }
}
