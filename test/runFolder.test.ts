/**
 * The run folder is never replaced by accident and nothing is written before the inputs are checked (issue 19):
 * the compiled CLI on tiny 2-D runs and an 8×8 PNG folder.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeTrainingState, encodeTrainingState } from '../src/train/checkpoint.js';
import { runElbo } from './helpers/cli.js';

const elbo = (...args: string[]) => runElbo(args, 60_000);
const tmp = () => mkdtempSync(join(tmpdir(), 'elbo-run-'));
const moons = ['train', 'ddpm', '--data', 'two-moons', '--diffusion-steps', '20', '--threads', '1'];

describe('train refuses an --out that holds a checkpoint', () => {
  it('keeps the old run byte for byte; --resume continues it, --overwrite replaces it', () => {
    const out = tmp();
    expect(elbo(...moons, '--steps', '6', '--log-every', '1', '--out', out).code).toBe(0);
    const checkpoint = join(out, 'checkpoint.safetensors');
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f))]));
    const again = elbo(...moons, '--steps', '2', '--out', out);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a checkpoint .*--resume .*--overwrite/);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    for (const [f, bytes] of Object.entries(before)) expect(readFileSync(join(out, f)), f).toEqual(bytes);
    // The same run continued is fine; a different checkpoint resumed into this folder is not.
    const other = tmp();
    expect(elbo(...moons, '--steps', '2', '--out', other).code).toBe(0);
    const foreign = elbo(
      'train',
      'ddpm',
      '--steps',
      '3',
      '--resume',
      join(other, 'checkpoint.safetensors'),
      '--out',
      out,
    );
    expect(foreign.stderr).toMatch(/already holds a checkpoint/);
    expect(readFileSync(checkpoint)).toEqual(before['checkpoint.safetensors']);
    const resumed = elbo(
      'train',
      'ddpm',
      '--steps',
      '7',
      '--threads',
      '1',
      '--resume',
      checkpoint,
      '--out',
      out,
    );
    expect(resumed.code, resumed.stderr).toBe(0);
    const replaced = elbo(...moons, '--steps', '1', '--overwrite', '--out', out);
    expect(replaced.code, replaced.stderr).toBe(0);
    // One logged step: no plot, and the message does not claim one; the replaced run's plot is gone.
    expect(replaced.stderr).toMatch(/no loss plot/);
    expect(existsSync(join(out, 'loss.svg'))).toBe(false);
  });

  it('train classifier refuses an existing --out file unless --overwrite', () => {
    const out = join(tmp(), 'c.safetensors');
    writeFileSync(out, 'keep me');
    const r = elbo('train', 'classifier', '--data', 'mnist', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists; pass --overwrite/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
  });
});

describe('inputs are checked before anything is written', () => {
  it('--out /proc/nope fails at once instead of hanging', () => {
    for (const cmd of [
      [...moons, '--steps', '1'],
      ['sample', '--checkpoint', 'x'],
    ]) {
      const r = runElbo([...cmd, '--out', '/proc/nope'], 20_000);
      expect(r.code, r.stderr).toBe(2);
    }
  });

  it('sample and eval find an unwritable --out before sampling', () => {
    const dir = tmp();
    expect(elbo(...moons, '--steps', '2', '--out', dir).code).toBe(0);
    writeFileSync(join(dir, 'file'), 'x');
    const checkpoint = join(dir, 'checkpoint.safetensors');
    for (const cmd of ['sample', 'eval']) {
      const r = elbo(cmd, '--checkpoint', checkpoint, '--out', join(dir, 'file', 'sub'));
      expect(r.code, cmd).toBe(2);
      expect(r.stderr, cmd).toMatch(/is a file, not a folder|cannot create output directory/);
    }
  });

  it('a batch larger than a PNG folder: one line, exit 2, no config.json', () => {
    const data = tmp();
    for (let i = 0; i < 30; i++) {
      const png = new PNG({ width: 8, height: 8 });
      png.data.fill(8 * i);
      writeFileSync(join(data, `${String(i).padStart(2, '0')}.png`), PNG.sync.write(png));
    }
    for (const kind of ['ddpm', 'vae']) {
      const out = join(tmp(), 'run');
      const extra = kind === 'ddpm' ? ['--channels', '8'] : ['--hidden', '8', '--latent', '2'];
      const r = elbo('train', kind, '--data', data, ...extra, '--batch', '64', '--steps', '1', '--out', out);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--batch 64 is larger than the 27 training images/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('a missing data folder is named as such; config flags with --resume are refused', () => {
    const out = tmp();
    const r = elbo('train', 'ddpm', '--data', join(out, 'no-such-folder'), '--out', join(out, 'run'));
    expect(r.stderr).toMatch(/the data folder ".*no-such-folder" does not exist/);
    mkdirSync(join(out, 'run'));
    expect(elbo(...moons, '--steps', '2', '--out', join(out, 'run')).code).toBe(0);
    const checkpoint = join(out, 'run', 'checkpoint.safetensors');
    const resumed = elbo(
      'train',
      'ddpm',
      '--data',
      'mnist',
      '--steps',
      '3',
      '--resume',
      checkpoint,
      '--out',
      join(out, 'run'),
    );
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toMatch(/--data does not apply with --resume/);
  });
});

describe('flags that do not apply are errors, not silence', () => {
  it('names the flag and what it does not apply to', () => {
    const dir = tmp();
    expect(elbo(...moons, '--steps', '2', '--out', dir).code).toBe(0);
    const ddpm = join(dir, 'checkpoint.safetensors');
    const vae = 'checkpoints/mnist-vae.safetensors';
    const cases: [string[], RegExp][] = [
      [['eval', '--checkpoint', ddpm, '--k', '5', '--n', '3'], /--k, --n do not apply to a DDPM checkpoint/],
      [['eval', '--checkpoint', ddpm, '--classifier', vae], /--classifier does not apply to 2-D data/],
      [
        ['sample', '--checkpoint', ddpm, '--sampler', 'ancestral', '--eta', '1'],
        /--eta does not apply to --sampler ancestral/,
      ],
      [['sample', '--checkpoint', ddpm, '--variance', 'beta'], /--variance does not apply to --sampler ddim/],
      [['sample', '--checkpoint', vae, '--steps', '3'], /--steps does not apply to a VAE checkpoint/],
      [
        ['eval', '--checkpoint', vae, '--sampler', 'ddim', '--eta', '1'],
        /--sampler, --eta do not apply to a VAE checkpoint/,
      ],
      [
        ['eval', '--checkpoint', ddpm, '--metrics', 'nll', '--samples', '9'],
        /--samples does not apply without the samples metric/,
      ],
      [
        ['sample', '--checkpoint', 'checkpoints/mnist-classifier.safetensors'],
        /expected an elbo training checkpoint \(DDPM or VAE\), but this is an elbo classifier checkpoint/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = elbo(...args, '--out', join(dir, 'o'));
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});

describe('the NaN guard tells the truth about checkpoints', () => {
  it('on --resume, says the checkpoint resumed from is unchanged (no "last good checkpoint" that does not exist)', () => {
    const dir = tmp();
    expect(elbo(...moons, '--steps', '2', '--out', dir).code).toBe(0);
    const state = decodeTrainingState(readFileSync(join(dir, 'checkpoint.safetensors')), 'ddpm');
    // Finite but enormous weights: the next loss overflows.
    for (const [name, t] of state.tensors)
      if (name.startsWith('model.')) t.data.forEach((v, i) => (t.data[i] = v * 1e30));
    const huge = join(dir, 'huge.safetensors');
    writeFileSync(huge, encodeTrainingState(state));
    const out = join(dir, 'resumed');
    const r = elbo('train', 'ddpm', '--resume', huge, '--steps', '3', '--threads', '1', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /training diverged at step 3: .* is not finite; the checkpoint resumed from \(step 2\) is unchanged/,
    );
    expect(readdirSync(out)).toEqual([]); // not even config.json: it is written with the first checkpoint
  });
});
