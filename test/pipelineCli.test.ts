/**
 * `elbo sample` and `elbo eval` on one code path (loadDiffusionModel) for elbo checkpoints and diffusers folders:
 * a folder's eval scores samples too when --metrics asks (its bound unchanged: the samples' draws come after the
 * bound's), and flags that belong to one kind of source are refused for the other.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runElbo } from './helpers/cli.js';

const fixture = (p: string) => fileURLToPath(new URL(`./fixtures/diffusers-unet/${p}`, import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'elbo-pipeline-'));

describe('elbo sample/eval through loadDiffusionModel', () => {
  it("a diffusers folder's eval scores samples with --data's classifier when --metrics asks", () => {
    const folder = fixture('mnist-attn');
    const common = ['--data', 'mnist', '--nll-n', '2', '--nll-terms', '3', '--json', '--threads', '2'];
    const nll = runElbo(['eval', '--checkpoint', folder, ...common, '--out', tmp()]);
    expect(nll.code, nll.stderr).toBe(0);
    const bound = JSON.parse(nll.stdout) as Record<string, unknown>;
    expect(bound.recognised).toBeUndefined(); // a folder's default: the bound only
    const both = runElbo([
      'eval',
      '--checkpoint',
      folder,
      ...common,
      '--metrics',
      'nll,samples',
      '--samples',
      '4',
      '--steps',
      '2',
      '--fid-bootstrap',
      '0',
      '--out',
      tmp(),
    ]);
    expect(both.code, both.stderr).toBe(0);
    const r = JSON.parse(both.stdout) as Record<string, unknown>;
    expect(r.nll_bpd).toBe(bound.nll_bpd);
    expect([r.n, r.nfe, r.sampler]).toEqual([4, 2, 'DDIM (2 steps, trailing, η = 0)']);
    expect((r.class_histogram as number[]).reduce((s, v) => s + v, 0)).toBe(4);
    expect(r.recognised).toBeGreaterThanOrEqual(0);
  });

  it('refuses --raw for a folder and --data for an elbo checkpoint, one line each', () => {
    const raw = runElbo(['sample', '--checkpoint', fixture('mnist-attn'), '--raw', '--out', tmp()]);
    expect(raw.code).toBe(2);
    expect(raw.stderr).toMatch(/--raw does not apply to a diffusers folder/);
    const data = runElbo([
      'eval',
      '--checkpoint',
      fixture('elbo-trained/checkpoint.safetensors'),
      '--data',
      'mnist',
      '--out',
      tmp(),
    ]);
    expect(data.code).toBe(2);
    expect(data.stderr).toMatch(/--data does not apply to an elbo checkpoint \(it records the data set/);
    const noData = runElbo(['eval', '--checkpoint', fixture('mnist-attn'), '--out', tmp()]);
    expect(noData.code).toBe(2);
    expect(noData.stderr).toMatch(/is a diffusers folder: give the held-out data with --data/);
  });
});
