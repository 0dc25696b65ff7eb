/**
 * End-to-end tests of the `elbo` command (the compiled CLI: `npm run build` first, as `npm test` does).
 * Small runs only: 2-D data trains in seconds; the MNIST run is a few steps of a tiny UNet.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeSafetensors } from '../src/checkpoint/safetensors.js';
import { decodeNpy } from '../src/data/npy.js';
import { decodeTrainingState, encodeTrainingState } from '../src/train/checkpoint.js';
import { runElbo, TINY_MNIST_TRAIN_ARGS } from './helpers/cli.js';

const elbo = (...args: string[]) => runElbo(args);

const tmp = () => mkdtempSync(join(tmpdir(), 'elbo-cli-'));

describe('elbo train/sample/eval on 2-D data', () => {
  it('trains on two moons in seconds and its samples are close to fresh data', () => {
    const out = tmp();
    const train = elbo(
      'train',
      'ddpm',
      '--data',
      'two-moons',
      '--steps',
      '3000',
      '--batch',
      '256',
      '--lr',
      '2e-3',
      '--warmup',
      '100',
      '--diffusion-steps',
      '200',
      '--threads',
      '1',
      '--out',
      out,
    );
    expect(train.code, train.stderr).toBe(0);
    const ev = elbo(
      'eval',
      '--checkpoint',
      join(out, 'checkpoint.safetensors'),
      '--json',
      '--samples',
      '2000',
      '--nll-n',
      '256',
      '--steps',
      '50',
      '--threads',
      '1',
      '--out',
      out,
    );
    expect(ev.code, ev.stderr).toBe(0);
    const r = JSON.parse(ev.stdout) as Record<string, number>;
    console.info(
      `two moons: swd ${r.swd.toFixed(4)} (noise floor ${r.swd_noise_floor.toFixed(4)}), mmd ${r.mmd.toExponential(2)} (floor ${r.mmd_noise_floor.toExponential(2)}), nll ${r.nll_nats_per_dim.toFixed(3)} nats/dim`,
    );
    // Threshold: within twice the distance between two fresh data sets of the same size (the noise floor).
    // Measured here: swd 0.073 against a floor of 0.059 (seeded, so the run is reproducible).
    expect(r.swd).toBeLessThan(2 * r.swd_noise_floor);
    expect(Number.isFinite(r.nll_nats_per_dim)).toBe(true);
    const sample = elbo(
      'sample',
      '--checkpoint',
      join(out, 'checkpoint.safetensors'),
      '--n',
      '500',
      '--out',
      out,
      '--threads',
      '1',
    );
    expect(sample.code, sample.stderr).toBe(0);
    expect(readFileSync(join(out, 'samples.svg'), 'utf8')).toContain('<circle');
    // Every chart also comes as a PNG: the scatter plot, the loss curve and the per-timestep terms.
    for (const png of ['samples.png', 'loss.png', 'vlb-terms.png'])
      expect(readFileSync(join(out, png)).subarray(1, 4).toString(), png).toBe('PNG');
  });
});

describe('elbo on MNIST (a few steps of a tiny UNet)', () => {
  const common = TINY_MNIST_TRAIN_ARGS;

  it('save → load gives identical samples, and N + resume + N equals 2N bit for bit', () => {
    const a = tmp();
    const b = tmp();
    expect(elbo('train', 'ddpm', ...common, '--steps', '6', '--out', a).code).toBe(0);
    expect(elbo('train', 'ddpm', ...common, '--steps', '3', '--out', b).code).toBe(0);
    // A resumed run keeps its checkpoint's config: the config flags of `common` are refused with --resume.
    const resumed = elbo(
      'train',
      'ddpm',
      '--threads',
      '2',
      '--steps',
      '6',
      '--out',
      b,
      '--resume',
      join(b, 'checkpoint.safetensors'),
    );
    expect(resumed.code, resumed.stderr).toBe(0);
    const sa = decodeTrainingState(new Uint8Array(readFileSync(join(a, 'checkpoint.safetensors'))), 'ddpm');
    const sb = decodeTrainingState(new Uint8Array(readFileSync(join(b, 'checkpoint.safetensors'))), 'ddpm');
    expect(sb.meta.step).toBe(6);
    for (const [name, t] of sa.tensors) expect(sb.tensors.get(name)!.data, name).toEqual(t.data);
    expect(sb.meta.rng).toEqual(sa.meta.rng);

    const s1 = tmp();
    const s2 = tmp();
    const args = [
      '--checkpoint',
      join(a, 'checkpoint.safetensors'),
      '--n',
      '4',
      '--steps',
      '5',
      '--seed',
      '3',
      '--threads',
      '2',
    ];
    expect(elbo('sample', ...args, '--out', s1).code).toBe(0);
    expect(elbo('sample', ...args, '--out', s2).code).toBe(0);
    expect(readFileSync(join(s1, 'samples.png')).equals(readFileSync(join(s2, 'samples.png')))).toBe(true);
    expect(readFileSync(join(s1, 'trajectory.png')).length).toBeGreaterThan(100);
    // A fast solver, the samples as a NumPy array [n, H, W, C] any tool can read.
    const npy = join(s1, 'samples.npy');
    const fast = elbo('sample', ...args, '--sampler', 'dpmpp-2m', '--out', s1, '--npy', npy);
    expect(fast.code, fast.stderr).toBe(0);
    expect(fast.stdout).toMatch(/DPM-Solver\+\+\(2M\) \(5 steps, trailing\): 5 network calls per sample/);
    const array = decodeNpy(new Uint8Array(readFileSync(npy)));
    expect(array.shape).toEqual([4, 28, 28, 1]);
    expect(array.data.every(Number.isFinite)).toBe(true);
    expect(elbo('sample', ...args, '--sampler', 'dpmpp-3m', '--eta', '1', '--out', s1).stderr).toMatch(
      /--eta does not apply to --sampler dpmpp-3m \(only to ddim\)/,
    );
    expect(elbo('sample', ...args, '--sampler', 'unipc', '--last-step-noise', '--out', s1).stderr).toMatch(
      /--last-step-noise does not apply to --sampler unipc \(only to ancestral, clean\)/,
    );

    // The scripts' contract: one JSON object with the bound, the classifier's scores and how they were made.
    const e = tmp();
    const ev = elbo(
      'eval',
      '--checkpoint',
      join(a, 'checkpoint.safetensors'),
      '--json',
      '--samples',
      '12',
      '--fid-bootstrap',
      '5',
      '--steps',
      '4',
      '--nll-n',
      '2',
      '--nll-terms',
      '5',
      '--threads',
      '2',
      '--out',
      e,
    );
    expect(ev.code, ev.stderr).toBe(0);
    const r = JSON.parse(ev.stdout) as Record<string, unknown>;
    expect(r.nll_bpd).toBeGreaterThan(0);
    expect(r.nll_n).toBe(2);
    expect(r.recognised).toBeGreaterThanOrEqual(0);
    expect(r.recognised).toBeLessThanOrEqual(1);
    expect(r.class_histogram as number[]).toHaveLength(10);
    expect((r.class_histogram as number[]).reduce((s, v) => s + v, 0)).toBe(12);
    expect(r.class_min_share).toBe(Math.min(...(r.class_histogram as number[])) / 12);
    // The ceiling: the shipped classifier (99.26 % test accuracy) recognises most real test digits.
    expect(r.recognised_test_set).toBeGreaterThan(0.95);
    expect(r.recognised_test_set).toBeLessThanOrEqual(1);
    expect(Number.isFinite(r.fid_classifier)).toBe(true);
    expect(r.fid_classifier_sd).toBeGreaterThan(0);
    expect(r.fid_bootstrap_replicates).toBe(5);
    // The floor of 12 random real images against the rest of the test set, beside the samples' distance.
    expect(r.fid_real_floor).toBeGreaterThan(0);
    expect(r.fid_real_floor).toBeLessThan(r.fid_classifier as number);
    const oneReplicate = elbo(
      'eval',
      '--checkpoint',
      join(a, 'checkpoint.safetensors'),
      '--fid-bootstrap',
      '1',
    );
    expect(oneReplicate.stderr).toMatch(/--fid-bootstrap needs ≥ 2 replicates for a spread \(0 skips it\)/);
    expect([r.steps, r.n]).toEqual([4, 12]);
    expect(r.sampler).toBe('DDIM (4 steps, trailing, η = 0)');
    expect(r.nfe).toBe(4);
    expect(
      readFileSync(r.samples_png as string)
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    // The unrecognised samples' grid: as many as the recognised share leaves (all ≤ 100 of them).
    const missed = Math.round((1 - (r.recognised as number)) * 12);
    expect(r.unrecognised_shown).toBe(missed > 0 ? missed : undefined);
    if (missed > 0)
      expect(
        readFileSync(r.unrecognised_png as string)
          .subarray(1, 4)
          .toString(),
      ).toBe('PNG');
  });
});

describe('elbo train ddpm --init-from (warm start of a grown UNet)', () => {
  it('takes the trained weights, adds blocks that start as the identity, and refuses mismatched sizes', () => {
    const base = ['--data', 'mnist', '--batch', '4', '--diffusion-steps', '20', '--threads', '2'];
    const source = tmp();
    expect(elbo('train', 'ddpm', ...base, '--channels', '8,16', '--steps', '2', '--out', source).code).toBe(
      0,
    );
    const from = join(source, 'checkpoint.safetensors');
    const grown = tmp();
    const grow = ['--channels', '8,16', '--res-blocks', '1,2', '--attention', '1', '--init-from', from];
    const r = elbo('train', 'ddpm', ...base, ...grow, '--steps', '2', '--out', grown);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/new, starting as the identity: rb2_2, rb2_attn, up2_2, up2_attn/);
    const state = decodeTrainingState(
      new Uint8Array(readFileSync(join(grown, 'checkpoint.safetensors'))),
      'ddpm',
    );
    expect(state.meta.kind === 'ddpm' && state.meta.config).toMatchObject({
      model: { unet: { resBlocks: [1, 2], attentionLevels: [1] } },
      warmStart: { from, step: 2 },
    });
    expect(state.meta.step).toBe(2);

    const wider = elbo('train', 'ddpm', ...base, '--channels', '8,24', '--init-from', from, '--out', tmp());
    expect(wider.code).toBe(2);
    expect(wider.stderr).toMatch(/checkpoint\.safetensors: "rb2\.conv1\.weight" has shape/);
    expect(elbo('train', 'ddpm', ...base, '--res-blocks', '1', '--out', tmp()).stderr).toMatch(
      /--res-blocks needs one count per level of --channels \(2\), got "1"/,
    );
    expect(elbo('train', 'ddpm', ...base, '--attention', '2', '--out', tmp()).stderr).toMatch(
      /--attention must be ≤ 1, got 2/,
    );
    expect(
      elbo('train', 'ddpm', ...base, '--init-from', from, '--resume', from, '--out', tmp()).stderr,
    ).toMatch(/--resume and --init-from exclude each other/);
  });
});

describe('elbo train ddpm --anneal', () => {
  it('decays the learning rate linearly to 0 over the last n steps, also when added on --resume', () => {
    const dir = tmp();
    const base = ['--data', 'two-moons', '--batch', '16', '--diffusion-steps', '20', '--lr', '1e-3'];
    const opts = [...base, '--warmup', '0', '--log-every', '1', '--threads', '1', '--out', dir];
    expect(elbo('train', 'ddpm', ...opts, '--steps', '4').code).toBe(0);
    const r = elbo(
      'train',
      'ddpm',
      ...['--log-every', '1', '--threads', '1', '--out', dir],
      '--steps',
      '8',
      '--anneal',
      '4',
      '--resume',
      join(dir, 'checkpoint.safetensors'),
    );
    expect(r.code, r.stderr).toBe(0);
    const lr = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { step: number; lr: number });
    // The step logged as k (1-based) used the rate of 0-based step k − 1: lr·(8 − (k − 1))/4 once k − 1 ≥ 4.
    const at = (k: number) => lr.find((m) => m.step === k)!.lr;
    expect(at(4)).toBe(1e-3);
    expect(at(5)).toBe(1e-3);
    expect(at(6)).toBeCloseTo(0.75e-3, 12);
    expect(at(8)).toBeCloseTo(0.25e-3, 12);
    const state = decodeTrainingState(
      new Uint8Array(readFileSync(join(dir, 'checkpoint.safetensors'))),
      'ddpm',
    );
    expect(state.meta.kind === 'ddpm' && state.meta.config.lrDecay).toEqual({ start: 4, end: 8 });
  });
});

describe('elbo train ddpm --min-snr', () => {
  it('is recorded in the checkpoint and kept by --resume', () => {
    const dir = tmp();
    const opts = [...'--data two-moons --batch 16 --diffusion-steps 20 --threads 1'.split(' '), '--out', dir];
    expect(elbo('train', 'ddpm', ...opts, '--steps', '2', '--min-snr', '5').code).toBe(0);
    const checkpoint = join(dir, 'checkpoint.safetensors');
    const resumed = elbo('train', 'ddpm', '--steps', '3', '--resume', checkpoint, '--out', dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    const state = decodeTrainingState(new Uint8Array(readFileSync(checkpoint)), 'ddpm');
    expect(state.meta.step).toBe(3);
    expect(state.meta.kind === 'ddpm' && state.meta.config.lossWeighting).toEqual({
      kind: 'min-snr',
      gamma: 5,
    });
  });
});

describe('bad input gets a clear message and no partial files', () => {
  it('unknown dataset', () => {
    const r = elbo('train', 'ddpm', '--data', 'cifar-99', '--steps', '1', '--out', tmp());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cifar-99/);
    expect(r.stderr).toMatch(/mnist/);
  });

  it('bad option values', () => {
    expect(elbo('train', 'ddpm', '--prediction', 'noise', '--out', tmp()).stderr).toMatch(
      /--prediction must be one of eps, x0, v/,
    );
    expect(elbo('train', 'ddpm', '--steps', 'ten', '--out', tmp()).stderr).toMatch(
      /--steps must be an integer, got "ten"/,
    );
    expect(elbo('sample', '--checkpoint', 'x', '--sampler', 'euler').stderr).toMatch(/x|--sampler/);
    expect(elbo('train', 'ddpm', '--bogus').stderr).toMatch(/unknown option '--bogus'/);
    expect(elbo('train', 'ddpm', '--min-snr', '0', '--out', tmp()).stderr).toMatch(
      /--min-snr must be positive/,
    );
    expect(elbo('train', 'ddpm', '--min-snr', 'five', '--out', tmp()).stderr).toMatch(
      /--min-snr must be a finite number, got "five"/,
    );
    // Five levels would halve 28×28 MNIST to 1×1 in the middle: refused before anything is built or written.
    const deep = tmp();
    const args = ['--data', 'mnist', '--channels', '8,8,8,8,8', '--steps', '1', '--out', deep];
    const r = elbo('train', 'ddpm', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--channels 8,8,8,8,8: a UNet of 5 levels halves the 28×28 images 5 times, below 2×2/,
    );
    expect(r.stderr).toMatch(/give at most 4 channel counts/);
    expect(readdirSync(deep)).toEqual([]);
  });

  it('missing, truncated and foreign checkpoints', () => {
    const dir = tmp();
    expect(elbo('sample', '--checkpoint', join(dir, 'nope.safetensors')).stderr).toMatch(/nope\.safetensors/);
    const train = elbo(
      'train',
      'ddpm',
      '--data',
      'two-moons',
      '--steps',
      '5',
      '--diffusion-steps',
      '20',
      '--threads',
      '1',
      '--out',
      dir,
    );
    expect(train.code, train.stderr).toBe(0);
    const good = readFileSync(join(dir, 'checkpoint.safetensors'));
    writeFileSync(join(dir, 'truncated.safetensors'), good.subarray(0, good.length - 100));
    const truncated = elbo('sample', '--checkpoint', join(dir, 'truncated.safetensors'));
    expect(truncated.code).toBe(2);
    expect(truncated.stderr).toMatch(/truncated/);
    writeFileSync(
      join(dir, 'foreign.safetensors'),
      encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } }, {}),
    );
    expect(elbo('sample', '--checkpoint', join(dir, 'foreign.safetensors')).stderr).toMatch(
      /expected an elbo training checkpoint \(DDPM or VAE\), but this is a safetensors file that is not elbo's/,
    );
    // A checkpoint whose tensors do not fit its architecture (a smaller one: a larger one is refused on decoding,
    // for asking for more weights than the file holds).
    const state = decodeTrainingState(new Uint8Array(good), 'ddpm');
    const mlp = state.meta.config.model;
    if (mlp.kind !== 'mlp') throw new Error('expected an MLP');
    state.meta.config = {
      ...state.meta.config,
      model: { kind: 'mlp', mlp: { ...mlp.mlp, hidden: mlp.mlp.hidden - 8 } },
    };
    writeFileSync(join(dir, 'mismatch.safetensors'), encodeTrainingState(state));
    const mismatch = elbo('sample', '--checkpoint', join(dir, 'mismatch.safetensors'));
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/shape .* the model needs/);
  });

  it('an output path that cannot be written', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'file'), 'x');
    const r = elbo('train', 'ddpm', '--data', 'two-moons', '--steps', '1', '--out', join(dir, 'file', 'sub'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/".*file" \(the nearest existing parent of ".*sub"\) is a file, not a folder/);
  });
});
