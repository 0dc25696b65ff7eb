/**
 * `elbo sample --checkpoint FILE …`: draws samples from a trained DDPM with the chosen sampler and writes a
 * picture of them (a PNG grid for images, an SVG scatter plot for 2-D data) and a denoising trajectory
 * (x_t at chosen t for a few samples). A VAE checkpoint gets its own pictures (cli/commands/sampleVae.ts).
 */
import { meanOutputs } from '../../src/diffusion/learnedVariance.js';
import { join } from 'node:path';
import type { Command } from 'commander';
import { lineChartSvg } from '../../src/plot/lineChart.js';
import { Rng } from '../../src/random/rng.js';
import { sample } from '../../src/samplers/index.js';
import { describeSampler, type SamplerConfig } from '../../src/samplers/types.js';
import { DdpmTrainer } from '../../src/train/ddpm.js';
import { withEngine } from '../engine.js';
import { writeFileAtomic } from '../io.js';
import { parseChoice, parseFloatOption, parseIntOption } from '../options.js';
import { imageGridPng, sampleGridPng, writeChart } from '../png.js';
import { startProgress } from '../progress.js';
import { decodeCheckpointOrExplain, restoreOrExplain } from './train.js';
import type { VaeTrainingState } from '../../src/vae/trainer.js';
import { checkpointKind } from '../trainLoop.js';
import { writeVaePictures } from './sampleVae.js';

export interface SamplerOptions {
  sampler: string;
  steps?: string;
  eta: string;
  variance: string;
  clip: boolean;
}

const DEFAULT_DDIM_STEPS = 100;

/** Adds the sampler-choice options shared by `sample` and `eval`. */
export function addSamplerOptions(cmd: Command, defaults: { sampler: string; steps: string }): Command {
  return cmd
    .option(
      '--sampler <kind>',
      'ancestral (all T steps), clean (x̂0 → posterior, all T steps) or ddim',
      defaults.sampler,
    )
    .option('--steps <n>', `DDIM: number of respaced steps (default: min(${defaults.steps}, T))`)
    .option('--eta <x>', 'DDIM: η (0 deterministic, 1 DDPM-like)', '0')
    .option('--variance <v>', 'ancestral/clean: reverse variance β̃ ("posterior") or β ("beta")', 'posterior')
    .option('--clip', 'clip x̂0 to [−1, 1] at each step (images)', false);
}

export function samplerFromOptions(o: SamplerOptions, T: number): SamplerConfig {
  const kind = parseChoice('--sampler', o.sampler, ['ancestral', 'clean', 'ddim'] as const);
  const variance = parseChoice('--variance', o.variance, ['posterior', 'beta'] as const);
  if (kind === 'ddim') {
    return {
      kind: 'ddim',
      steps:
        o.steps === undefined
          ? Math.min(DEFAULT_DDIM_STEPS, T)
          : parseIntOption('--steps', o.steps, { min: 1, max: T }),
      eta: parseFloatOption('--eta', o.eta, { min: 0, max: 1 }),
      clip: o.clip,
    };
  }
  return {
    kind: 'ancestral',
    variance,
    meanFrom: kind === 'clean' ? 'x0' : 'eps',
    clip: o.clip || kind === 'clean',
  };
}

interface SampleCommandOptions extends SamplerOptions {
  checkpoint: string;
  n: string;
  seed: string;
  out: string;
  threads?: string;
  raw: boolean;
}

export function registerSampleCommand(program: Command): void {
  const cmd = program
    .command('sample')
    .description(
      'draw samples from a trained DDPM (a grid or scatter plot and a trajectory) or VAE (samples, ' +
        'reconstructions, interpolations, the 2-D manifold)',
    )
    .requiredOption('--checkpoint <file>', 'a checkpoint written by `elbo train ddpm` or `elbo train vae`')
    .option('--n <count>', 'number of samples', '64')
    .option('--seed <n>', 'random seed of the sampler', '0')
    .option('--out <dir>', 'output directory', 'out/samples')
    .option('--threads <n>', 'engine threads (default: all cores)')
    .option('--raw', 'use the raw weights instead of the EMA weights', false);
  addSamplerOptions(cmd, { sampler: 'ddim', steps: '100' }).action(async (o: SampleCommandOptions) => {
    const state = decodeCheckpointOrExplain(o.checkpoint);
    const n = parseIntOption('--n', o.n, { min: 1, max: 100000 });
    const seed = parseIntOption('--seed', o.seed);
    const threads =
      o.threads === undefined ? undefined : parseIntOption('--threads', o.threads, { min: 1, max: 64 });
    if (checkpointKind(state) === 'vae') {
      const vae = state as unknown as VaeTrainingState;
      const files = await writeVaePictures(
        { checkpoint: o.checkpoint, n, seed, out: o.out, threads, raw: o.raw },
        vae,
      );
      process.stdout.write(
        `VAE ${o.checkpoint} (step ${vae.meta.step}, ${o.raw ? 'raw' : 'EMA'} weights): ${n} samples from the prior, ` +
          `reconstructions, interpolations${vae.meta.config.latentDim === 2 ? ', the 2-D manifold' : ''}\n` +
          files.map((f) => `wrote ${f}\n`).join(''),
      );
      return;
    }
    const sampler = samplerFromOptions(o, state.meta.config.T);
    await withEngine(threads, async (ctx) => {
      const trainer = restoreOrExplain(ctx, o.checkpoint, state, null);
      const files = drawAndWrite(trainer, n, seed, sampler, o.out, !o.raw);
      process.stdout.write(
        `${n} samples from ${o.checkpoint} (step ${trainer.step}, ${o.raw ? 'raw' : 'EMA'} weights), ${describeSampler(sampler)}\n` +
          files.map((f) => `wrote ${f}\n`).join(''),
      );
    });
  });
}

/** Samples in batches of ≤ 64 and writes the pictures; returns the files written. */
export function drawAndWrite(
  trainer: DdpmTrainer,
  n: number,
  seed: number,
  sampler: SamplerConfig,
  out: string,
  ema: boolean,
): string[] {
  const { config, schedule } = trainer;
  const dims = config.dataShape.reduce((a, b) => a * b, 1);
  const rng = Rng.fromSeed(seed);
  // The samplers here use fixed variances (DDIM ignores Σ_θ): they see a learned model's mean outputs.
  const model =
    config.variance === 'learned-range' ? meanOutputs(trainer.batchModel(ema)) : trainer.batchModel(ema);
  const T = schedule.T;
  const recordAt = [T, ...[0.8, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05].map((f) => Math.round(f * T)), -1];
  const all = new Float64Array(n * dims);
  let trajectory: Map<number, Float64Array> | null = null;
  const batch = 64;
  const batches = Math.ceil(n / batch);
  const stepsPerBatch = sampler.kind === 'ddim' ? sampler.steps : T;
  const progress = startProgress(
    'sample',
    batches * stepsPerBatch,
    0,
    Math.max(1, Math.floor(stepsPerBatch / 4)),
  );
  for (let b = 0; b < batches; b++) {
    const size = Math.min(batch, n - b * batch);
    const r = sample(schedule, model, size, dims, rng, {
      prediction: config.prediction,
      sampler,
      recordAt: b === 0 ? recordAt : [],
      onStep: (done) => progress.update(b * stepsPerBatch + done),
    });
    all.set(r.x, b * batch * dims);
    if (b === 0) trajectory = r.trajectory;
  }
  progress.stop();
  const files: string[] = [];
  if (config.dataShape.length === 3) {
    const [h, w, c] = config.dataShape;
    const grid = join(out, 'samples.png');
    writeFileAtomic(grid, sampleGridPng(all, n, config.dataShape));
    files.push(grid);
    // Trajectory: rows = first 8 samples, columns = recorded timesteps from x_T to x_0.
    const rows = Math.min(8, n);
    const keys = recordAt.filter((t) => trajectory!.has(t));
    const strip = new Float32Array(rows * keys.length * dims);
    for (let r = 0; r < rows; r++) {
      keys.forEach((t, j) =>
        strip.set(trajectory!.get(t)!.subarray(r * dims, (r + 1) * dims), (r * keys.length + j) * dims),
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
  return files;
}
