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

/**
 * Loads what exportTrainingTensors wrote. Every weight must be present with its shape, and no other tensor may
 * be there (errors name the tensor). Adam's moments are all there or all absent; `requireAdam` (when training
 * continues from the checkpoint) refuses their absence, since Adam restarting from zero would make the resumed
 * run differ from an uninterrupted one.
 */
export function loadTrainingTensors(
  tensors: NamedArrays,
  model: Module,
  ema: Module,
  opt: Adam,
  requireAdam = false,
): void {
  const expected = new Map<string, Tensor>();
  for (const [name, p] of model.namedParameters()) expected.set(`model.${name}`, p);
  for (const [name, p] of ema.namedParameters()) expected.set(`ema.${name}`, p);
  const adam = new Map<string, Tensor>();
  for (const [name, m] of opt.m) adam.set(`adam.m.${name}`, m);
  for (const [name, v] of opt.v) adam.set(`adam.v.${name}`, v);
  const extra = [...tensors.keys()].filter((k) => !expected.has(k) && !adam.has(k));
  if (extra.length > 0)
    throw new Error(
      `checkpoint has tensors the model does not: ${extra
        .slice(0, 3)
        .map((k) => `"${k}"`)
        .join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''} (is it from another model?)`,
    );
  const adamPresent = [...adam.keys()].filter((k) => tensors.has(k)).length;
  if (adamPresent > 0 || requireAdam) for (const [k, t] of adam) expected.set(k, t);
  if (adamPresent === 0 && requireAdam)
    throw new Error(
      'checkpoint has no Adam moments (adam.m.*, adam.v.*): training cannot continue exactly; start a new run with --init-from to use its weights',
    );
  for (const [key, target] of expected) {
    const e = tensors.get(key);
    if (!e) throw new Error(`checkpoint has no tensor "${key}" (is it from another model?)`);
    if (e.data.length !== target.size || e.shape.join() !== target.shape.join()) {
      throw new Error(
        `checkpoint tensor "${key}" has shape [${e.shape.join(', ')}], the model needs [${target.shape.join(', ')}]`,
      );
    }
  }
  for (const [key, target] of expected) target.view().set(tensors.get(key)!.data);
}
