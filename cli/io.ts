/** File-system helpers for the CLI: atomic writes, clear errors for unwritable paths. */
import { accessSync, constants, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from './userError.js';

/** The deepest existing path on the way from `path` to the root, and the missing parts below it (top first). */
function existingAncestor(path: string): { existing: string; missing: string[] } {
  const missing: string[] = [];
  let p = resolve(path);
  for (;;) {
    try {
      statSync(p);
      return { existing: p, missing: missing.reverse() };
    } catch {
      const parent = dirname(p);
      if (parent === p) return { existing: p, missing: missing.reverse() };
      missing.push(p);
      p = parent;
    }
  }
}

/**
 * Checks, without writing anything, that `dir` exists as a writable directory or could be created: its deepest
 * existing ancestor must be a directory we may write to. UserError naming the option otherwise.
 */
export function checkDirCreatable(dir: string, flag = '--out'): void {
  const { existing, missing } = existingAncestor(dir);
  const where = missing.length === 0 ? `"${dir}"` : `"${existing}" (the nearest existing parent of "${dir}")`;
  if (!statSync(existing).isDirectory())
    throw new UserError(`${flag} ${dir}: ${where} is a file, not a folder. Choose another ${flag}.`);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw new UserError(`${flag} ${dir}: ${where} is not writable. Choose another ${flag}.`);
  }
}

/**
 * Creates a directory (and parents) or explains why it cannot. One level at a time: Node's
 * `mkdirSync(…, { recursive: true })` loops forever on paths such as /proc/nope (ENOENT from a parent that
 * exists), which made `--out /proc/nope` hang.
 */
export function ensureDir(dir: string): void {
  const { existing, missing } = existingAncestor(dir);
  const fail = (msg: string): never => {
    throw new UserError(`cannot create output directory "${dir}": ${msg}. Choose another --out.`);
  };
  if (!statSync(existing).isDirectory()) fail(`"${existing}" is a file`);
  for (const p of missing) {
    try {
      mkdirSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fail((err as Error).message);
    }
  }
}

/**
 * Creates `dir` and proves it writable by writing and removing a small file, so that a command finds out
 * before its work, not after (UserError naming the folder).
 */
export function ensureWritableDir(dir: string): void {
  ensureDir(dir);
  const probe = join(dir, `.elbo-probe-${process.pid}.tmp`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (err) {
    throw new UserError(`cannot write into "${dir}": ${(err as Error).message}. Choose another --out.`);
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
