/**
 * The VAE's objective: the reparameterised evidence lower bound with the analytic KL,
 *   ELBO(x) = E_{q(z|x)}[log p(x|z)] − KL(q(z|x) ‖ N(0, I)) ≤ log p(x),
 * per example in nats, estimated with one z = μ + σ ⊙ ε per example (differentiable, for training), and the
 * importance-weighted bound L_k = E[log (1/k) Σ_i p(x, z_i)/q(z_i|x)] (float64, for evaluation), which rises
 * with k towards log p(x).
 *
 * [KW14] Kingma & Welling arXiv:1312.6114v11 · [BGS16] Burda, Grosse, Salakhutdinov arXiv:1509.00519v4 ·
 * [RMW14] Rezende, Mohamed, Wierstra arXiv:1401.4082v3
 */
import { assertNever } from '../math/checks.js';
import { logMeanExp } from '../math/montecarlo.js';
import {
  bernoulliLogLikelihood,
  gaussianLogDensity,
  klToStandardNormalPerExample,
} from '../tensor/ops/likelihood.js';
import { add, mul, scale, sub } from '../tensor/ops/elementwise.js';
import { exp, mean as meanOf } from '../tensor/ops/pointwise.js';
import type { Tensor } from '../tensor/tensor.js';
import type { DecoderLikelihood } from './config.js';
import type { GaussianParams, VaeModel } from './nets.js';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * z = μ + σ ⊙ ε with σ = exp(½ logVar) and ε ~ N(0, I) given: a sample of q(z|x) that is a differentiable
 * function of (μ, logVar).
 * @see [KW14] §2.4 (the reparameterisation trick) and eq. 10; [RMW14] §3 (the same estimator)
 */
export function reparameterize(q: GaussianParams, eps: Tensor): Tensor {
  return add(q.mean, mul(exp(scale(q.logVar, 0.5)), eps));
}

/**
 * log p(x|z) per example from the decoder's output: Bernoulli logits, or Gaussian means with a fixed variance.
 * @see [KW14] Appendix C.1 (Bernoulli), C.2 (Gaussian)
 */
export function decoderLogLikelihood(likelihood: DecoderLikelihood, decoderOut: Tensor, x: Tensor): Tensor {
  const flat = x.ctx.reshape(x, decoderOut.shape);
  switch (likelihood.kind) {
    case 'bernoulli':
      return bernoulliLogLikelihood(decoderOut, flat);
    case 'gaussian':
      return gaussianLogDensity(flat, decoderOut, likelihood.logVar);
    default:
      return assertNever(likelihood, 'likelihood kind');
  }
}

/** The parts of the one-sample ELBO estimate, per example (each [B], nats), and the loss to minimise. */
export interface ElboTerms {
  /** log p(x|z) at one z ~ q(z|x): an unbiased estimate of the reconstruction term. */
  reconstruction: Tensor;
  /** KL(q(z|x) ‖ N(0, I)), analytic. */
  kl: Tensor;
  /** reconstruction − kl: an unbiased estimate of the ELBO. */
  elbo: Tensor;
  /** −mean_b (reconstruction − β·kl): the training loss (β = klWeight; β = 1 gives the negative ELBO). */
  loss: Tensor;
}

/**
 * The reparameterised ELBO estimator with the analytic KL, per example:
 *   L̃(x) = log p(x | μ + σ ⊙ ε) − KL(N(μ, σ²) ‖ N(0, I)),  ε given [B, L],
 * and the loss −(1/B) Σ_b (log p(x_b|z_b) − β KL_b). β < 1 is KL warm-up ([SRM16] §2.3); the ELBO itself
 * always uses β = 1.
 * @see [KW14] eq. 10 (with L = 1 sample per example)
 */
export function elboTerms(model: VaeModel, x: Tensor, eps: Tensor, klWeight = 1): ElboTerms {
  if (!(klWeight >= 0)) throw new Error(`elboTerms: klWeight must be ≥ 0, got ${klWeight}`);
  const q = model.encode(x);
  const z = reparameterize(q, eps);
  const reconstruction = decoderLogLikelihood(model.config.likelihood, model.decode(z), x);
  const kl = klToStandardNormalPerExample(q.mean, q.logVar);
  const elbo = sub(reconstruction, kl);
  const weighted = klWeight === 1 ? elbo : sub(reconstruction, scale(kl, klWeight));
  return { reconstruction, kl, elbo, loss: scale(meanOf(weighted), -1) };
}

/**
 * log w = log p(x|z) + log N(z; 0, I) − log N(z; μ, σ²) for one z = μ + σ ⊙ ε, in float64; the last two terms
 * are written with ε so that log q needs no division: log q = −½ Σ (log 2π + logVar + ε²).
 * @see [BGS16] eq. 8 (w_i = p(x, h_i)/q(h_i|x))
 */
export function logImportanceWeight(
  logLikelihood: number,
  z: ArrayLike<number>,
  logVar: ArrayLike<number>,
  eps: ArrayLike<number>,
): number {
  let logPrior = 0;
  let logQ = 0;
  for (let j = 0; j < z.length; j++) {
    logPrior -= 0.5 * (LOG_2PI + z[j] * z[j]);
    logQ -= 0.5 * (LOG_2PI + logVar[j] + eps[j] * eps[j]);
  }
  return logLikelihood + logPrior - logQ;
}

/**
 * The k-sample importance-weighted bound for one x from k log weights: L_k = log (1/k) Σ_i w_i (log-mean-exp,
 * float64). L_1 is the ELBO; E[L_k] ≤ E[L_{k+1}] ≤ log p(x) ([BGS16] Theorem 1).
 * @see [BGS16] eq. 8
 */
export function iwaeBound(logWeights: ArrayLike<number>): number {
  return logMeanExp(logWeights);
}
