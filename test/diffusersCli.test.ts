/**
 * The CLI with diffusers folders: `elbo sample --checkpoint DIR` (a fixture folder), `elbo export --format
 * diffusers` of the elbo-trained fixture checkpoint and `elbo eval --checkpoint DIR --data mnist` on the export,
 * whose bound equals the checkpoint's own (same network, same seed, same held-out images); a learned-range folder
 * samples ancestrally with its Σ_θ; `--arch diffusers --objective hybrid` trains, exports as learned_range, and
 * its folder's bound is evaluated.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeNpy } from '../src/data/npy.js';
import { runElbo } from './helpers/cli.js';

const fixture = (p: string) => fileURLToPath(new URL(`./fixtures/diffusers-unet/${p}`, import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'elbo-diffusers-'));

describe('elbo CLI with diffusers folders', () => {
  it("sample --checkpoint DIR writes the grid, the trajectory and the .npy of the folder's image shape", () => {
    const out = tmp();
    const npy = join(out, 'x.npy');
    const r = runElbo([
      'sample',
      '--checkpoint',
      fixture('rgb-learned'),
      '--n',
      '4',
      '--steps',
      '10',
      '--sampler',
      'ddim',
      '--npy',
      npy,
      '--out',
      out,
      '--threads',
      '2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /4 samples from the diffusers folder .*learnedRange variance\), DDIM \(10 steps/,
    );
    expect(readdirSync(out).sort()).toEqual(['samples.png', 'trajectory.png', 'x.npy']);
    const x = decodeNpy(new Uint8Array(readFileSync(npy)));
    expect(x.shape).toEqual([4, 32, 32, 3]);
    expect(x.data.every(Number.isFinite)).toBe(true);
    /** Two ancestral steps of one sample from a folder (with extra flags). */
    const ancestralFrom = (dir: string, ...extra: string[]) =>
      runElbo([
        'sample',
        '--checkpoint',
        dir,
        '--n',
        '1',
        '--sampler',
        'ancestral',
        ...extra,
        '--steps',
        '2',
        '--out',
        out,
      ]);
    const ancestral = ancestralFrom(fixture('rgb-learned'));
    // A learned_range folder samples ancestrally with its own Σ_θ by default; a fixed-variance one cannot be asked to.
    expect(ancestral.code, ancestral.stderr).toBe(0);
    expect(ancestral.stdout).toMatch(/ancestral \(2 steps.*σ² = Σ_θ \(learned\)/);
    const fixed = ancestralFrom(fixture('mnist-attn'), '--variance', 'learned-range');
    expect(fixed.code).toBe(2);
    expect(fixed.stderr).toMatch(/--variance learned-range needs a model that learns its variances/);
    // A fixed_large folder samples ancestrally with β_t unless told otherwise.
    const large = tmp();
    for (const f of ['config.json', 'diffusion_pytorch_model.safetensors'])
      copyFileSync(fixture(`mnist-attn/${f}`), join(large, f));
    const sched = JSON.parse(readFileSync(fixture('mnist-attn/scheduler_config.json'), 'utf8')) as object;
    writeFileSync(
      join(large, 'scheduler_config.json'),
      JSON.stringify({ ...sched, variance_type: 'fixed_large' }),
    );
    const beta = ancestralFrom(large);
    expect(beta.code, beta.stderr).toBe(0);
    expect(beta.stdout).toMatch(/beta variance\), ancestral \(2 steps.*σ² = β_t,/);
  });

  it("export → eval: the exported folder has the checkpoint's bound; elbo's own UNet is refused", () => {
    const out = tmp();
    const checkpoint = fixture('elbo-trained/checkpoint.safetensors');
    const ex = runElbo(['export', '--checkpoint', checkpoint, '--format', 'diffusers', '--out', out]);
    expect(ex.code, ex.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'config.json',
      'diffusion_pytorch_model.safetensors',
      'scheduler_config.json',
    ]);
    // A second export into the same folder is refused unless --overwrite, and changes nothing.
    const before = readFileSync(join(out, 'config.json'));
    const again = runElbo(['export', '--checkpoint', checkpoint, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds config\.json.*--overwrite/);
    expect(readFileSync(join(out, 'config.json')).equals(before)).toBe(true);
    expect(runElbo(['export', '--checkpoint', checkpoint, '--out', out, '--overwrite']).code).toBe(0);
    const bound = (path: string, extra: string[]) => {
      const r = runElbo([
        'eval',
        '--checkpoint',
        path,
        ...extra,
        '--metrics',
        'nll',
        '--nll-n',
        '4',
        '--nll-terms',
        '20',
        '--json',
        '--threads',
        '2',
        '--out',
        tmp(),
      ]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { nll_bpd: number }).nll_bpd;
    };
    const viaFolder = bound(out, ['--data', 'mnist']);
    expect(viaFolder).toBeGreaterThan(0);
    expect(viaFolder).toBe(bound(checkpoint, []));
    const own = runElbo([
      'export',
      '--checkpoint',
      fileURLToPath(new URL('../checkpoints/mnist-ddpm.safetensors', import.meta.url)),
      '--out',
      tmp(),
    ]);
    expect(own.code).toBe(2);
    expect(own.stderr).toMatch(/no diffusers UNet2DModel equivalent/);
  });

  it('train --arch diffusers --objective hybrid → export: out_channels 2C, learned_range; eval reads Σ_θ', () => {
    const run = tmp();
    const train = runElbo([
      'train',
      'ddpm',
      '--data',
      'mnist',
      '--arch',
      'diffusers',
      '--channels',
      '8',
      '--objective',
      'hybrid',
      '--steps',
      '2',
      '--batch',
      '2',
      '--threads',
      '2',
      '--out',
      run,
    ]);
    expect(train.code, train.stderr).toBe(0);
    const out = tmp();
    const ex = runElbo(['export', '--checkpoint', join(run, 'checkpoint.safetensors'), '--out', out]);
    expect(ex.code, ex.stderr).toBe(0);
    const json = (f: string) => JSON.parse(readFileSync(join(out, f), 'utf8')) as Record<string, unknown>;
    expect([json('config.json').in_channels, json('config.json').out_channels]).toEqual([1, 2]);
    expect(json('scheduler_config.json').variance_type).toBe('learned_range');
    const ev = runElbo([
      'eval',
      '--checkpoint',
      out,
      '--data',
      'mnist',
      '--metrics',
      'nll',
      '--nll-n',
      '2',
      '--nll-terms',
      '4',
      '--json',
      '--threads',
      '2',
      '--out',
      tmp(),
    ]);
    expect(ev.code, ev.stderr).toBe(0);
    const r = JSON.parse(ev.stdout) as { nll_bpd: number; variance: string };
    expect(r.variance).toBe('Σ_θ (learned_range)');
    expect(r.nll_bpd).toBeGreaterThan(0);
  });
});
