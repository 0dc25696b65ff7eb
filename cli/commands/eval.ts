/**
 * `elbo eval --checkpoint FILE [--json]`: evaluates a trained DDPM.
 *   - the negative ELBO in bits per dimension on held-out data, the full chain (prior KL, every L_{t−1},
 *     discretized decoder L_0) or K stratified timesteps (unbiased for the same sum), with its standard error and
 *     a plot of the per-timestep terms; a learned-variance model is bounded with its own Σ_θ ([ND21] eq. 15);
 *   - images: samples scored by elbo's shipped classifier (share recognised with confidence ≥ 0.9, class
 *     histogram, Fréchet distance of its penultimate features to the test set's), the first 100 as a grid, and
 *     up to 100 of those it does not recognise as another (unrecognised.png);
 *   - 2-D data: sliced Wasserstein distance and MMD of samples to fresh data, with the same distances between
 *     two fresh data sets as the noise floor.
 * A VAE checkpoint (meta.kind 'vae') goes to cli/commands/evalVae.ts: test ELBO and the IWAE bound L_k (--k, --n).
 * With --json, stdout is exactly one JSON object (progress goes to stderr).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isToy2dName, mmdRbf, slicedWasserstein2d, toy2d } from '../../src/data/toy2d.js';
import { meanOutputs } from '../../src/diffusion/learnedVariance.js';
import {
  estimateNegativeElbo,
  nllBatches,
  type StrataSpacing,
  type VlbOptions,
} from '../../src/diffusion/vlb.js';
import { natsToBitsPerDim } from '../../src/math/units.js';
import { lineChartSvg } from '../../src/plot/lineChart.js';
import { Rng } from '../../src/random/rng.js';
import { sample } from '../../src/samplers/index.js';
import { describeSampler } from '../../src/samplers/types.js';
import type { Context } from '../../src/tensor/tensor.js';
import { loadDataset } from '../data.js';
import { withEngine } from '../engine.js';
import { writeFileAtomic } from '../io.js';
import { sampleGridPng, writeChart } from '../png.js';
import { parseIntOption } from '../options.js';
import { startProgress } from '../progress.js';
import { UserError } from '../userError.js';
import { scoreWithClassifier } from '../classifierScore.js';
import { addSamplerOptions, type SamplerOptions, samplerFromOptions } from './sample.js';
import { decodeCheckpointOrExplain, restoreOrExplain } from './train.js';
import { evaluateVaeCheckpoint, type VaeEvalOptions } from './evalVae.js';
import type { VaeTrainingState } from '../../src/vae/trainer.js';
import { checkpointKind } from '../trainLoop.js';

interface EvalOptions extends SamplerOptions, Omit<VaeEvalOptions, 'seed' | 'threads' | 'checkpoint'> {
  checkpoint: string;
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
    .requiredOption('--checkpoint <file>', 'a checkpoint written by `elbo train ddpm` or `elbo train vae`')
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
  addSamplerOptions(cmd, { sampler: 'ddim', steps: '100' }).action(async (o: EvalOptions) => {
    const result = await evaluate(o);
    if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else
      for (const [k, v] of Object.entries(result))
        process.stdout.write(`${k.padEnd(22)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
  });
}

async function evaluate(o: EvalOptions): Promise<Record<string, unknown>> {
  const state = decodeCheckpointOrExplain(o.checkpoint);
  const kind = checkpointKind(state);
  if (kind === 'vae') return evaluateVaeCheckpoint(o, state as unknown as VaeTrainingState);
  if (state.meta.kind !== 'ddpm')
    throw new UserError(`${o.checkpoint} is a ${kind} checkpoint; eval supports DDPM and VAE checkpoints`);
  const metrics = new Set(o.metrics.split(',').map((m) => m.trim()));
  for (const m of metrics)
    if (m !== 'nll' && m !== 'samples')
      throw new UserError(`--metrics: unknown metric "${m}" (use nll, samples)`);
  const seed = parseIntOption('--seed', o.seed);
  const fidBootstrap = parseIntOption('--fid-bootstrap', o.fidBootstrap, { min: 0, max: 10000 });
  if (fidBootstrap === 1)
    throw new UserError('--fid-bootstrap needs ≥ 2 replicates for a spread (0 skips it)');
  const threads =
    o.threads === undefined ? undefined : parseIntOption('--threads', o.threads, { min: 1, max: 64 });
  const config = state.meta.config;
  const sampler = samplerFromOptions(o, config.T);
  const nSamples = parseIntOption('--samples', o.samples, { min: 2, max: 100000 });
  const nllN = parseIntOption('--nll-n', o.nllN, { min: 1, max: 100000 });
  const terms =
    o.nllTerms === 'all'
      ? ('all' as const)
      : {
          strata: parseIntOption('--nll-terms', o.nllTerms, { min: 1, max: config.T - 1 }),
          spacing: parseSpacing(o.nllSpacing),
        };
  const learned = config.variance === 'learned-range';
  const nllVariance = o.nllVariance ?? (learned ? 'model' : 'posterior');
  if (!['model', 'posterior', 'beta'].includes(nllVariance))
    throw new UserError(`--nll-variance must be model, posterior or beta; got "${nllVariance}"`);
  if (nllVariance === 'model' && !learned)
    throw new UserError(
      `--nll-variance model needs a learned-variance checkpoint; ${o.checkpoint} has fixed variances (use posterior or beta)`,
    );
  const variance: VlbOptions['variance'] =
    nllVariance === 'model' ? 'learned-range' : nllVariance === 'beta' ? 'beta' : 'posterior';
  const isImage = config.dataShape.length === 3;
  const dims = config.dataShape.reduce((a, b) => a * b, 1);
  const result: Record<string, unknown> = {
    checkpoint: o.checkpoint,
    dataset: config.dataset,
    step: state.meta.step,
  };

  await withEngine(threads, async (ctx: Context) => {
    const trainer = restoreOrExplain(ctx, o.checkpoint, state, null);
    const model = trainer.batchModel(true);
    // The samplers here use fixed variances (DDIM ignores Σ_θ): they see a learned model's mean outputs.
    const meanModel = learned ? meanOutputs(model) : model;
    const rng = Rng.fromSeed(seed);
    if (metrics.has('nll')) {
      const held = heldOutData(config.dataset, nllN, seed);
      const batches = nllBatches(nllN, terms);
      const progress = startProgress('bound', batches, 0, 1);
      const bound = estimateNegativeElbo(
        trainer.schedule,
        variance === 'learned-range' ? model : meanModel,
        Float64Array.from(held),
        nllN,
        batches,
        rng,
        {
          prediction: config.prediction,
          variance,
          data: isImage ? 'discrete8bit' : 'continuous',
          terms,
          onBatch: (done) => progress.update(done),
        },
      );
      progress.stop();
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
        variance:
          variance === 'learned-range'
            ? 'learned (Σ_θ, Nichol & Dhariwal eq. 15)'
            : variance === 'beta'
              ? 'β_t'
              : 'posterior (β̃_t)',
      });
      const perT = bound.perT;
      const ts = [...perT.keys()].sort((a, b) => a - b);
      const [plot, plotPng] = writeChart(
        join(o.out, 'vlb-terms'),
        lineChartSvg([{ name: 'L_{t−1} (bits/dim)', x: ts, y: ts.map((t) => bpd(perT.get(t)!)) }], {
          title: `Per-timestep terms of the bound, ${config.dataset}, n = ${nllN}`,
          xLabel: 'timestep t',
          yLabel: 'bits/dim',
          logY: true,
        }),
      );
      result.terms_plot = plot;
      result.terms_plot_png = plotPng;
    }
    if (metrics.has('samples')) {
      const batch = 64;
      const x = new Float64Array(nSamples * dims);
      const stepsPer = sampler.kind === 'ddim' ? sampler.steps : config.T;
      const batches = Math.ceil(nSamples / batch);
      const progress = startProgress('sample', batches * stepsPer, 0, stepsPer);
      for (let b = 0; b < batches; b++) {
        const size = Math.min(batch, nSamples - b * batch);
        const r = sample(trainer.schedule, meanModel, size, dims, rng, {
          prediction: config.prediction,
          sampler,
          onStep: (d) => progress.update(b * stepsPer + d),
        });
        x.set(r.x, b * batch * dims);
      }
      progress.stop();
      Object.assign(result, { sampler: describeSampler(sampler), steps: stepsPer, n: nSamples });
      if (isImage) {
        // The first (up to) 100 of the scored samples, so that the figures can be looked at.
        const shown = Math.min(100, nSamples);
        const grid = join(o.out, 'samples.png');
        writeFileAtomic(grid, sampleGridPng(x.subarray(0, shown * dims), shown, config.dataShape));
        result.samples_png = grid;
        Object.assign(
          result,
          await scoreWithClassifier(ctx, config.dataset, x, nSamples, o.out, o.classifier, {
            replicates: fidBootstrap,
            seed: seed + 4,
          }),
        );
      } else if (isToy2dName(config.dataset)) {
        const fresh = (s: number) =>
          Float64Array.from(toy2d(config.dataset as Parameters<typeof toy2d>[0], nSamples, Rng.fromSeed(s)));
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
  });
  return result;
}

function parseSpacing(s: string): StrataSpacing {
  if (s !== 'log' && s !== 'uniform') throw new UserError(`--nll-spacing must be log or uniform; got "${s}"`);
  return s;
}

/** The first n examples of the held-out split (images), or fresh 2-D points from a seed the trainer never used. */
function heldOutData(dataset: string, n: number, seed: number): Float32Array {
  if (isToy2dName(dataset)) return toy2d(dataset, n, Rng.fromSeed(1_000_003 + seed));
  if (!existsSync(dataset) && !['mnist', 'fashion-mnist'].includes(dataset)) {
    throw new UserError(`the checkpoint was trained on "${dataset}", which cannot be found here`);
  }
  const { test } = loadDataset(dataset);
  if (n > test.count) throw new UserError(`--nll-n ${n} is more than the ${test.count} held-out images`);
  const dims = test.height * test.width * test.channels;
  return test.images.subarray(0, n * dims);
}
