/**
 * `elbo eval --checkpoint FILE|DIR [--json]`: evaluates a DDPM — an elbo checkpoint, or a diffusers folder with
 * held-out data named by --data — loaded by loadDiffusionModel (src/pipeline), no trainer:
 *   - the negative ELBO in bits per dimension on held-out data, the full chain (prior KL, every L_{t−1},
 *     discretized decoder L_0) or K stratified timesteps (unbiased for the same sum), with its standard error and
 *     a plot of the per-timestep terms; a learned-variance model is bounded with its own Σ_θ ([ND21] eq. 15);
 *   - images: samples scored by elbo's shipped classifier (share recognised with confidence ≥ 0.9, class
 *     histogram, Fréchet distance of its penultimate features to the test set's), the first 100 as a grid, and
 *     up to 100 of those it does not recognise as another (unrecognised.png);
 *   - 2-D data: sliced Wasserstein distance and MMD of samples to fresh data, with the same distances between
 *     two fresh data sets as the noise floor.
 * A diffusers folder gets the bound only unless --metrics asks for samples (scored by the classifier of --data).
 * A VAE checkpoint (meta.kind 'vae') goes to cli/commands/evalVae.ts: test ELBO and the IWAE bound L_k (--k, --n).
 * With --json, stdout is exactly one JSON object (progress goes to stderr).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isToy2dName, mmdRbf, slicedWasserstein2d, toy2d } from '../../src/data/toy2d.js';
import { nllBatches, parseStrataSpacing, type StrataSpacing } from '../../src/diffusion/vlb.js';
import { assertNever } from '../../src/math/checks.js';
import { natsToBitsPerDim } from '../../src/math/units.js';
import { lineChartSvg } from '../../src/plot/lineChart.js';
import { Rng } from '../../src/random/rng.js';
import { describeSampler, type ReverseVariance, samplerTimesteps } from '../../src/samplers/index.js';
import type { Context } from '../../src/tensor/tensor.js';
import { loadDataset } from '../data.js';
import { withEngine } from '../engine.js';
import { ensureWritableDir, writeFileAtomic } from '../io.js';
import { sampleGridPng, writeChart } from '../png.js';
import { parseIntOption, refuseGivenOptions } from '../options.js';
import { startProgress } from '../progress.js';
import { UserError } from '../userError.js';
import { loadClassifierOrExplain, scoreWithClassifier } from '../classifierScore.js';
import {
  addSamplerOptions,
  requireFinite,
  SAMPLER_OPTION_NAMES,
  type SamplerOptions,
  samplerForModel,
} from './sample.js';
import { evaluateVaeCheckpoint, type VaeEvalOptions } from './evalVae.js';
import { loadDiffusionModelAt, openModel } from '../modelSource.js';
import { withPathInErrors } from '../trainLoop.js';

interface EvalOptions extends SamplerOptions, Omit<VaeEvalOptions, 'seed' | 'threads' | 'checkpoint'> {
  checkpoint: string;
  data?: string;
  json: boolean;
  nllN: string;
  nllTerms: string;
  nllVariance?: string;
  nllSpacing: string;
  samples: string;
  classifier?: string;
  fidBootstrap: string;
  seed: string;
  threads?: string;
  out: string;
  metrics: string;
}

export function registerEvalCommand(program: Command): void {
  const cmd = program
    .command('eval')
    .description(
      'evaluate a trained model — DDPM: test-set bits/dim (full variational bound) and sample quality; ' +
        'VAE: test-set ELBO and importance-weighted NLL (nats)',
    )
    .requiredOption(
      '--checkpoint <path>',
      'a checkpoint written by `elbo train ddpm` or `elbo train vae`, or a diffusers UNet2DModel folder',
    )
    .option(
      '--data <name|dir>',
      'a diffusers folder as --checkpoint: its held-out data (mnist, fashion-mnist or a PNG folder); the bound ' +
        'only, unless --metrics asks for samples',
    )
    .option('--json', 'print one JSON object on stdout', false)
    .option('--metrics <list>', 'which metrics: nll, samples, or nll,samples', 'nll,samples')
    .option('--nll-n <count>', 'held-out examples for the bound', '64')
    .option(
      '--nll-terms <all|K>',
      'L_{t−1} terms: all T−1, or K stratified random timesteps (unbiased; K + 1 network calls per image ' +
        'instead of T; the standard error then comes from the spread between batches)',
      'all',
    )
    .option(
      '--nll-spacing <s>',
      'strata for --nll-terms K: log (single timesteps first, wider blocks later, where the terms are small; ' +
        '~10× less noisy on Gaussian data) or uniform',
      'log',
    )
    .option(
      '--nll-variance <v>',
      "σ_t² in the bound: model (a learned-variance model's own Σ_θ), posterior (β̃_t) or beta (β_t) " +
        '(default: model for learned-variance checkpoints, posterior otherwise)',
    )
    .option('--samples <count>', 'samples to score', '1000')
    .option(
      '--classifier <file>',
      'classifier checkpoint for image scores (default: the shipped one for the dataset)',
    )
    .option(
      '--fid-bootstrap <reps>',
      "resampled sample sets for the FID's bootstrap standard error fid_classifier_sd (0: skip)",
      '50',
    )
    .option('--seed <n>', 'random seed', '0')
    .option('--threads <n>', 'engine threads (default: all cores)')
    .option('--out <dir>', 'directory for the per-timestep plot', 'out/eval')
    .option('--k <samples>', 'VAE: importance samples per test image for the NLL bound L_k', '5000')
    .option('--n <count>', 'VAE: test images (default: the whole test set)')
    .option('--rows <n>', 'VAE: decoder rows (samples) per engine pass', '2000');
  addSamplerOptions(cmd, { sampler: 'ddim' }).action(async (o: EvalOptions, command: Command) => {
    const result = await evaluate(o, command);
    if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else
      for (const [k, v] of Object.entries(result))
        process.stdout.write(`${k.padEnd(22)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
  });
}

/** DDPM-only options of eval (commander attribute names). */
const DDPM_EVAL_OPTIONS = [
  'metrics',
  'nllN',
  'nllTerms',
  'nllSpacing',
  'nllVariance',
  'samples',
  'classifier',
  'fidBootstrap',
  'out',
  'data',
];
const SAMPLE_METRIC_OPTIONS = ['samples', 'classifier', 'fidBootstrap', ...SAMPLER_OPTION_NAMES];

/** σ_t² of the bound's terms, as the result names it (a diffusers folder's also by its variance_type). */
function describeBoundVariance(v: ReverseVariance, folder: boolean): string {
  switch (v) {
    case 'learned-range':
      return folder ? 'Σ_θ (learned_range)' : 'learned (Σ_θ, Nichol & Dhariwal eq. 15)';
    case 'beta':
      return folder ? 'β_t (fixed_large)' : 'β_t';
    case 'posterior':
      return folder ? 'posterior (β̃_t, fixed_small)' : 'posterior (β̃_t)';
    default:
      return assertNever(v, 'variance');
  }
}

async function evaluate(o: EvalOptions, command: Command): Promise<Record<string, unknown>> {
  const opened = openModel(o.checkpoint);
  if (opened.kind === 'vae') {
    refuseGivenOptions(command, [...DDPM_EVAL_OPTIONS, ...SAMPLER_OPTION_NAMES], 'to a VAE checkpoint');
    return evaluateVaeCheckpoint(o, opened.source);
  }
  refuseGivenOptions(command, ['k', 'n', 'rows'], "to a DDPM checkpoint (they are the VAE bound's)");
  const folder = opened.kind === 'diffusers';
  if (folder && !o.data)
    throw new UserError(
      `${o.checkpoint} is a diffusers folder: give the held-out data with --data (mnist, fashion-mnist or a PNG folder)`,
    );
  if (!folder)
    refuseGivenOptions(
      command,
      ['data'],
      'to an elbo checkpoint (it records the data set it was trained on)',
    );
  // A diffusers folder is bounded only unless --metrics asks for samples too (scored with --data's classifier).
  const metricsGiven = folder && command.getOptionValueSource('metrics') !== 'cli' ? 'nll' : o.metrics;
  const metrics = new Set(metricsGiven.split(',').map((m) => m.trim()));
  for (const m of metrics)
    if (m !== 'nll' && m !== 'samples')
      throw new UserError(`--metrics: unknown metric "${m}" (use nll, samples)`);
  if (!metrics.has('samples'))
    refuseGivenOptions(command, SAMPLE_METRIC_OPTIONS, 'without the samples metric (--metrics)');
  if (!metrics.has('nll'))
    refuseGivenOptions(command, ['nllN', 'nllTerms'], 'without the nll metric (--metrics)');
  const config = opened.kind === 'ddpm' ? opened.source.meta.config : null;
  const dataset = config ? config.dataset : o.data!;
  const isImage = !config || config.dataShape.length === 3;
  if (!isImage)
    refuseGivenOptions(command, ['classifier', 'fidBootstrap'], 'to 2-D data (the classifier scores images)');
  const seed = parseIntOption('--seed', o.seed);
  const fidBootstrap = parseIntOption('--fid-bootstrap', o.fidBootstrap, { min: 0, max: 10000 });
  if (fidBootstrap === 1)
    throw new UserError('--fid-bootstrap needs ≥ 2 replicates for a spread (0 skips it)');
  const threads =
    o.threads === undefined ? undefined : parseIntOption('--threads', o.threads, { min: 1, max: 64 });
  const nSamples = parseIntOption('--samples', o.samples, { min: 2, max: 100000 });
  const nllN = parseIntOption('--nll-n', o.nllN, { min: 1, max: 100000 });
  if (o.nllVariance !== undefined && !['model', 'posterior', 'beta'].includes(o.nllVariance))
    throw new UserError(`--nll-variance must be model, posterior or beta; got "${o.nllVariance}"`);
  const held = metrics.has('nll') ? heldOutData(dataset, nllN, seed, folder) : null;
  const result: Record<string, unknown> = { checkpoint: o.checkpoint, dataset };

  ensureWritableDir(o.out);
  await withEngine(threads, async (ctx: Context) => {
    const model = loadDiffusionModelAt(ctx, o.checkpoint, opened);
    try {
      const { dims } = model;
      const T = model.schedule.T;
      if (model.training)
        Object.assign(result, { step: model.training.step, training_steps: model.trainingSteps });
      const sampler = samplerForModel(o, model);
      const terms =
        o.nllTerms === 'all'
          ? ('all' as const)
          : {
              strata: parseIntOption('--nll-terms', o.nllTerms, { min: 1, max: T - 1 }),
              spacing: parseSpacing(o.nllSpacing),
            };
      const learned = model.variance === 'learnedRange';
      if (o.nllVariance === 'model' && !learned)
        throw new UserError(
          `--nll-variance model needs a learned-variance checkpoint; ${o.checkpoint} has fixed variances (use posterior or beta)`,
        );
      if (held && held.shape.join() !== model.dataShape.join())
        throw new UserError(
          `--data ${dataset} has ${held.shape.join('×')} examples; the model takes ${model.dataShape.join('×')}`,
        );
      const classifier =
        metrics.has('samples') && isImage
          ? loadClassifierOrExplain(ctx, dataset, model.dataShape, o.classifier)
          : null;
      // One stream: the bound's draws, then the samples'.
      const rng = Rng.fromSeed(seed);
      const pendingWrites: (() => void)[] = [];
      if (held) {
        const batches = nllBatches(nllN, terms);
        const progress = startProgress('bound', batches, 0, 1);
        const bound = withPathInErrors(o.checkpoint, () => {
          try {
            return model.estimateBound({
              images: Float64Array.from(held.images),
              seed: rng,
              terms,
              batches,
              variance: (o.nllVariance ?? 'model') as 'model' | 'posterior' | 'beta',
              onBatch: (done) => progress.update(done),
            });
          } finally {
            progress.stop();
          }
        });
        const bpd = (nats: number) => natsToBitsPerDim(nats, dims);
        const perDim = (nats: number) => (isImage ? bpd(nats) : nats / dims);
        Object.assign(result, {
          [isImage ? 'nll_bpd' : 'nll_nats_per_dim']: perDim(bound.mean),
          [isImage ? 'nll_bpd_se' : 'nll_nats_per_dim_se']: perDim(bound.se),
          nll_n: nllN,
          nll_terms: terms === 'all' ? 'all' : `${terms.strata} stratified (${terms.spacing})`,
          [isImage ? 'prior_bpd' : 'prior_nats_per_dim']: perDim(bound.prior),
          [isImage ? 'decoder_bpd' : 'decoder_nats_per_dim']: perDim(bound.decoder),
          [isImage ? 'diffusion_bpd' : 'diffusion_nats_per_dim']: perDim(
            bound.mean - bound.prior - bound.decoder,
          ),
          variance: describeBoundVariance(bound.variance, folder),
        });
        const perT = bound.perT;
        const ts = [...perT.keys()].sort((a, b) => a - b);
        const plot = join(o.out, 'vlb-terms');
        // Written after the samples have been checked too, so that a failing eval writes nothing.
        pendingWrites.push(() =>
          writeChart(
            plot,
            lineChartSvg([{ name: 'L_{t−1} (bits/dim)', x: ts, y: ts.map((t) => bpd(perT.get(t)!)) }], {
              title: `Per-timestep terms of the bound, ${dataset}, n = ${nllN}`,
              xLabel: 'timestep t',
              yLabel: 'bits/dim',
              logY: true,
            }),
          ),
        );
        result.terms_plot = `${plot}.svg`;
        result.terms_plot_png = `${plot}.png`;
      }
      if (metrics.has('samples')) {
        const stepsPer = samplerTimesteps(T, sampler).length;
        const progress = startProgress('sample', Math.ceil(nSamples / 64) * stepsPer, 0, stepsPer);
        const { x, nfe } = withPathInErrors(o.checkpoint, () => {
          try {
            return model.sample({
              n: nSamples,
              sampler,
              seed: rng,
              onProgress: (done) => progress.update(done),
            });
          } finally {
            progress.stop();
          }
        });
        requireFinite(x, 'samples', o.checkpoint);
        for (const write of pendingWrites.splice(0)) write();
        Object.assign(result, { sampler: describeSampler(sampler), steps: stepsPer, nfe, n: nSamples });
        if (isImage) {
          // The first (up to) 100 of the scored samples, so that the figures can be looked at.
          const shown = Math.min(100, nSamples);
          const grid = join(o.out, 'samples.png');
          writeFileAtomic(grid, sampleGridPng(x.subarray(0, shown * dims), shown, model.dataShape));
          result.samples_png = grid;
          Object.assign(
            result,
            await scoreWithClassifier(ctx, dataset, x, nSamples, o.out, classifier!, {
              replicates: fidBootstrap,
              seed: seed + 4,
            }),
          );
        } else if (isToy2dName(dataset)) {
          const fresh = (s: number) => Float64Array.from(toy2d(dataset, nSamples, Rng.fromSeed(s)));
          const a = fresh(seed + 1);
          const b = fresh(seed + 2);
          Object.assign(result, {
            swd: slicedWasserstein2d(x, a, Rng.fromSeed(seed + 3)),
            swd_noise_floor: slicedWasserstein2d(b, a, Rng.fromSeed(seed + 3)),
            mmd: mmdRbf(x, a),
            mmd_noise_floor: mmdRbf(b, a),
          });
        }
      }
      for (const write of pendingWrites) write();
    } finally {
      model.dispose();
    }
  });
  return result;
}

function parseSpacing(s: string): StrataSpacing {
  try {
    return parseStrataSpacing(s);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

/**
 * The first n examples of the held-out split (images) with their shape, or fresh 2-D points from a seed the
 * trainer never used. `given`: the data set came with --data (a diffusers folder), not from the checkpoint.
 */
function heldOutData(
  dataset: string,
  n: number,
  seed: number,
  given: boolean,
): { images: Float32Array; shape: number[] } {
  if (isToy2dName(dataset)) return { images: toy2d(dataset, n, Rng.fromSeed(1_000_003 + seed)), shape: [2] };
  if (!given && !existsSync(dataset) && !['mnist', 'fashion-mnist'].includes(dataset)) {
    throw new UserError(`the checkpoint was trained on "${dataset}", which cannot be found here`);
  }
  const { test } = loadDataset(dataset);
  if (n > test.count) throw new UserError(`--nll-n ${n} is more than the ${test.count} held-out images`);
  const shape = [test.height, test.width, test.channels];
  return { images: test.images.subarray(0, n * shape[0] * shape[1] * shape[2]), shape };
}
