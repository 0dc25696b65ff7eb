/**
 * The tensors every trainer checkpoints — weights (model.*), EMA weights (ema.*) and Adam moments
 * (adam.m.*, adam.v.*) — exported as named float32 arrays and loaded back with shape checks. Shared by the
 * DDPM and VAE trainers.
 */
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Adam } from './optim.js';

/** Named float32 arrays with their shapes. */
export type NamedArrays = Map<string, { shape: number[]; data: Float32Array }>;

/** The weights (model.*), EMA weights (ema.*) and Adam moments (adam.m.*, adam.v.*) as named arrays. */
export function exportTrainingTensors(model: Module, ema: Module, opt: Adam): NamedArrays {
  const tensors: NamedArrays = new Map();
  const put = (key: string, t: Tensor) => tensors.set(key, { shape: [...t.shape], data: t.toFloat32Array() });
  for (const [name, p] of model.namedParameters()) put(`model.${name}`, p);
  for (const [name, p] of ema.namedParameters()) put(`ema.${name}`, p);
  for (const [name, m] of opt.m) put(`adam.m.${name}`, m);
  for (const [name, v] of opt.v) put(`adam.v.${name}`, v);
  return tensors;
}

/** Loads what exportTrainingTensors wrote; every weight must be present with its shape (Adam state optional). */
export function loadTrainingTensors(tensors: NamedArrays, model: Module, ema: Module, opt: Adam): void {
  const load = (key: string, target: Tensor) => {
    const e = tensors.get(key);
    if (!e) throw new Error(`checkpoint has no tensor "${key}" (is it from another model?)`);
    if (e.data.length !== target.size || e.shape.join() !== target.shape.join()) {
      throw new Error(
        `checkpoint tensor "${key}" has shape [${e.shape.join(', ')}], the model needs [${target.shape.join(', ')}]`,
      );
    }
    target.view().set(e.data);
  };
  for (const [name, p] of model.namedParameters()) load(`model.${name}`, p);
  for (const [name, p] of ema.namedParameters()) load(`ema.${name}`, p);
  if (tensors.has(`adam.m.${model.namedParameters()[0][0]}`)) {
    for (const [name, m] of opt.m) load(`adam.m.${name}`, m);
    for (const [name, v] of opt.v) load(`adam.v.${name}`, v);
  }
}
