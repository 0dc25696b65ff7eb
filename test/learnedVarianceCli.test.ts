/**
 * End-to-end: `elbo train ddpm --objective hybrid --init-from` grows a fixed-variance checkpoint into a
 * learned-variance one, records it in the config, logs its parts, and `elbo eval` bounds it with its own variances
 * (the compiled CLI: `npm run build` first). A tiny UNet on MNIST for a few steps.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTrainingState } from '../src/train/checkpoint.js';
import { runElbo, TINY_MNIST_TRAIN_ARGS } from './helpers/cli.js';

const elbo = (...args: string[]) => runElbo(args);
const tmp = () => mkdtempSync(join(tmpdir(), 'elbo-lv-'));
const common = TINY_MNIST_TRAIN_ARGS;

describe('elbo train ddpm --objective hybrid|vlb', () => {
  it('warm-starts a fixed-variance checkpoint, records the objective, and eval uses the learned variances', () => {
    const fixed = tmp();
    expect(elbo('train', 'ddpm', ...common, '--steps', '3', '--out', fixed).code).toBe(0);
    const grown = tmp();
    const train = elbo(
      'train',
      'ddpm',
      ...common,
      '--objective',
      'hybrid',
      '--vlb-weight',
      '0.01',
      '--steps',
      '3',
      '--log-every',
      '1',
      '--init-from',
      join(fixed, 'checkpoint.safetensors'),
      '--out',
      grown,
    );
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).toMatch(/new variance outputs, starting at σ² = β̃_t: conv_out_var/);
    const state = decodeTrainingState(
      new Uint8Array(readFileSync(join(grown, 'checkpoint.safetensors'))),
      'ddpm',
    );
    expect(state.meta.config.variance).toBe('learned-range');
    expect(state.meta.config.objective).toEqual({ kind: 'hybrid', vlbWeight: 0.01 });
    expect(state.tensors.get('ema.conv_out_var.bias')?.shape).toEqual([1]);
    const line = JSON.parse(readFileSync(join(grown, 'metrics.jsonl'), 'utf8').split('\n')[0]) as Record<
      string,
      number
    >;
    expect(Number.isFinite(line.mse) && Number.isFinite(line.vlb_bpd)).toBe(true);

    const e = tmp();
    const ev = elbo(
      'eval',
      '--checkpoint',
      join(grown, 'checkpoint.safetensors'),
      '--json',
      '--metrics',
      'nll,samples',
      '--samples',
      '4',
      '--fid-bootstrap',
      '0',
      '--steps',
      '3',
      '--nll-n',
      '4',
      '--nll-terms',
      '5',
      '--threads',
      '2',
      '--out',
      e,
    );
    expect(ev.code, ev.stderr).toBe(0);
    const r = JSON.parse(ev.stdout) as Record<string, unknown>;
    expect(r.variance).toMatch(/learned/);
    expect(r.nll_terms).toBe('5 stratified (log)');
    for (const key of ['nll_bpd', 'nll_bpd_se', 'prior_bpd', 'decoder_bpd', 'diffusion_bpd'])
      expect(Number.isFinite(r[key]), key).toBe(true);
    expect(r.nll_bpd as number).toBeCloseTo(
      (r.prior_bpd as number) + (r.decoder_bpd as number) + (r.diffusion_bpd as number),
      10,
    );
    expect(r.nll_n).toBe(4);
    const sample = elbo(
      'sample',
      '--checkpoint',
      join(grown, 'checkpoint.safetensors'),
      '--n',
      '2',
      '--steps',
      '3',
      '--threads',
      '2',
      '--out',
      e,
    );
    expect(sample.code, sample.stderr).toBe(0);
  });

  it('refuses options that do not fit the objective (exit 2, one line)', () => {
    const out = tmp();
    const weightWithoutHybrid = elbo(
      'train',
      'ddpm',
      ...common,
      '--steps',
      '1',
      '--vlb-weight',
      '0.1',
      '--out',
      out,
    );
    expect(weightWithoutHybrid.code).toBe(2);
    expect(weightWithoutHybrid.stderr).toMatch(/--vlb-weight is the λ of --objective hybrid/);
    const unknown = elbo('train', 'ddpm', ...common, '--steps', '1', '--objective', 'elbo', '--out', out);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--objective must be one of simple, hybrid, vlb/);
    const minSnrVlb = elbo(
      'train',
      'ddpm',
      ...common,
      '--steps',
      '1',
      '--objective',
      'vlb',
      '--min-snr',
      '5',
      '--out',
      out,
    );
    expect(minSnrVlb.code).toBe(2);
  });
});
