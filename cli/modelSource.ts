/**
 * A --checkpoint path → what loadDiffusionModel and loadVae take (src/pipeline): a file is an elbo checkpoint
 * (decoded here, so that its kind picks the command's branch), a directory a diffusers UNet2DModel folder
 * (config.json, diffusion_pytorch_model.safetensors and scheduler_config.json, at the top or under unet/ and
 * scheduler/, as a pipeline folder has them). Missing, unreadable or unfit files are UserErrors naming the path.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DiffusersFiles,
  type DiffusionModel,
  loadDiffusionModel,
  loadVae,
  type Vae,
} from '../src/pipeline/index.js';
import type { Context } from '../src/tensor/tensor.js';
import type { TrainingState } from '../src/train/ddpm.js';
import { describeTrainingSteps } from '../src/train/ddpm.js';
import type { WeightsCopy } from '../src/train/emaWeights.js';
import type { VaeTrainingState } from '../src/vae/trainer.js';
import { decodeCheckpointOrExplain, withPathInErrors } from './trainLoop.js';
import { UserError } from './userError.js';

/** The files of a diffusers folder that elbo reads (others are not read). */
const DIFFUSERS_FILES = [
  'config.json',
  'diffusion_pytorch_model.safetensors',
  'diffusion_pytorch_model.bin',
  'scheduler_config.json',
  'unet/config.json',
  'unet/diffusion_pytorch_model.safetensors',
  'unet/diffusion_pytorch_model.bin',
  'scheduler/scheduler_config.json',
];

/** True if `path` is a directory (a diffusers folder) rather than a checkpoint file. */
export function isModelFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Reads a diffusers folder's files; a directory without config.json is a UserError saying what is expected. */
export function readDiffusersFolder(dir: string): DiffusersFiles {
  const files = new Map<string, Uint8Array>();
  for (const name of DIFFUSERS_FILES) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    try {
      files.set(name, new Uint8Array(readFileSync(path)));
    } catch (err) {
      throw new UserError(`cannot read ${path}: ${(err as Error).message}`);
    }
  }
  if (!files.has('config.json') && !files.has('unet/config.json'))
    throw new UserError(
      `${dir} is a directory without config.json (nor unet/config.json): give an elbo checkpoint file or a ` +
        'diffusers UNet2DModel folder (config.json + diffusion_pytorch_model.safetensors [+ scheduler_config.json])',
    );
  return files;
}

/** A --checkpoint path, read: a diffusers folder's files, or an elbo checkpoint decoded (a DDPM's or a VAE's). */
export type OpenedModel =
  | { kind: 'diffusers'; source: DiffusersFiles }
  | { kind: 'ddpm'; source: TrainingState }
  | { kind: 'vae'; source: VaeTrainingState };

/** Reads a --checkpoint path: a directory as a diffusers folder, a file as an elbo checkpoint. */
export function openModel(path: string): OpenedModel {
  if (isModelFolder(path)) return { kind: 'diffusers', source: readDiffusersFolder(path) };
  const state = decodeCheckpointOrExplain(path);
  return state.meta.kind === 'vae'
    ? { kind: 'vae', source: state as VaeTrainingState }
    : { kind: 'ddpm', source: state as TrainingState };
}

/** loadDiffusionModel on an opened DDPM checkpoint or diffusers folder; errors name the path. */
export function loadDiffusionModelAt(
  ctx: Context,
  path: string,
  opened: Exclude<OpenedModel, { kind: 'vae' }>,
  weights: WeightsCopy = 'ema',
): DiffusionModel {
  return withPathInErrors(path, () => loadDiffusionModel(ctx, opened.source, { weights }));
}

/** loadVae on an opened VAE checkpoint; errors name the path. */
export function loadVaeAt(
  ctx: Context,
  path: string,
  state: VaeTrainingState,
  weights: WeightsCopy = 'ema',
): Vae {
  return withPathInErrors(path, () => loadVae(ctx, state, { weights }));
}

/**
 * A loaded diffusion model for people: "FILE (trained N steps, EMA weights)" for an elbo checkpoint, "the
 * diffusers folder DIR (eps-prediction, posterior variance)" for a folder.
 */
export function describeModel(model: DiffusionModel, path: string, weights: WeightsCopy = 'ema'): string {
  const t = model.training;
  return t
    ? `${path} (trained ${describeTrainingSteps({ step: t.step, config: t })} steps, ${weights === 'raw' ? 'raw' : 'EMA'} weights)`
    : `the diffusers folder ${path} (${model.prediction}-prediction, ${model.variance} variance)`;
}
