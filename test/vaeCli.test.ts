/**
 * End-to-end tests of `elbo train vae`, `elbo eval` and `elbo sample` on a VAE checkpoint (the compiled CLI:
 * `npm run build` first, as `npm test` does). A tiny MLP VAE on MNIST for a few steps, one engine thread.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTrainingState, encodeTrainingState } from '../src/train/checkpoint.js';
import { runElbo } from './helpers/cli.js';

const elbo = (...args: string[]) => runElbo(args);

const tmp = () => mkdtempSync(join(tmpdir(), 'elbo-vae-cli-'));
const tiny = [
  '--data',
  'mnist',
  '--hidden',
  '32',
  '--latent',
  '2',
  '--batch',
  '16',
  '--threads',
  '1',
  '--log-every',
  '2',
];

describe('elbo train vae / eval / sample', () => {
  it('N + resume + N equals 2N bit for bit; eval prints one JSON object; sample writes the pictures', () => {
    const a = tmp();
    const b = tmp();
    const full = elbo('train', 'vae', ...tiny, '--steps', '6', '--out', a);
    expect(full.code, full.stderr).toBe(0);
    expect(elbo('train', 'vae', ...tiny, '--steps', '3', '--out', b).code).toBe(0);
    const resumed = elbo(
      'train',
      'vae',
      ...['--threads', '1', '--log-every', '2'],
      '--steps',
      '6',
      '--out',
      b,
      '--resume',
      join(b, 'checkpoint.safetensors'),
    );
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming .* at step 3/);
    const sa = decodeTrainingState(new Uint8Array(readFileSync(join(a, 'checkpoint.safetensors'))), 'vae');
    const sb = decodeTrainingState(new Uint8Array(readFileSync(join(b, 'checkpoint.safetensors'))), 'vae');
    expect(sb.meta.kind).toBe('vae');
    expect(sb.meta.step).toBe(6);
    for (const [name, t] of sa.tensors) expect(sb.tensors.get(name)!.data, name).toEqual(t.data);
    expect(sb.meta.rng).toEqual(sa.meta.rng);
    // metrics.jsonl: the resumed run keeps steps 2 and 3 (the first run's last step) and adds 4 and 6.
    const steps = (dir: string) =>
      readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, number>);
    expect(steps(b).map((r) => r.step)).toEqual([2, 3, 4, 6]);
    expect(steps(b)[3].elbo).toBe(steps(a)[2].elbo);
    // The smoothed loss continues from the step-3 line instead of restarting at the first resumed step.
    expect(steps(b)[3].loss_ema).toBe(steps(a)[2].loss_ema);
    expect(Object.keys(steps(a)[0])).toEqual(
      expect.arrayContaining(['loss', 'elbo', 'reconstruction', 'kl', 'kl_weight', 'epoch']),
    );

    const ev = elbo(
      'eval',
      '--checkpoint',
      join(a, 'checkpoint.safetensors'),
      '--json',
      '--k',
      '20',
      '--n',
      '30',
      '--threads',
      '1',
    );
    expect(ev.code, ev.stderr).toBe(0);
    const r = JSON.parse(ev.stdout) as Record<string, number | string>;
    for (const key of [
      'elbo_nats',
      'elbo_se',
      'nll_nats',
      'nll_se',
      'reconstruction_nats',
      'kl_nats',
      'kl_se',
    ])
      expect(Number.isFinite(r[key]), key).toBe(true);
    expect(r.k).toBe(20);
    expect(r.n).toBe(30);
    expect(r.model).toBe('vae');
    expect(
      Math.abs((r.elbo_nats as number) - ((r.reconstruction_nats as number) - (r.kl_nats as number))),
    ).toBeLessThan(1e-9);
    // L_20 ≥ ELBO in expectation: the NLL estimate is at most −ELBO (plus noise).
    expect(r.nll_nats as number).toBeLessThan(-(r.elbo_nats as number) + 4 * (r.elbo_se as number));

    const s1 = tmp();
    const s2 = tmp();
    const args = [
      '--checkpoint',
      join(a, 'checkpoint.safetensors'),
      '--n',
      '16',
      '--seed',
      '3',
      '--threads',
      '1',
    ];
    const first = elbo('sample', ...args, '--out', s1);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/manifold/);
    expect(elbo('sample', ...args, '--out', s2).code).toBe(0);
    for (const f of ['samples.png', 'reconstructions.png', 'interpolations.png', 'manifold.png'])
      expect(readFileSync(join(s1, f)).equals(readFileSync(join(s2, f))), f).toBe(true);
  });
});

describe('bad input gets a clear message', () => {
  it('options, data and checkpoints', () => {
    const out = tmp();
    const expectError = (args: string[], pattern: RegExp) => {
      const r = elbo(...args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(pattern);
    };
    expectError(
      ['train', 'vae', '--data', 'two-moons', '--out', out],
      /trains on images .* "two-moons" is 2-D data/,
    );
    expectError(
      ['train', 'vae', '--likelihood', 'poisson', '--out', out],
      /--likelihood must be one of bernoulli, gaussian/,
    );
    expectError(
      ['train', 'vae', '--arch', 'conv', '--hidden', '8,8', '--out', out],
      /--hidden must be one width for conv/,
    );
    expectError(
      ['train', 'vae', '--likelihood', 'gaussian', '--binarize', 'dynamic', '--out', out],
      /--binarize dynamic goes with --likelihood bernoulli/,
    );
    expectError(['train', 'vae', '--latent', '0', '--out', out], /--latent must be ≥ 1, got 0/);
    expectError(['train', 'vae', '--data', 'cifar-99', '--steps', '1', '--out', out], /cifar-99/);
    // A DDPM checkpoint given to the VAE trainer (only its kind matters), and a missing one to eval.
    const ddpm = join(tmp(), 'ddpm.safetensors');
    writeFileSync(ddpm, encodeTrainingState({ tensors: new Map(), meta: { kind: 'ddpm' } }));
    expectError(
      ['train', 'vae', '--steps', '5', '--out', out, '--resume', ddpm],
      /expected a VAE checkpoint, but this is a DDPM checkpoint/,
    );
    expectError(
      ['eval', '--checkpoint', join(out, 'nope.safetensors'), '--json'],
      /nope\.safetensors" does not exist/,
    );
  });
});
