import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
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

  it('says when the file is missing, a directory or unreadable', () => {
    const missing = join(dir, 'nope.safetensors');
    expect(userErrorMessage(() => readCheckpointFile(missing))).toBe(
      `checkpoint "${missing}" does not exist`,
    );
    expect(userErrorMessage(() => readCheckpointFile(dir))).toBe(
      `checkpoint "${dir}" is a directory, not a checkpoint file`,
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
