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

/** Which copy of the weights a checkpoint's tensors are read from: the EMA copy (`ema.*`) or the raw one (`model.*`). */
export type WeightsCopy = 'ema' | 'raw';

/**
 * Copies the tensors `<prefix><name>` (prefix 'ema.' or 'model.') into the module's parameters; every one must be
 * there with its shape, and no other tensor under the prefix (a file of another model).
 */
export function loadWeights(module: Module, tensors: NamedArrays, copy: WeightsCopy = 'ema'): void {
  const prefix = copy === 'ema' ? 'ema.' : 'model.';
  const params = module.namedParameters();
  const names = new Set(params.map(([name]) => `${prefix}${name}`));
  if (copy === 'raw' && ![...tensors.keys()].some((k) => k.startsWith(prefix)))
    throw new Error('the file holds only the EMA weights (ema.*), not the raw ones (model.*)');
  const extra = [...tensors.keys()].filter((k) => k.startsWith(prefix) && !names.has(k));
  if (extra.length > 0)
    throw new Error(
      `weights file has tensors the model does not: ${extra
        .slice(0, 3)
        .map((k) => `"${k}"`)
        .join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''} (is it from another model?)`,
    );
  for (const [name, p] of params) {
    const e = tensors.get(`${prefix}${name}`);
    if (!e) throw new Error(`weights file has no tensor "${prefix}${name}" (is it from another model?)`);
    if (e.shape.join() !== p.shape.join()) {
      throw new Error(
        `weights tensor "${prefix}${name}" has shape [${e.shape.join(', ')}], the model needs [${p.shape.join(', ')}]`,
      );
    }
  }
  for (const [name, p] of params) p.view().set(tensors.get(`${prefix}${name}`)!.data);
}

/** Copies the tensors `ema.<name>` into the module's parameters ({@link loadWeights} of the EMA copy). */
export function loadEmaWeights(module: Module, tensors: NamedArrays): void {
  loadWeights(module, tensors, 'ema');
}
