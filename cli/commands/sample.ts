/**
 * `elbo sample --checkpoint FILE|DIR …`: draws samples from a DDPM — an elbo checkpoint or a diffusers folder, both
 * loaded by loadDiffusionModel (src/pipeline), no trainer — with the chosen sampler and writes a picture of them (a
 * PNG grid for images, an SVG scatter plot for 2-D data) and a denoising trajectory (x_t at chosen t for a few
 * samples). A VAE checkpoint gets its own pictures (cli/commands/sampleVae.ts).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { reverseVarianceOf } from '../../src/interop/diffusers/scheduler.js';
import type { DiffusionModel } from '../../src/pipeline/index.js';
import { lineChartSvg } from '../../src/plot/lineChart.js';
import {
  describeSampler,
  samplerTimesteps,
  SPACINGS,
  spacedTimesteps,
  type ReverseVariance,
  type SamplerConfig,
} from '../../src/samplers/index.js';
import { encodeNpy } from '../../src/data/npy.js';
import { assertNever } from '../../src/math/checks.js';
import { withEngine } from '../engine.js';
import { ensureWritableDir, writeFileAtomic } from '../io.js';
import { parseChoice, parseFloatOption, parseIntOption, refuseGivenOptions } from '../options.js';
import { imageGridPng, sampleGridPng, writeChart } from '../png.js';
import { UserError } from '../userError.js';
import { startProgress } from '../progress.js';
import { writeVaePictures } from './sampleVae.js';
import { describeModel, loadDiffusionModelAt, openModel } from '../modelSource.js';
import { withPathInErrors } from '../trainLoop.js';

export interface SamplerOptions {
  sampler: string;
  steps?: string;
  spacing: string;
  eta?: string;
  order?: string;
  variance?: string;
  clip: boolean;
  lastStepNoise?: boolean;
}

/**
 * The sampler config the options describe for a loaded model: its variance is the ancestral default — its own
 * Σ_θ when it learns it, else its fixed one (β̃_t for elbo checkpoints; a diffusers folder's variance_type).
 */
export function samplerForModel(o: SamplerOptions, model: DiffusionModel): SamplerConfig {
  const variance = reverseVarianceOf(model.variance);
  return variance === 'learned-range'
    ? samplerFromOptions(o, model.schedule.T, 'learned-range')
    : samplerFromOptions(o, model.schedule.T, 'fixed', variance);
}

/** The command-line sampler names. */
export const SAMPLER_NAMES = [
  'ddim',
  'ancestral',
  'clean',
  'dpmpp-2m',
  'dpmpp-3m',
  'dpmpp-2s',
  'dpmpp-2m-sde',
  'dpmpp-3m-sde',
  'unipc',
] as const;

/** Steps (= network calls) when --steps is not given: all T for the ancestral chains, else these. */
const DEFAULT_STEPS: Record<(typeof SAMPLER_NAMES)[number], number | 'T'> = {
  ancestral: 'T',
  clean: 'T',
  ddim: 100,
  'dpmpp-2m': 20,
  'dpmpp-3m': 20,
  'dpmpp-2s': 20,
  'dpmpp-2m-sde': 20,
  'dpmpp-3m-sde': 20,
  unipc: 20,
};

/** Adds the sampler-choice options shared by `sample` and `eval`. */
export function addSamplerOptions(cmd: Command, defaults: { sampler: string }): Command {
  return cmd
    .option(
      '--sampler <kind>',
      'ddim, ancestral (DDPM, respaced below T steps), clean (ancestral with x̂0 → posterior mean), ' +
        'dpmpp-2m, dpmpp-3m (DPM-Solver++ multistep), dpmpp-2s (single-step), dpmpp-2m-sde, dpmpp-3m-sde (the ' +
        'SDE variant) or unipc',
      defaults.sampler,
    )
    .option(
      '--steps <n>',
      'network calls per sample (default: T for ancestral/clean, 100 for ddim, 20 for the dpmpp-* and unipc)',
    )
    .option('--spacing <s>', 'how the steps spread over [0, T−1]: linspace, leading or trailing', 'trailing')
    .option('--eta <x>', 'ddim only: η (0 deterministic, 1 DDPM-like; default 0)')
    .option('--order <p>', 'unipc only: predictor order 1–3 (default 2)')
    .option(
      '--variance <v>',
      'ancestral/clean only: reverse variance β̃ ("posterior"), β ("beta") or the model\'s own ("learned-range"; ' +
        'the default for a model that learns it, else "posterior")',
    )
    .option('--clip', 'clip x̂0 to [−1, 1] at each step (images)', false)
    .option(
      '--last-step-noise',
      'ancestral/clean only: add σz on the last step too (default: return the mean)',
    );
}

/**
 * The sampler config the options describe; a flag that does not apply to the chosen sampler is an error.
 * `modelVariance` says whether the model learns its variances (then the ancestral default is its own Σ_θ);
 * `fixedDefault` is the ancestral default otherwise (β̃_t, or β_t for a diffusers folder with fixed_large).
 */
export function samplerFromOptions(
  o: SamplerOptions,
  T: number,
  modelVariance: 'fixed' | 'learned-range' = 'fixed',
  fixedDefault: 'posterior' | 'beta' = 'posterior',
): SamplerConfig {
  const kind = parseChoice('--sampler', o.sampler, SAMPLER_NAMES);
  const spacing = parseChoice('--spacing', o.spacing, SPACINGS);
  const onlyFor = (flag: string, value: string | undefined, kinds: readonly string[]) => {
    if (value !== undefined && !kinds.includes(kind))
      throw new UserError(
        `${flag} does not apply to --sampler ${kind} (only to ${kinds.join(', ')}); drop it`,
      );
  };
  onlyFor('--eta', o.eta, ['ddim']);
  onlyFor('--order', o.order, ['unipc']);
  onlyFor('--variance', o.variance, ['ancestral', 'clean']);
  onlyFor('--last-step-noise', o.lastStepNoise ? 'given' : undefined, ['ancestral', 'clean']);
  const fallback = DEFAULT_STEPS[kind];
  const steps =
    o.steps === undefined
      ? fallback === 'T'
        ? T
        : Math.min(fallback, T)
      : parseIntOption('--steps', o.steps, { min: 1, max: T });
  const timing = { steps, spacing };
  try {
    spacedTimesteps(T, steps, spacing);
  } catch (e) {
    throw new UserError(`--steps ${steps} --spacing ${spacing}: ${(e as Error).message}`);
  }
  switch (kind) {
    case 'ddim':
      return {
        kind,
        ...timing,
        eta: o.eta === undefined ? 0 : parseFloatOption('--eta', o.eta, { min: 0, max: 1 }),
        clip: o.clip,
      };
    case 'dpmpp-2s':
      return { kind: 'dpm-solver++', order: 2, singlestep: true, ...timing, clip: o.clip };
    case 'dpmpp-2m':
    case 'dpmpp-3m':
    case 'dpmpp-2m-sde':
    case 'dpmpp-3m-sde': {
      const order = kind.startsWith('dpmpp-2m') ? 2 : 3;
      return { kind: 'dpm-solver++', order, sde: kind.endsWith('-sde'), ...timing, clip: o.clip };
    }
    case 'unipc': {
      const order = o.order === undefined ? 2 : parseIntOption('--order', o.order, { min: 1, max: 3 });
      return { kind, order: order as 1 | 2 | 3, ...timing, clip: o.clip };
    }
    case 'ancestral':
    case 'clean':
      return {
        kind: 'ancestral',
        ...timing,
        variance: ancestralVariance(o.variance, modelVariance, fixedDefault),
        meanFrom: kind === 'clean' ? 'x0' : 'eps',
        clip: o.clip || kind === 'clean',
        lastStepNoise: o.lastStepNoise === true,
      };
    default:
      return assertNever(kind, '--sampler');
  }
}

/** --variance, checked against what the model has: only a model that learns Σ_θ can sample with it. */
function ancestralVariance(
  given: string | undefined,
  modelVariance: 'fixed' | 'learned-range',
  fixedDefault: 'posterior' | 'beta',
): ReverseVariance {
  const variance = parseChoice(
    '--variance',
    given ?? (modelVariance === 'learned-range' ? 'learned-range' : fixedDefault),
    ['posterior', 'beta', 'learned-range'] as const,
  );
  if (variance === 'learned-range' && modelVariance !== 'learned-range')
    throw new UserError(
      '--variance learned-range needs a model that learns its variances (train --objective hybrid|vlb)',
    );
  return variance;
}

/** The sampler options (commander attribute names); none applies to a VAE. */
export const SAMPLER_OPTION_NAMES = [
  'sampler',
  'steps',
  'spacing',
  'eta',
  'order',
  'variance',
  'clip',
  'lastStepNoise',
] as const;

interface SampleCommandOptions extends SamplerOptions {
  checkpoint: string;
  n: string;
  seed: string;
  out: string;
  threads?: string;
  raw: boolean;
  npy?: string;
}

export function registerSampleCommand(program: Command): void {
  const cmd = program
    .command('sample')
    .description(
      'draw samples from a trained DDPM or diffusers folder (a grid or scatter plot and a trajectory) or VAE ' +
        '(samples, reconstructions, interpolations, the 2-D manifold)',
    )
    .requiredOption(
      '--checkpoint <path>',
      'a checkpoint written by `elbo train ddpm` or `elbo train vae`, or a diffusers UNet2DModel folder',
    )
    .option('--n <count>', 'number of samples', '64')
    .option('--seed <n>', 'random seed of the sampler', '0')
    .option('--out <dir>', 'output directory', 'out/samples')
    .option('--threads <n>', 'engine threads (default: all cores)')
    .option('--raw', 'use the raw weights instead of the EMA weights', false)
    .option(
      '--npy <file>',
      'also write the samples as a float32 NumPy array [n, H, W, C] (images) or [n, D]',
    );
  addSamplerOptions(cmd, { sampler: 'ddim' }).action(async (o: SampleCommandOptions, command: Command) => {
    const n = parseIntOption('--n', o.n, { min: 1, max: 100000 });
    const seed = parseIntOption('--seed', o.seed);
    const threads =
      o.threads === undefined ? undefined : parseIntOption('--threads', o.threads, { min: 1, max: 64 });
    const opened = openModel(o.checkpoint);
    const weights = o.raw ? 'raw' : 'ema';
    if (opened.kind === 'vae') {
      const vae = opened.source;
      refuseGivenOptions(
        command,
        [...SAMPLER_OPTION_NAMES, 'npy'],
        'to a VAE checkpoint (it samples z from the prior)',
      );
      ensureWritableDir(o.out);
      const files = await writeVaePictures(
        { checkpoint: o.checkpoint, n, seed, out: o.out, threads, weights },
        vae,
      );
      process.stdout.write(
        `VAE ${o.checkpoint} (step ${vae.meta.step}, ${o.raw ? 'raw' : 'EMA'} weights): ${n} samples from the prior, ` +
          `reconstructions, interpolations${vae.meta.config.latentDim === 2 ? ', the 2-D manifold' : ''}\n` +
          files.map((f) => `wrote ${f}\n`).join(''),
      );
      return;
    }
    if (opened.kind === 'diffusers')
      refuseGivenOptions(command, ['raw'], 'to a diffusers folder (it holds one set of weights)');
    await withEngine(threads, (ctx) => {
      const model = loadDiffusionModelAt(ctx, o.checkpoint, opened, weights);
      try {
        const sampler = samplerForModel(o, model);
        ensureWritableDir(o.out);
        const { files, nfe } = drawAndWrite(model, n, seed, sampler, o.out, o.checkpoint, o.npy);
        const notes = [
          ...model.notes,
          ...(model.defaults.clip && !sampler.clip
            ? ['its scheduler sets clip_sample: add --clip to follow it']
            : []),
        ];
        process.stdout.write(
          notes.map((note) => `note: ${note}\n`).join('') +
            `${n} samples from ${describeModel(model, o.checkpoint, weights)}, ` +
            `${describeSampler(sampler)}: ${nfe} network calls per sample\n` +
            files.map((f) => `wrote ${f}\n`).join(''),
        );
      } finally {
        model.dispose();
      }
    });
  });
}

/**
 * UserError if sampling gave NaN or ±Inf (finite but huge weights can overflow the network): better than a
 * picture of clamped pixels or a plot of nothing.
 */
export function requireFinite(values: Float64Array, what: string, checkpoint: string): void {
  let bad = 0;
  for (const v of values) if (!Number.isFinite(v)) bad++;
  if (bad > 0)
    throw new UserError(
      `${bad} of the ${values.length} values of the ${what} are not finite: the weights of ${checkpoint} overflow (a damaged or diverged checkpoint?)`,
    );
}

/**
 * Draws n samples from a loaded model in batches of ≤ 64 (a progress bar on stderr) and writes the pictures — the
 * grid and the trajectory (x_t from x_T to x_0 of the first 8 samples) for images, a scatter plot for 2-D data —
 * and the .npy array if asked; returns the files written and the network calls per sample. Sampling errors (a
 * sampler the model cannot take) are UserErrors naming the checkpoint.
 */
export function drawAndWrite(
  model: DiffusionModel,
  n: number,
  seed: number,
  sampler: SamplerConfig,
  out: string,
  checkpoint: string,
  npy?: string,
): { files: string[]; nfe: number } {
  const { dataShape, dims } = model;
  const isImage = dataShape.length === 3;
  const steps = samplerTimesteps(model.schedule.T, sampler).length;
  const progress = startProgress('sample', Math.ceil(n / 64) * steps, 0, Math.max(1, Math.floor(steps / 4)));
  const {
    x: all,
    trajectory,
    nfe,
  } = withPathInErrors(checkpoint, () => {
    try {
      return model.sample({
        n,
        sampler,
        seed,
        recordTrajectory: isImage,
        onProgress: (done) => progress.update(done),
      });
    } finally {
      progress.stop();
    }
  });
  requireFinite(all, 'samples', checkpoint);
  const files: string[] = [];
  if (isImage) {
    const [h, w, c] = dataShape;
    const grid = join(out, 'samples.png');
    writeFileAtomic(grid, sampleGridPng(all, n, dataShape));
    files.push(grid);
    // Trajectory: rows = first 8 samples, columns = recorded timesteps from x_T to x_0 (the sample, key −1).
    const rows = Math.min(8, n);
    const keys = [...trajectory.keys()].sort((a, b) => (a === -1 ? 1 : b === -1 ? -1 : b - a));
    const strip = new Float32Array(rows * keys.length * dims);
    for (let r = 0; r < rows; r++) {
      keys.forEach((t, j) =>
        strip.set(trajectory.get(t)!.subarray(r * dims, (r + 1) * dims), (r * keys.length + j) * dims),
      );
    }
    const traj = join(out, 'trajectory.png');
    writeFileAtomic(traj, imageGridPng(strip, rows * keys.length, h, w, c, keys.length, 2, 2));
    files.push(traj);
  } else {
    const scatter = writeChart(
      join(out, 'samples'),
      lineChartSvg(
        [
          {
            name: `${n} samples`,
            x: all.filter((_, i) => i % 2 === 0),
            y: all.filter((_, i) => i % 2 === 1),
            points: true,
          },
        ],
        {
          title: `DDPM samples (${describeSampler(sampler)})`,
          xLabel: 'x₁',
          yLabel: 'x₂',
          width: 520,
          height: 520,
        },
      ),
    );
    files.push(...scatter);
  }
  if (npy) {
    writeFileAtomic(npy, encodeNpy(Float32Array.from(all), [n, ...dataShape]));
    files.push(npy);
  }
  return { files, nfe };
}
