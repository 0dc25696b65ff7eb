/**
 * `elbo train vae …`: trains a variational autoencoder on the reparameterised ELBO, with the same progress,
 * metrics.jsonl, loss.svg/.png, atomic checkpoints (meta.kind 'vae'), exact --resume and NaN guard as
 * `elbo train ddpm` (cli/trainLoop.ts). Default: Burda et al.'s 784-200-200-50 tanh VAE on dynamically
 * binarised MNIST.
 */
import type { Command } from 'commander';
import { isToy2dName } from '../../src/data/toy2d.js';
import type { Context } from '../../src/tensor/tensor.js';
import { ACTIVATIONS, type Activation, type VaeArchitecture, type VaeConfig } from '../../src/vae/config.js';
import { VaeTrainer, type VaeTrainingState } from '../../src/vae/trainer.js';
import { withEngine } from '../engine.js';
import {
  parseChoice,
  parseFloatOption,
  parseIntOption,
  parseListOption,
  refuseGivenOptions,
} from '../options.js';
import { checkBatchFits, openResumeData, openTrainingData } from '../trainingData.js';
import {
  type CommonTrainOptions,
  decodeCheckpointOrExplain,
  parseCommonTrainOptions,
  withPathInErrors,
  runTrainingLoop,
} from '../trainLoop.js';
import { UserError } from '../userError.js';

interface TrainVaeOptions extends CommonTrainOptions {
  data: string;
  arch: string;
  hidden?: string;
  channels: string;
  activation: string;
  latent: string;
  likelihood: string;
  decoderStd: string;
  binarize?: string;
  batch: string;
  lr: string;
  warmup: string;
  lrHalfLife: string;
  klWarmup: string;
  clip: string;
  ema: string;
}

export function registerTrainVaeCommand(train: Command): void {
  train
    .command('vae')
    .description(
      'train a variational autoencoder on the ELBO (default: 784-200-200-50 tanh, dynamically binarised MNIST)',
    )
    .option('--data <name|dir>', 'mnist, fashion-mnist, or a folder of PNGs', 'mnist')
    .option('--arch <kind>', 'mlp or conv', 'mlp')
    .option(
      '--hidden <list>',
      'mlp: hidden widths from the data side (default 200,200); conv: one width (256)',
    )
    .option('--channels <a,b>', 'conv: channels of the two stride-2 convolutions', '32,64')
    .option('--activation <f>', `hidden activation: ${ACTIVATIONS.join(', ')}`, 'tanh')
    .option('--latent <n>', 'dimension of z', '50')
    .option(
      '--likelihood <kind>',
      'decoder p(x|z): bernoulli (binary data) or gaussian (grey levels)',
      'bernoulli',
    )
    .option('--decoder-std <σ>', 'gaussian: the decoder standard deviation (fixed), data in [−1, 1]', '0.1')
    .option(
      '--binarize <how>',
      'dynamic (fresh Bernoulli draw per batch) or none; default dynamic for bernoulli',
    )
    .option('--batch <n>', 'batch size', '100')
    .option('--lr <x>', 'Adam learning rate (after warm-up)', '1e-3')
    .option('--warmup <n>', 'linear learning-rate warm-up steps', '0')
    .option('--lr-half-life <n>', 'halve the learning rate every n steps (0: constant)', '0')
    .option('--kl-warmup <n>', 'KL weight rises linearly to 1 over n steps (0: off)', '0')
    .option('--clip <x>', 'clip the global gradient norm to this (0: off)', '0')
    .option('--ema <d>', 'EMA decay of the weights used for eval and pictures (0: off)', '0.999')
    .option('--steps <n>', 'train until this total step count', '10000')
    .option('--seed <n>', 'random seed (initialisation, data order, binarisation, ε)', '0')
    .option('--threads <n>', 'engine threads (default: all cores)')
    .option('--out <dir>', 'output directory', 'runs/vae')
    .option('--checkpoint-every <n>', 'write the checkpoint every n steps', '1000')
    .option('--log-every <n>', 'log metrics every n steps', '50')
    .option(
      '--resume <file>',
      'continue from this checkpoint (its config is used; --steps sets the new total)',
    )
    .option('--overwrite', 'replace the checkpoint already in --out (without it, such an --out is refused)')
    .action(async (opts: TrainVaeOptions, cmd: Command) => {
      await trainVae(opts, cmd);
    });
}

function parseList(flag: string, value: string): number[] {
  return parseListOption(flag, value, { min: 1, max: 100000 });
}

export function vaeConfigFromOptions(opts: TrainVaeOptions, dataShape: number[]): VaeConfig {
  const activation = parseChoice('--activation', opts.activation, ACTIVATIONS) as Activation;
  const arch = parseChoice('--arch', opts.arch, ['mlp', 'conv'] as const);
  let architecture: VaeArchitecture;
  if (arch === 'mlp') {
    architecture = { kind: 'mlp', hidden: parseList('--hidden', opts.hidden ?? '200,200'), activation };
  } else {
    const channels = parseList('--channels', opts.channels);
    if (channels.length !== 2)
      throw new UserError(`--channels must be two numbers a,b; got "${opts.channels}"`);
    const hidden = parseList('--hidden', opts.hidden ?? '256');
    if (hidden.length !== 1) throw new UserError(`--hidden must be one width for conv; got "${opts.hidden}"`);
    architecture = { kind: 'conv', channels: [channels[0], channels[1]], hidden: hidden[0], activation };
  }
  const likelihoodKind = parseChoice('--likelihood', opts.likelihood, ['bernoulli', 'gaussian'] as const);
  const std = parseFloatOption('--decoder-std', opts.decoderStd, { min: 1e-4, max: 100 });
  const binarize = parseChoice(
    '--binarize',
    opts.binarize ?? (likelihoodKind === 'bernoulli' ? 'dynamic' : 'none'),
    ['dynamic', 'none'] as const,
  );
  if (binarize === 'dynamic' && likelihoodKind !== 'bernoulli')
    throw new UserError(
      '--binarize dynamic goes with --likelihood bernoulli (a Gaussian decoder models grey levels)',
    );
  return {
    dataset: opts.data,
    dataShape,
    latentDim: parseIntOption('--latent', opts.latent, { min: 1, max: 4096 }),
    architecture,
    likelihood:
      likelihoodKind === 'bernoulli'
        ? { kind: 'bernoulli' }
        : { kind: 'gaussian', logVar: 2 * Math.log(std) },
    binarize,
    batchSize: parseIntOption('--batch', opts.batch, { min: 1, max: 4096 }),
    lr: parseFloatOption('--lr', opts.lr, { min: 1e-8, max: 1 }),
    warmupSteps: parseIntOption('--warmup', opts.warmup, { min: 0 }),
    lrHalfLife: parseIntOption('--lr-half-life', opts.lrHalfLife, { min: 0 }),
    klWarmupSteps: parseIntOption('--kl-warmup', opts.klWarmup, { min: 0 }),
    gradClip: parseFloatOption('--clip', opts.clip, { min: 0 }),
    emaDecay: parseFloatOption('--ema', opts.ema, { min: 0, max: 0.999999 }),
    seed: parseIntOption('--seed', opts.seed),
  };
}

/** VaeTrainer.restore with its errors turned into user errors naming the file. */
export function restoreVaeOrExplain(
  ctx: Context,
  path: string,
  state: VaeTrainingState,
  data: ConstructorParameters<typeof VaeTrainer>[2],
): VaeTrainer {
  return withPathInErrors(path, () => VaeTrainer.restore(ctx, state, data));
}

/** Reads a checkpoint and insists that it is a VAE's. */
export function decodeVaeCheckpointOrExplain(path: string): VaeTrainingState {
  return decodeCheckpointOrExplain(path, 'vae');
}

/** The options that set a new run's config: a resumed run keeps its checkpoint's, so they do not apply. */
const VAE_CONFIG_OPTIONS = [
  'data',
  'arch',
  'hidden',
  'channels',
  'activation',
  'latent',
  'likelihood',
  'decoderStd',
  'binarize',
  'batch',
  'lr',
  'warmup',
  'lrHalfLife',
  'klWarmup',
  'clip',
  'ema',
  'seed',
];

async function trainVae(opts: TrainVaeOptions, cmd: Command): Promise<void> {
  if (opts.resume)
    refuseGivenOptions(cmd, VAE_CONFIG_OPTIONS, "with --resume (the run keeps its checkpoint's config)");
  const parsed = parseCommonTrainOptions(opts);
  if (!opts.resume && isToy2dName(opts.data))
    throw new UserError(
      `the VAE trains on images (mnist, fashion-mnist or a folder of PNGs); "${opts.data}" is 2-D data`,
    );
  await withEngine(parsed.threads, (ctx: Context) => {
    let trainer: VaeTrainer;
    if (opts.resume) {
      const state = decodeVaeCheckpointOrExplain(opts.resume);
      const data = openResumeData(state.meta.config);
      trainer = restoreVaeOrExplain(ctx, opts.resume, state, data.source);
      process.stderr.write(`resuming ${opts.resume} at step ${trainer.step}\n`);
    } else {
      const seed = parseIntOption('--seed', opts.seed);
      const config = vaeConfigFromOptions(opts, [1, 1, 1]); // checks the options before loading any data
      const data = openTrainingData(opts.data, seed);
      checkBatchFits(data, config.batchSize, opts.data, false);
      const [h, w] = data.shape;
      if (config.architecture.kind === 'conv' && (h % 4 !== 0 || w % 4 !== 0))
        throw new UserError(
          `--arch conv needs image sides divisible by 4; "${opts.data}" has ${h}×${w} images`,
        );
      trainer = new VaeTrainer(ctx, { ...config, dataShape: data.shape }, data.source);
    }
    runTrainingLoop(trainer, opts.out, parsed, opts.resume !== undefined, {
      metrics: (r) => {
        const perEpoch = trainingSetSize(trainer);
        return {
          elbo: r.elbo,
          reconstruction: r.reconstruction,
          kl: r.kl,
          kl_weight: r.klWeight,
          ...(perEpoch ? { epoch: (r.step * trainer.config.batchSize) / perEpoch } : {}),
        };
      },
      progress: (r, smoothed) => ({ '−elbo': smoothed, kl: r.kl, grad: r.gradNorm }),
      plot: { title: 'Negative ELBO per example during training (nats)', yLabel: 'nats', logY: false },
    });
  });
}

/** The number of training images, when the data source knows it (for the epoch count in metrics). */
function trainingSetSize(trainer: VaeTrainer): number | null {
  const s = trainer.data?.getState() as { count?: number } | null | undefined;
  return typeof s?.count === 'number' ? s.count : null;
}
