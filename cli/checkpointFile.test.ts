import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeSafetensors } from '../src/checkpoint/safetensors.js';
import { readCheckpointFile, readSafetensorsFile, writeCheckpointFile } from './checkpointFile.js';
import { UserError } from './userError.js';

// Tests run as root here, so chmod cannot make a file unreadable: node:fs's readFileSync is wrapped to
// fail with EACCES for one file name, and passes everything else through.
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((path: unknown, ...rest: unknown[]) => {
    if (String(path).endsWith('locked.safetensors')) {
      throw Object.assign(new Error(`EACCES: permission denied, open '${String(path)}'`), { code: 'EACCES' });
    }
    return (fs.readFileSync as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readFileSync;
  // A full disk in folders named "full-disk": the temporary file gets half the bytes, then ENOSPC.
  const writeFileSync = ((path: unknown, data: Uint8Array | string, ...rest: unknown[]) => {
    if (String(path).includes('full-disk') && String(path).endsWith('.tmp')) {
      (fs.writeFileSync as (...a: unknown[]) => unknown)(path, data.slice(0, Math.floor(data.length / 2)));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    return (fs.writeFileSync as (...a: unknown[]) => unknown)(path, data, ...rest);
  }) as typeof fs.writeFileSync;
  return { ...fs, default: { ...fs, readFileSync, writeFileSync }, readFileSync, writeFileSync };
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elbo-ckpt-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function userErrorMessage(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('checkpoint files', () => {
  it('writes atomically (no temporary file left, parent folders created) and reads back the same bytes', () => {
    const bytes = encodeSafetensors(
      { w: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } },
      { step: '3' },
    );
    const path = join(dir, 'run', 'checkpoint.safetensors');
    writeCheckpointFile(path, bytes);
    writeCheckpointFile(path, bytes); // overwriting works too
    expect(readdirSync(join(dir, 'run'))).toEqual(['checkpoint.safetensors']);
    expect(Array.from(readCheckpointFile(path))).toEqual(Array.from(bytes));
    const decoded = readSafetensorsFile(path);
    expect(decoded.metadata).toEqual({ step: '3' });
    expect(decoded.tensors.w.data).toEqual(Float32Array.of(1, 2));
  });

  it('a write that fails half-way leaves the old checkpoint as it was and no temporary file', () => {
    const old = encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: Float32Array.of(7) } });
    const folder = join(dir, 'full-disk');
    mkdirSync(folder);
    const path = join(folder, 'checkpoint.safetensors');
    writeFileSync(path, old); // not through the atomic writer: the mock only fails temporary files
    const next = encodeSafetensors({ w: { dtype: 'F32', shape: [3], data: Float32Array.of(1, 2, 3) } });
    expect(userErrorMessage(() => writeCheckpointFile(path, next))).toMatch(/cannot write .*ENOSPC/);
    expect(readdirSync(folder)).toEqual(['checkpoint.safetensors']);
    expect(Array.from(readCheckpointFile(path))).toEqual(Array.from(old));
  });

  it('says when the file is missing, a directory or unreadable', () => {
    const missing = join(dir, 'nope.safetensors');
    expect(userErrorMessage(() => readCheckpointFile(missing))).toBe(
      `checkpoint "${missing}" does not exist`,
    );
    expect(userErrorMessage(() => readCheckpointFile(dir))).toBe(
      `checkpoint "${dir}" is a directory, not a checkpoint file`,
    );
    const diffusers = join(dir, 'pipeline');
    mkdirSync(join(diffusers, 'unet'), { recursive: true });
    expect(userErrorMessage(() => readCheckpointFile(diffusers))).toMatch(
      /is a diffusers folder; elbo reads its own single-file checkpoints/,
    );
    const locked = join(dir, 'locked.safetensors');
    writeFileSync(locked, 'x');
    expect(userErrorMessage(() => readCheckpointFile(locked))).toBe(
      `cannot read checkpoint "${locked}": permission denied`,
    );
  });

  it('names the file when its contents are not a valid checkpoint', () => {
    const bad = join(dir, 'truncated.safetensors');
    const bytes = encodeSafetensors({ w: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    writeFileSync(bad, bytes.subarray(0, bytes.length - 4));
    expect(userErrorMessage(() => readSafetensorsFile(bad))).toMatch(
      new RegExp(`^cannot load ".*truncated\\.safetensors": checkpoint is truncated or corrupt: tensor "w"`),
    );
  });
});
