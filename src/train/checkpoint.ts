/**
 * Training state ↔ safetensors bytes. Tensors are stored as F32 under their names (model.*, ema.*,
 * adam.m.*, adam.v.*); the JSON metadata (config, step, RNG and data-order state) is one string entry
 * "elbo" of the safetensors header's __metadata__, plus "format" to recognise elbo checkpoints.
 *
 * Decoding validates before anything is built: the metadata against the schema (checkpointSchema.ts: every
 * field typed and ranged), every tensor F32 and finite, and the model's weights at least as many as the config's
 * architecture needs (so a config cannot make the trainer allocate far more than the file holds). The exact
 * tensor set (missing, extra, shapes) is checked when a trainer or the pipeline loads them
 * (trainingTensors.ts: checkTrainingTensors). Every problem
 * is a FormatError that names the field or tensor.
 */
import { FormatError } from '../checkpoint/formatError.js';
import { parseJsonBounded } from '../checkpoint/json.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsContents,
  type SafetensorsTensor,
} from '../checkpoint/safetensors.js';
import type { DiffusersUNetConfig } from '../interop/diffusers/config.js';
import { assertNever } from '../math/checks.js';
import { mlpDenoiserWeightCount } from '../nn/mlpDenoiser.js';
import { unetWeightLowerBound } from '../nn/unet.js';
import { vaeWeightLowerBound } from '../vae/nets.js';
import type { VaeTrainingState } from '../vae/trainer.js';
import { ddpmMetaSchema, KIND_NAMES, parseWithSchema, vaeMetaSchema } from './checkpointSchema.js';
import type { DenoiserConfig, TrainingState } from './ddpm.js';

/** The `format` entry of an elbo checkpoint's safetensors metadata. */
export const CHECKPOINT_FORMAT = 'elbo-checkpoint-v1';
/** The format tag of elbo's classifier checkpoints (src/eval/classifier.ts), recognised here to name them. */
const CLASSIFIER_FORMAT_TAG = 'elbo-classifier-v1';

/** What any trainer exports (DDPM, VAE): named float32 tensors and JSON metadata whose `kind` names the model. */
export interface CheckpointState {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  meta: { kind: string };
}

/** A decoded training checkpoint: a DDPM's or a VAE's (tell them apart by `meta.kind`). */
export type ElboTrainingState = TrainingState | VaeTrainingState;
/** The `meta.kind` of a training checkpoint. */
export type TrainingKind = ElboTrainingState['meta']['kind'];

/** A trainer's exported state as safetensors bytes (what `elbo train` writes). */
export function encodeTrainingState(state: CheckpointState): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, t] of state.tensors) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  return encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, elbo: JSON.stringify(state.meta) });
}

/**
 * What a safetensors file holds, as a user would name it: "a DDPM checkpoint", "a VAE checkpoint", "an elbo
 * classifier", or "a safetensors file that is not elbo's (…)". Reads only the metadata.
 */
export function describeSafetensorsContents(metadata: Record<string, string>): string {
  if (metadata.format === CLASSIFIER_FORMAT_TAG) return 'an elbo classifier checkpoint';
  if (metadata.format === CHECKPOINT_FORMAT) {
    const kind = /"kind"\s*:\s*"([^"]*)"/.exec(metadata.elbo ?? '')?.[1];
    if (kind === 'ddpm' || kind === 'vae') return `a ${KIND_NAMES[kind]} checkpoint`;
    return `an elbo checkpoint of unknown kind ${JSON.stringify(kind ?? null)}`;
  }
  const hint =
    '_class_name' in metadata || metadata.format === 'pt'
      ? 'a PyTorch/diffusers weight file?'
      : metadata.format === undefined
        ? 'no "format" in its metadata'
        : `"format": ${JSON.stringify(metadata.format.slice(0, 40))}`;
  return `a safetensors file that is not elbo's (${hint})`;
}

/** Most weights a checkpoint's config may ask for, as a lower bound computed without building the network. */
function weightLowerBound(state: ElboTrainingState): number {
  if (state.meta.kind === 'vae') return vaeWeightLowerBound(state.meta.config);
  const model: DenoiserConfig = state.meta.config.model;
  switch (model.kind) {
    case 'unet':
      return unetWeightLowerBound(model.unet);
    case 'mlp':
      return mlpDenoiserWeightCount(model.mlp);
    case 'diffusers':
      return diffusersUNetWeightLowerBound(model.diffusers);
    default:
      return assertNever(model, 'model kind');
  }
}

/**
 * A lower bound on a diffusers UNet's weights: its input and output 3×3 convolutions and, at each level, the
 * second 3×3 convolution (channels → channels) of every down-block resnet; the real network has far more.
 */
function diffusersUNetWeightLowerBound(c: DiffusersUNetConfig): number {
  const c0 = c.blockOutChannels[0];
  let n = 9 * c.inChannels * c0 + 9 * c0 * c.outChannels;
  for (const ch of c.blockOutChannels) n += c.layersPerBlock * 9 * ch * ch;
  return n;
}

/** The tensors as F32 arrays, each checked finite (FormatError naming the first bad one). */
function finiteF32Tensors(tensors: SafetensorsContents['tensors']): TrainingState['tensors'] {
  const out: TrainingState['tensors'] = new Map();
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'F32') throw new FormatError(`checkpoint tensor "${name}" is ${t.dtype}, expected F32`);
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new FormatError(
        `checkpoint tensor "${name}" holds ${t.data[bad]} at element ${bad}; elbo refuses non-finite weights ` +
          '(the run diverged before this checkpoint was written?)',
      );
    out.set(name, { shape: [...t.shape], data: t.data });
  }
  return out;
}

/**
 * Decodes and validates an elbo training checkpoint (see the file header). With `expected`, a checkpoint of
 * another kind is refused with both kinds named. Throws FormatError, never anything else, for bad bytes.
 */
export function decodeTrainingState(bytes: Uint8Array, expected: 'ddpm'): TrainingState;
export function decodeTrainingState(bytes: Uint8Array, expected: 'vae'): VaeTrainingState;
export function decodeTrainingState(bytes: Uint8Array, expected?: TrainingKind): ElboTrainingState;
export function decodeTrainingState(bytes: Uint8Array, expected?: TrainingKind): ElboTrainingState {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const want =
    expected === undefined
      ? 'an elbo training checkpoint (DDPM or VAE)'
      : `a ${KIND_NAMES[expected]} checkpoint`;
  if (metadata.format !== CHECKPOINT_FORMAT || typeof metadata.elbo !== 'string')
    throw new FormatError(`expected ${want}, but this is ${describeSafetensorsContents(metadata)}`);
  const raw = parseJsonBounded(metadata.elbo, 8, 'the checkpoint\'s "elbo" metadata');
  const kind = (raw as { kind?: unknown } | null)?.kind;
  if (kind !== 'ddpm' && kind !== 'vae')
    throw new FormatError(`meta.kind must be "ddpm" or "vae" (found ${JSON.stringify(kind ?? null)})`);
  if (expected !== undefined && kind !== expected)
    throw new FormatError(`expected ${want}, but this is a ${KIND_NAMES[kind]} checkpoint`);
  const meta = parseWithSchema<ElboTrainingState['meta']>(
    kind === 'ddpm' ? ddpmMetaSchema : vaeMetaSchema,
    raw,
    'meta',
  );
  const state = { tensors: finiteF32Tensors(tensors), meta } as ElboTrainingState;
  // An EMA-only weights file (emaWeights.ts) holds ema.* instead of model.*.
  const prefix = (meta as { weights?: 'ema' }).weights === 'ema' ? 'ema.' : 'model.';
  let weights = 0;
  for (const [name, t] of state.tensors) if (name.startsWith(prefix)) weights += t.data.length;
  const needed = weightLowerBound(state);
  if (weights < needed)
    throw new FormatError(
      `the config describes a network of at least ${needed} weights, but the file's ${prefix}* tensors hold ` +
        `${weights} values: the config and the tensors do not belong together`,
    );
  return state;
}

/** Narrows a decoded checkpoint to a VAE's (TypeScript does not narrow on the nested `meta.kind`). */
export function isVaeState(state: ElboTrainingState): state is VaeTrainingState {
  return state.meta.kind === 'vae';
}
