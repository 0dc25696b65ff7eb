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

/** Options of {@link checkTrainingTensors}. */
export interface TensorSetOptions {
  /** An EMA-only weights file (emaWeights.ts): the ema.* tensors and nothing else. */
  emaOnly?: boolean;
  /** Adam's moments must be there (training continues); otherwise they are all there or all absent. */
  requireAdam?: boolean;
}

/**
 * Checks a checkpoint's tensor set against a model's parameters, without loading anything: model.* and ema.*
 * (ema.* only in an EMA-only file) each complete with the parameters' shapes, Adam's moments (adam.m.*,
 * adam.v.*, shaped as the parameters) all there or all absent, no other tensor. Errors name the tensor.
 */
export function checkTrainingTensors(
  tensors: NamedArrays,
  params: readonly (readonly [string, { readonly shape: readonly number[] }])[],
  options: TensorSetOptions = {},
): void {
  const { emaOnly = false, requireAdam = false } = options;
  const expected = new Map<string, readonly number[]>();
  const adam = new Map<string, readonly number[]>();
  for (const prefix of emaOnly ? ['ema.'] : ['model.', 'ema.'])
    for (const [name, p] of params) expected.set(`${prefix}${name}`, p.shape);
  if (!emaOnly)
    for (const prefix of ['adam.m.', 'adam.v.'])
      for (const [name, p] of params) adam.set(`${prefix}${name}`, p.shape);
  const extra = [...tensors.keys()].filter((k) => !expected.has(k) && !adam.has(k));
  if (extra.length > 0)
    throw new Error(
      `checkpoint has tensors the model does not: ${extra
        .slice(0, 3)
        .map((k) => `"${k}"`)
        .join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''} (is it from another model?)`,
    );
  const adamPresent = [...adam.keys()].filter((k) => tensors.has(k)).length;
  if (adamPresent > 0 || requireAdam) for (const [k, shape] of adam) expected.set(k, shape);
  if (adamPresent === 0 && requireAdam)
    throw new Error(
      'checkpoint has no Adam moments (adam.m.*, adam.v.*): training cannot continue exactly; start a new run with --init-from to use its weights',
    );
  for (const [key, shape] of expected) {
    const e = tensors.get(key);
    if (!e) throw new Error(`checkpoint has no tensor "${key}" (is it from another model?)`);
    if (e.data.length !== shape.reduce((a, b) => a * b, 1) || e.shape.join() !== shape.join()) {
      throw new Error(
        `checkpoint tensor "${key}" has shape [${e.shape.join(', ')}], the model needs [${shape.join(', ')}]`,
      );
    }
  }
}

/**
 * Loads what exportTrainingTensors wrote, after {@link checkTrainingTensors}: every weight present with its shape,
 * no other tensor. Adam's moments are all there or all absent; `requireAdam` (when training continues from the
 * checkpoint) refuses their absence, since Adam restarting from zero would make the resumed run differ from an
 * uninterrupted one.
 */
export function loadTrainingTensors(
  tensors: NamedArrays,
  model: Module,
  ema: Module,
  opt: Adam,
  requireAdam = false,
): void {
  checkTrainingTensors(tensors, model.namedParameters(), { requireAdam });
  const targets: [string, Tensor][] = [
    ...model.namedParameters().map(([name, p]): [string, Tensor] => [`model.${name}`, p]),
    ...ema.namedParameters().map(([name, p]): [string, Tensor] => [`ema.${name}`, p]),
    ...[...opt.m].map(([name, m]): [string, Tensor] => [`adam.m.${name}`, m]),
    ...[...opt.v].map(([name, v]): [string, Tensor] => [`adam.v.${name}`, v]),
  ];
  for (const [key, target] of targets) {
    const e = tensors.get(key);
    if (e) target.view().set(e.data);
  }
}
