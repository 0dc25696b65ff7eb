/**
 * Training state ↔ safetensors bytes. Tensors are stored as F32 under their names (model.*, ema.*,
 * adam.m.*, adam.v.*); the JSON metadata (config, step, RNG and data-order state) is one string entry
 * "elbo" of the safetensors header's __metadata__, plus "format" to recognise elbo checkpoints.
 */
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../checkpoint/safetensors.js';
import type { TrainingState } from './ddpm.js';

/** The `format` entry of an elbo checkpoint's safetensors metadata. */
export const CHECKPOINT_FORMAT = 'elbo-checkpoint-v1';

/** What any trainer exports (DDPM, VAE): named float32 tensors and JSON metadata whose `kind` names the model. */
export interface CheckpointState {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  meta: { kind: string };
}

/** A trainer's exported state as safetensors bytes (what `elbo train` writes). */
export function encodeTrainingState(state: CheckpointState): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, t] of state.tensors) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  return encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, elbo: JSON.stringify(state.meta) });
}

/**
 * Decodes and checks that the bytes are an elbo checkpoint (errors say what the file is instead). Typed as the
 * DDPM's state for the DDPM paths; check `meta.kind` first (a VAE checkpoint has kind 'vae', see
 * src/vae/trainer.ts VaeTrainingState).
 */
export function decodeTrainingState(bytes: Uint8Array): TrainingState {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata?.format !== CHECKPOINT_FORMAT || typeof metadata.elbo !== 'string') {
    throw new Error(
      `not an elbo checkpoint: the safetensors metadata has no "format": "${CHECKPOINT_FORMAT}" (a foreign safetensors file?)`,
    );
  }
  const meta = JSON.parse(metadata.elbo) as TrainingState['meta'];
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'F32') throw new Error(`checkpoint tensor "${name}" is ${t.dtype}, expected F32`);
    out.set(name, { shape: [...t.shape], data: t.data });
  }
  return { tensors: out, meta };
}
