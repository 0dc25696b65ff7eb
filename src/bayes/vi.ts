/**
 * Mean-field Gaussian variational inference with the reparameterisation trick, its gradients from elbo's
 * engine (reverse-mode autodiff on tensors) and Adam: q(w) = Π_j N(w_j; m_j, s_j²) maximises
 * ELBO(q) = E_q[log p(x, w)] + H[q] = log p(x) − KL(q ‖ p(w | x)), so it minimises the reverse KL.
 *
 * One step: draw ε ~ N(0, I) of shape [S, d]; w_s = m + s ⊙ ε_s (so ∂w/∂m = 1, ∂w/∂log s = s ⊙ ε);
 * the loss −(1/S) Σ_s log p(x, w_s) − Σ_j log s_j − (d/2)(log 2π + 1) is an unbiased estimate of −ELBO
 * whose gradient is an unbiased estimate of −∇ELBO; the engine back-propagates it and Adam steps.
 *
 * References:
 * - [KW14] Kingma & Welling, "Auto-Encoding Variational Bayes", arXiv:1312.6114v11, §2.4 (reparameterisation)
 * - [Blei17] Blei, Kucukelbir, McAuliffe, arXiv:1601.00670v9, eq. 13 (ELBO), §2.2 (VI minimises KL(q ‖ p))
 * - [Titsias14] M. Titsias & M. Lázaro-Gredilla, "Doubly stochastic variational Bayes for non-conjugate
 *   inference", ICML 2014 (this exact estimator for Gaussian q)
 * - [KB15] Kingma & Ba, "Adam", arXiv:1412.6980v9 (the optimiser, src/train/optim.ts)
 */

import type { Estimate } from '../math/montecarlo.js';
import { WelfordAccumulator } from '../math/montecarlo.js';
import type { Module } from '../nn/module.js';
import type { Rng } from '../random/rng.js';
import * as ops from '../tensor/ops/index.js';
import type { Context, Tensor } from '../tensor/tensor.js';
import { Adam } from '../train/optim.js';
import type { MeanFieldGaussian, LinearRegressionProblem } from './linearRegression.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** A log joint density written with tensor ops, so the engine can differentiate it. */
export interface TensorLogJoint {
  /** Dimension d of w. */
  dim: number;
  /**
   * Σ_s [log p(x, w_s) − constant] over the rows w_s of W [S, d], as a one-element tensor
   * (differentiable in W).
   */
  logJointRows(W: Tensor): Tensor;
  /** The constant dropped from each row's log p(x, w). */
  constant: number;
}

/**
 * log p(t, w) of Bayesian linear regression on tensors (see linearRegression.ts):
 * −‖t − Φw‖²/(2σ²) − ‖w‖²/(2τ²) + constant, constant = −(n/2) log 2πσ² − (d/2) log 2πτ².
 * Built for S samples per call; create it with no scope open: the tensors it holds (Φ, t tiled to [n, S])
 * live until `dispose()`.
 * @see [Bis06] eqs. 3.10, 3.52
 */
export function linearRegressionTensorLogJoint(
  ctx: Context,
  p: LinearRegressionProblem,
  samples: number,
): TensorLogJoint & {
  /** Frees the tensors the log joint holds (the design matrix and the tiled targets). */
  dispose(): void;
} {
  const design = ctx.fromArray(p.design, [p.n, p.d]);
  const tiled = new Float32Array(p.n * samples); // t repeated over the S sample columns
  for (let i = 0; i < p.n; i++) tiled.fill(p.targets[i], i * samples, (i + 1) * samples);
  const targets = ctx.fromArray(tiled, [p.n, samples]);
  return {
    dim: p.d,
    constant:
      -0.5 * p.n * (LOG_2PI + Math.log(p.noiseVariance)) - 0.5 * p.d * (LOG_2PI + Math.log(p.priorVariance)),
    logJointRows(W: Tensor): Tensor {
      if (W.shape[0] !== samples)
        throw new Error(`logJointRows: built for ${samples} rows, got ${W.shape[0]}`);
      const residual = ops.sub(ops.matmul(design, W, false, true), targets); // [n, S]
      const sse = ops.sum(ops.unary('square', residual));
      const ww = ops.sum(ops.unary('square', W));
      return ops.add(ops.scale(sse, -0.5 / p.noiseVariance), ops.scale(ww, -0.5 / p.priorVariance));
    },
    dispose(): void {
      design.dispose();
      targets.dispose();
    },
  };
}

/** Options of {@link fitMeanFieldGaussian}. */
export interface MeanFieldViOptions {
  /** Adam steps. */
  steps: number;
  /** Monte Carlo samples S of w per step. */
  samples: number;
  /** Adam learning rate at the start; decays to 0 on a half cosine. */
  lr: number;
  /** Initial mean (default 0) and log standard deviation (default 0) of every coordinate. */
  initMean?: number;
  initLogStd?: number;
  /** Called after each step with the step number (1-based) and the −ELBO estimate of that step. */
  onStep?: (step: number, negElbo: number) => void;
}

/** The fitted q(w) = N(m, diag(s²)), its log standard deviations and the per-step −ELBO estimates. */
export interface MeanFieldViResult {
  q: MeanFieldGaussian;
  logStd: Float64Array;
  /** The single-step −ELBO estimates (nats), one per step. */
  negElboTrace: Float64Array;
}

/**
 * Fits q(w) = N(m, diag(s²)) by maximising the reparameterised ELBO with Adam; gradients by the engine's
 * reverse-mode autodiff. The learning rate follows lr·½(1 + cos(π·step/steps)).
 * @see [KW14] §2.4 · [Blei17] eq. 13 · [Titsias14]
 */
export function fitMeanFieldGaussian(
  ctx: Context,
  target: TensorLogJoint,
  options: MeanFieldViOptions,
  rng: Rng,
): MeanFieldViResult {
  const d = target.dim;
  const { steps, samples: S } = options;
  if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(S) || S < 1) {
    throw new Error(`fitMeanFieldGaussian: steps and samples must be integers ≥ 1, got ${steps}, ${S}`);
  }
  const mean = ctx.full([1, d], options.initMean ?? 0);
  mean.requiresGrad = true;
  const logStd = ctx.full([1, d], options.initLogStd ?? 0);
  logStd.requiresGrad = true;
  const params: Module = {
    namedParameters: () => [
      ['mean', mean],
      ['logStd', logStd],
    ],
  };
  const opt = new Adam(ctx, params, { lr: options.lr });
  const ones = ctx.full([S, 1], 1);
  const eps = new Float32Array(S * d);
  const entropyConstant = 0.5 * d * (LOG_2PI + 1);
  const negElboTrace = new Float64Array(steps);
  try {
    for (let step = 1; step <= steps; step++) {
      opt.lr = options.lr * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / steps));
      opt.zeroGrad();
      const negElbo = ctx.scope(() => {
        rng.fillNormal(eps);
        const epsT = ctx.fromArray(eps, [S, d]);
        const std = ops.matmul(ones, ops.exp(logStd)); // [S, d]: s broadcast over samples
        const W = ops.addRowVector(ops.mul(epsT, std), mean); // w_s = m + s ⊙ ε_s
        const logJoint = ops.scale(target.logJointRows(W), 1 / S);
        const loss = ops.sub(ops.scale(logJoint, -1), ops.sum(logStd)); // −E[log p] − Σ log s (+ consts)
        ctx.backward(loss);
        return loss.item() - target.constant - entropyConstant;
      });
      opt.update();
      negElboTrace[step - 1] = negElbo;
      options.onStep?.(step, negElbo);
    }
    const m = Float64Array.from(mean.view());
    const ls = Float64Array.from(logStd.view());
    return { q: { mean: m, variance: ls.map((v) => Math.exp(2 * v)) }, logStd: ls, negElboTrace };
  } finally {
    opt.dispose();
    ones.dispose();
    mean.dispose();
    logStd.dispose();
  }
}

/**
 * The ELBO of a mean-field Gaussian q estimated by Monte Carlo in float64, with its standard error:
 * (1/n) Σ_i [log p(x, w_i) − log q(w_i)], w_i ~ q.
 * @see [Blei17] eq. 13
 */
export function elboMonteCarlo(
  logJoint: (w: Float64Array) => number,
  q: MeanFieldGaussian,
  n: number,
  rng: Rng,
): Estimate {
  const d = q.mean.length;
  const w = new Float64Array(d);
  const eps = new Float64Array(d);
  const acc = new WelfordAccumulator();
  for (let i = 0; i < n; i++) {
    rng.fillNormal(eps);
    let logQ = 0;
    for (let j = 0; j < d; j++) {
      const s = Math.sqrt(q.variance[j]);
      w[j] = q.mean[j] + s * eps[j];
      logQ += -0.5 * (LOG_2PI + Math.log(q.variance[j]) + eps[j] * eps[j]);
    }
    acc.push(logJoint(w) - logQ);
  }
  return acc.estimate();
}
