/**
 * Bernoulli log-likelihoods, the decoder of a binarized-MNIST VAE, stable for any logit.
 *
 * References:
 * - [KW14] Kingma & Welling 2014, "Auto-Encoding Variational Bayes", arXiv:1312.6114v11, Appendix C.1
 *   (Bernoulli MLP decoder: log p(x|z) = Σ_i x_i log y_i + (1 − x_i) log(1 − y_i))
 *
 * For x ∈ [0, 1] that is not binary these are the cross-entropies used as a "Bernoulli" loss on
 * grey levels; they are then not normalized log-probabilities (see the continuous Bernoulli,
 * Loaiza-Ganem & Cunningham 2019, arXiv:1907.06845).
 */

import { assertSameLength } from './checks.js';
import { softplus } from './special.js';

/**
 * log Bernoulli(x; σ(l)) for one value with logit l, stable for |l| large.
 * Formula: x·l − softplus(l) = x log σ(l) + (1 − x) log(1 − σ(l)) = −x·softplus(−l) − (1 − x)·softplus(l)
 * @see [KW14] Appendix C.1
 */
export function bernoulliLogProb(x: number, logit: number): number {
  // The last form adds two non-positive terms: x·l − softplus(l) would round −log1p(e^{−100}) (x = 1,
  // l = 100) to 0, since it subtracts 100 from 100 + 3.7e-44.
  const a = x === 0 ? 0 : x * softplus(-logit);
  const b = x === 1 ? 0 : (1 - x) * softplus(logit);
  return -a - b;
}

/**
 * Σ_i log Bernoulli(x_i; σ(l_i)) over arrays of values and logits.
 * Formula: Σ_i (x_i l_i − softplus(l_i))
 * @see [KW14] Appendix C.1
 */
export function bernoulliLogProbSum(x: ArrayLike<number>, logits: ArrayLike<number>): number {
  assertSameLength(x.length, { logits });
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += bernoulliLogProb(x[i], logits[i]);
  return sum;
}

/**
 * log Bernoulli(x; p) for one value with probability p ∈ [0, 1], using 0·log 0 = 0 so that
 * x = 1, p = 1 (and x = 0, p = 0) give 0 rather than NaN.
 * Formula: x log p + (1 − x) log1p(−p)
 * @see [KW14] Appendix C.1
 */
export function bernoulliLogProbFromProbs(x: number, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`bernoulliLogProbFromProbs: p must be in [0, 1], got ${p}`);
  const a = x === 0 ? 0 : x * Math.log(p);
  const b = x === 1 ? 0 : (1 - x) * Math.log1p(-p);
  return a + b;
}

/**
 * Σ_i log Bernoulli(x_i; p_i) over arrays of values and probabilities (see {@link bernoulliLogProbFromProbs}).
 * @see [KW14] Appendix C.1
 */
export function bernoulliLogProbFromProbsSum(x: ArrayLike<number>, probs: ArrayLike<number>): number {
  assertSameLength(x.length, { probs });
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += bernoulliLogProbFromProbs(x[i], probs[i]);
  return sum;
}
