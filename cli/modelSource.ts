/**
 * A model path → the bytes loadDiffusionModel takes (src/pipeline): a file is an elbo checkpoint, a directory a
 * diffusers UNet2DModel folder (config.json, diffusion_pytorch_model.safetensors and scheduler_config.json, at the
 * top or under unet/ and scheduler/, as a pipeline folder has them). Missing or unreadable paths are UserErrors.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DiffusersFiles } from '../src/pipeline/index.js';
import { readCheckpointFile } from './checkpointFile.js';
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

/** An elbo checkpoint file's bytes or a diffusers folder's files. */
export function readModelSource(path: string): Uint8Array | DiffusersFiles {
  return isModelFolder(path) ? readDiffusersFolder(path) : readCheckpointFile(path);
}
