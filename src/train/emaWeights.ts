/**
 * EMA-only weight files: what a model needs to sample, evaluate or decode, without the raw weights and the
 * Adam moments a training checkpoint also carries (a quarter of its size). Same safetensors layout and
 * metadata as a training checkpoint (encodeTrainingState), tensors `ema.*` only, and `meta.weights = 'ema'`.
 */
import type { Module } from '../nn/module.js';
import type { CheckpointState } from './checkpoint.js';
import type { NamedArrays } from './trainingTensors.js';

/** The same state with only its EMA tensors (`ema.*`) and `meta.weights = 'ema'`. */
export function emaOnlyState<S extends CheckpointState>(state: S): S {
  const tensors: NamedArrays = new Map();
  for (const [name, t] of state.tensors) if (name.startsWith('ema.')) tensors.set(name, t);
  if (tensors.size === 0) throw new Error('the checkpoint has no EMA tensors ("ema.*")');
  return { ...state, tensors, meta: { ...state.meta, weights: 'ema' } };
}

/** Copies the tensors `ema.<name>` into the module's parameters; every one must be there with its shape. */
export function loadEmaWeights(module: Module, tensors: NamedArrays): void {
  for (const [name, p] of module.namedParameters()) {
    const e = tensors.get(`ema.${name}`);
    if (!e) throw new Error(`weights file has no tensor "ema.${name}" (is it from another model?)`);
    if (e.shape.join() !== p.shape.join()) {
      throw new Error(
        `weights tensor "ema.${name}" has shape [${e.shape.join(', ')}], the model needs [${p.shape.join(', ')}]`,
      );
    }
    p.view().set(e.data);
  }
}
