/**
 * Checkpoint files on disk: atomic writes and reads with errors the user can act on. The format itself
 * (safetensors) is pure and lives in src/checkpoint.
 */
import { readFileSync, statSync } from 'node:fs';
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
  if (isDirectory) throw new UserError(`checkpoint "${path}" is a directory, not a checkpoint file`);
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
    throw new UserError(`cannot load "${path}": ${(err as Error).message}`);
  }
}
