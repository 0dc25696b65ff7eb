/** File-system helpers for the CLI: atomic writes, clear errors for unwritable paths. */
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from './userError.js';

/** Creates a directory (and parents) or explains why it cannot. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UserError(
      `cannot create output directory "${dir}": ${(err as Error).message}. Choose another --out.`,
    );
  }
}

/**
 * Writes a file atomically: the bytes go to a temporary file in the same directory, which is then
 * renamed over the target. A crash leaves either the old file or the new one, never a partial file.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  ensureDir(dirname(path));
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file was never created
    }
    throw new UserError(`cannot write "${path}": ${(err as Error).message}`);
  }
}
