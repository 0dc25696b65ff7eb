/**
 * EMA-only weight files: what a model needs to sample, evaluate or decode, without the raw weights and the
 * Adam moments a training checkpoint also carries (a quarter of its size). Same safetensors layout and
 * metadata as a training checkpoint (encodeTrainingState), tensors `ema.*` only, and `meta.weights = 'ema'`.
 */
import type { Module } from '../nn/module.js';
import type { CheckpointState } from './checkpoint.js';
import { checkTrainingTensors, type NamedArrays } from './trainingTensors.js';

/** The same state with only its EMA tensors (`ema.*`) and `meta.weights = 'ema'`. */
export function emaOnlyState<S extends CheckpointState>(state: S): S {
  const tensors: NamedArrays = new Map();
  for (const [name, t] of state.tensors) if (name.startsWith('ema.')) tensors.set(name, t);
  if (tensors.size === 0) throw new Error('the checkpoint has no EMA tensors ("ema.*")');
  return { ...state, tensors, meta: { ...state.meta, weights: 'ema' } };
}

/** Which copy of the weights a checkpoint's tensors are read from: the EMA copy (`ema.*`) or the raw one (`model.*`). */
export type WeightsCopy = 'ema' | 'raw';

/** True for the metadata of an EMA-only weights file (`meta.weights = 'ema'`, {@link emaOnlyState}). */
export function isEmaOnly(meta: object): boolean {
  return (meta as { weights?: unknown }).weights === 'ema';
}

/**
 * Copies one copy of the weights — `ema.<name>` or `model.<name>` — into the module's parameters, after checking
 * the file's whole tensor set as a trainer would (checkTrainingTensors: both copies complete with their shapes,
 * or ema.* alone in an EMA-only file; Adam's moments all or none; nothing else), so that a damaged checkpoint is
 * refused even where the copy read is intact.
 */
export function loadWeights(module: Module, tensors: NamedArrays, copy: WeightsCopy, emaOnly: boolean): void {
  if (copy === 'raw' && emaOnly)
    throw new Error('the file holds only the EMA weights (ema.*), not the raw ones (model.*)');
  const params = module.namedParameters();
  checkTrainingTensors(tensors, params, { emaOnly });
  const prefix = copy === 'ema' ? 'ema.' : 'model.';
  for (const [name, p] of params) p.view().set(tensors.get(`${prefix}${name}`)!.data);
}

/** Copies the tensors `ema.<name>` into the module's parameters; every one must be there with its shape. */
export function loadEmaWeights(module: Module, tensors: NamedArrays): void {
  const ema = new Map([...tensors].filter(([name]) => name.startsWith('ema.')));
  loadWeights(module, ema, 'ema', true);
}
