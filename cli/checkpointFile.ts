/**
 * Checkpoint files on disk: atomic writes and reads with errors the user can act on. The format itself
 * (safetensors) is pure and lives in src/checkpoint.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../src/checkpoint/formatError.js';
import { decodeSafetensors, type SafetensorsContents } from '../src/checkpoint/safetensors.js';
import { writeFileAtomic } from './io.js';
import { UserError } from './userError.js';

/** Writes checkpoint bytes atomically (temporary file + rename): a crash never leaves half a file. */
export function writeCheckpointFile(path: string, bytes: Uint8Array): void {
  writeFileAtomic(path, bytes);
}

/** Reads a checkpoint file's bytes; UserError for a missing file, a directory or an unreadable file. */
export function readCheckpointFile(path: string): Uint8Array {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(`checkpoint "${path}" does not exist`);
    throw new UserError(`cannot read checkpoint "${path}": ${(err as Error).message}`);
  }
  if (isDirectory) {
    const diffusers = ['model_index.json', 'diffusion_pytorch_model.safetensors', 'unet'].some((f) =>
      existsSync(join(path, f)),
    );
    throw new UserError(
      diffusers
        ? `checkpoint "${path}" is a diffusers folder; elbo reads its own single-file checkpoints (.safetensors from \`elbo train\`)`
        : `checkpoint "${path}" is a directory, not a checkpoint file`,
    );
  }
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new UserError(`cannot read checkpoint "${path}": permission denied`);
    }
    throw new UserError(`cannot read checkpoint "${path}": ${(err as Error).message}`);
  }
}

/** Reads and decodes a safetensors checkpoint; a corrupt file is a UserError naming the file. */
export function readSafetensorsFile(path: string): SafetensorsContents {
  const bytes = readCheckpointFile(path);
  try {
    return decodeSafetensors(bytes);
  } catch (err) {
    if (err instanceof FormatError) throw new UserError(`cannot load "${path}": ${err.message}`);
    throw err;
  }
}
