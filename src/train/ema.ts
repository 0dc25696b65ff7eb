/**
 * Exponential moving average of parameters: θ_ema ← d·θ_ema + (1 − d)·θ, kept in a second copy of the model
 * (so sampling from the EMA weights is just calling that copy). The decay warms up as
 * d_k = min(decay, (1 + k)/(10 + k)) so the average does not drag the random initialisation along.
 *
 * [Ho20] §4 (EMA 0.9999) · improved-diffusion `update_ema` · TensorFlow ExponentialMovingAverage(num_updates)
 */
import type { Module } from '../nn/module.js';
import { ELEMENT_GRAIN } from '../tensor/ops/constants.js';
import type { Context } from '../tensor/tensor.js';

/** The EMA decay used after `updates` updates: min(decay, (1 + n)/(10 + n)) (TensorFlow's warm-up). */
export function emaDecayAt(decay: number, updates: number): number {
  return Math.min(decay, (1 + updates) / (10 + updates));
}

/** Copies every parameter value of `from` into `to` (same architecture). */
export function copyParameters(ctx: Context, from: Module, to: Module): void {
  const src = new Map(from.namedParameters());
  for (const [name, p] of to.namedParameters()) {
    const s = src.get(name);
    if (!s || s.size !== p.size) throw new Error(`copyParameters: no matching parameter "${name}"`);
    ctx.engine.parallel('copy', p.size, ELEMENT_GRAIN, [s.ptr, p.ptr]);
  }
}

/** One EMA update of `ema`'s parameters towards `model`'s. */
export function updateEma(ctx: Context, model: Module, ema: Module, decay: number): void {
  const src = new Map(model.namedParameters());
  for (const [name, e] of ema.namedParameters()) {
    ctx.engine.parallel('emaUpdate', e.size, ELEMENT_GRAIN, [e.ptr, src.get(name)!.ptr, decay]);
  }
}
