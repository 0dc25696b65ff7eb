/** Gradient utilities: the global norm, clipping by it, and the NaN/Inf guard. */
import type { Module } from '../nn/module.js';

/** ‖g‖₂ over all parameters' gradients (float64 accumulation); NaN if any entry is NaN or infinite. */
export function globalGradNorm(model: Module): number {
  let s = 0;
  for (const [, p] of model.namedParameters()) {
    if (!p.grad) continue;
    for (const v of p.grad.view()) s += v * v;
  }
  return Math.sqrt(s);
}

/**
 * Scales all gradients by min(1, maxNorm/‖g‖) (PyTorch's clip_grad_norm_); returns the norm before clipping.
 */
export function clipGradNorm(model: Module, maxNorm: number): number {
  const norm = globalGradNorm(model);
  if (Number.isFinite(norm) && norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const [, p] of model.namedParameters()) {
      if (!p.grad) continue;
      const g = p.grad.view();
      for (let i = 0; i < g.length; i++) g[i] *= scale;
    }
  }
  return norm;
}

/** Learning rate with linear warm-up: lr·min(1, (step + 1)/warmup). */
export function warmupLr(lr: number, step: number, warmupSteps: number): number {
  return warmupSteps > 0 ? lr * Math.min(1, (step + 1) / warmupSteps) : lr;
}

/** A linear decay of the learning rate to zero: full before step `start`, 0 from step `end` on. */
export interface LrDecay {
  start: number;
  end: number;
}

/** lr·clamp((end − step)/(end − start), 0, 1) for a 0-based step: the linear decay to zero ("annealing"). */
export function linearDecayLr(lr: number, step: number, decay: LrDecay): number {
  return lr * Math.min(1, Math.max(0, (decay.end - step) / (decay.end - decay.start)));
}

/** Thrown when the loss or the gradients stop being finite: training stops, naming the step. */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(
    readonly step: number,
    what: string,
  ) {
    super(`training diverged at step ${step}: ${what} is not finite`);
  }
}
