/**
 * `elbo train ddpm …`: trains a DDPM with L_simple (or Min-SNR-γ, --min-snr), or with learned variances on
 * L_hybrid or L_vlb (--objective, [ND21] §3), writing into --out:
 * checkpoint.safetensors (atomically, every --checkpoint-every steps and at the end), metrics.jsonl (one JSON
 * object per logged step) and loss.svg/.png. `--resume FILE` continues a run exactly: the same seed and data
 * order, so N + N steps equal 2N.
 */
import type { Command } from 'commander';
import type { LossWeighting } from '../../src/diffusion/lossWeight.js';
import { isPrediction, PREDICTIONS } from '../../src/diffusion/parameterization.js';
import { isScheduleName, SCHEDULE_NAMES } from '../../src/diffusion/schedule.js';
import { maxUNetLevels } from '../../src/nn/unet.js';
import type { Context } from '../../src/tensor/tensor.js';
import {
  type BatchSource,
  type DdpmConfig,
  type DdpmObjective,
  DdpmTrainer,
  DEFAULT_VLB_WEIGHT,
  describeTrainingSteps,
  OBJECTIVE_KINDS,
  totalTrainingSteps,
  type TrainingState,
  type TrainStepResult,
} from '../../src/train/ddpm.js';
import type { LrDecay } from '../../src/train/gradients.js';
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
import { diffusersArchitecture } from './trainDiffusersArch.js';
import { registerTrainClassifierCommand } from './trainClassifier.js';
import { registerTrainVaeCommand } from './trainVae.js';

interface TrainOptions extends CommonTrainOptions {
  data: string;
  batch: string;
  lr: string;
  warmup: string;
  clip: string;
  ema: string;
  schedule: string;
  diffusionSteps: string;
  prediction: string;
  minSnr?: string;
  channels: string;
  arch: string;
  resBlocks?: string;
  attention?: string;
  anneal?: string;
  initFrom?: string;
  objective: string;
  vlbWeight?: string;
}

export function registerTrainCommand(program: Command): void {
  const train = program.command('train').description('train a model (ddpm or vae)');
  train
    .command('ddpm')
    .description(
      'train a denoising diffusion model with L_simple (ε, x0 or v prediction), optionally Min-SNR-weighted, ' +
        'or with learned variances on L_hybrid or L_vlb (--objective)',
    )
    .option(
      '--data <name|dir>',
      'mnist, fashion-mnist, two-moons, swiss-roll, eight-gaussians, checkerboard, or a folder of PNGs',
      'mnist',
    )
    .option('--steps <n>', 'train until this total step count', '1000')
    .option('--batch <n>', 'batch size', '64')
    .option('--lr <x>', 'Adam learning rate (after warm-up)', '2e-4')
    .option('--warmup <n>', 'linear learning-rate warm-up steps', '200')
    .option('--clip <x>', 'clip the global gradient norm to this (0: off)', '1')
    .option('--ema <d>', 'EMA decay of the weights used for sampling', '0.999')
    .option('--schedule <name>', `noise schedule: ${SCHEDULE_NAMES.join(', ')}`, 'linear')
    .option('--diffusion-steps <T>', 'number of diffusion steps T', '1000')
    .option('--prediction <p>', `what the network predicts: ${PREDICTIONS.join(', ')}`, 'eps')
    .option(
      '--min-snr <γ>',
      'weight the loss by Min-SNR-γ (Hang et al. 2023; the paper uses 5): caps the weight of nearly clean ' +
        'steps (default: L_simple, every step alike)',
    )
    .option(
      '--objective <name>',
      'simple: L_simple (fixed variances, chosen when sampling); hybrid: L_simple + λ·L_vlb with learned ' +
        'variances (Nichol & Dhariwal 2021); vlb: the bound alone, learned variances, importance-sampled timesteps',
      'simple',
    )
    .option('--vlb-weight <λ>', `λ of the hybrid objective (default ${DEFAULT_VLB_WEIGHT}, as the paper)`)
    .option('--channels <list>', 'UNet channels per resolution level (images only)', '32,64')
    .option(
      '--arch <name>',
      "images: elbo's own UNet ('elbo') or diffusers' UNet2DModel architecture ('diffusers', exports with " +
        '`elbo export`; --res-blocks is then one count for every level)',
      'elbo',
    )
    .option(
      '--res-blocks <list>',
      'UNet residual blocks per level, encoder and decoder each (default: 1 per level)',
    )
    .option(
      '--attention <levels>',
      'UNet levels (0 = full resolution) with self-attention after their blocks, besides the middle (default: none)',
    )
    .option('--seed <n>', 'random seed (initialisation, data order, noise)', '0')
    .option('--threads <n>', 'engine threads (default: all cores)')
    .option('--out <dir>', 'output directory', 'runs/ddpm')
    .option('--checkpoint-every <n>', 'write the checkpoint every n steps', '500')
    .option('--log-every <n>', 'log metrics every n steps', '10')
    .option(
      '--anneal <n>',
      'decay the learning rate linearly to 0 over the last n steps before --steps (with --resume: replaces the ' +
        "checkpoint's decay)",
    )
    .option(
      '--resume <file>',
      'continue from this checkpoint (its config is used; --steps sets the new total, --anneal may be added)',
    )
    .option('--overwrite', 'replace the checkpoint already in --out (without it, such an --out is refused)')
    .option(
      '--init-from <file>',
      "start from this DDPM checkpoint's EMA weights, with the architecture and settings given here; added " +
        'residual blocks and attention layers start as the identity, added variance outputs (hybrid, vlb) at ' +
        "σ² = β̃_t, the fixed-variance model's own; Adam and the step count start afresh",
    )
    .action(async (opts: TrainOptions, cmd: Command) => {
      await trainDdpm(opts, cmd);
    });
  registerTrainVaeCommand(train);
  registerTrainClassifierCommand(train);
}

function configFromOptions(opts: TrainOptions, dataShape: number[]): DdpmConfig {
  if (!isScheduleName(opts.schedule))
    throw new UserError(`--schedule must be one of ${SCHEDULE_NAMES.join(', ')}; got "${opts.schedule}"`);
  if (!isPrediction(opts.prediction))
    throw new UserError(`--prediction must be one of ${PREDICTIONS.join(', ')}; got "${opts.prediction}"`);
  const isImage = dataShape.length === 3;
  const channels = parseListOption('--channels', opts.channels, { min: 1 });
  const levels = channels.length;
  const most = isImage ? maxUNetLevels(dataShape[0], dataShape[1]) : Infinity;
  if (levels > most) {
    throw new UserError(
      `--channels ${opts.channels}: a UNet of ${levels} levels halves the ${dataShape[0]}×${dataShape[1]} images ` +
        `${levels} times, below 2×2; ` +
        (most > 0 ? `give at most ${most} channel counts` : 'the images are too small for a UNet'),
    );
  }
  const resBlocks =
    opts.resBlocks === undefined ? undefined : parseListOption('--res-blocks', opts.resBlocks, { min: 1 });
  if (resBlocks && resBlocks.length !== levels)
    throw new UserError(
      `--res-blocks needs one count per level of --channels (${levels}), got "${opts.resBlocks}"`,
    );
  const attentionLevels =
    opts.attention === undefined
      ? undefined
      : parseListOption('--attention', opts.attention, { min: 0, max: levels - 1 });
  const arch = parseChoice('--arch', opts.arch, ['elbo', 'diffusers'] as const);
  if (arch === 'diffusers' && !isImage) throw new UserError('--arch diffusers needs image data');
  const objective = objectiveOption(opts);
  return {
    dataset: opts.data,
    dataShape,
    model: isImage
      ? arch === 'diffusers'
        ? {
            kind: 'diffusers',
            diffusers: diffusersArchitecture(
              dataShape,
              channels,
              resBlocks,
              attentionLevels,
              objective.variance === 'learned-range',
            ),
          }
        : {
            kind: 'unet',
            unet: {
              imageChannels: dataShape[2],
              channels,
              timeEmbeddingDim: 64,
              timeHiddenDim: 128,
              groups: 8,
              ...(resBlocks ? { resBlocks } : {}),
              ...(attentionLevels ? { attentionLevels } : {}),
            },
          }
      : { kind: 'mlp', mlp: { dims: dataShape[0], hidden: 128, layers: 3, timeEmbeddingDim: 32 } },
    schedule: opts.schedule,
    T: parseIntOption('--diffusion-steps', opts.diffusionSteps, { min: 2, max: 100000 }),
    prediction: opts.prediction,
    ...minSnrOption(opts),
    ...objective,
    batchSize: parseIntOption('--batch', opts.batch, { min: 1, max: 4096 }),
    lr: parseFloatOption('--lr', opts.lr, { min: 1e-8, max: 1 }),
    warmupSteps: parseIntOption('--warmup', opts.warmup, { min: 0 }),
    gradClip: parseFloatOption('--clip', opts.clip, { min: 0 }),
    emaDecay: parseFloatOption('--ema', opts.ema, { min: 0, max: 0.999999 }),
    seed: parseIntOption('--seed', opts.seed),
    ...annealOption(opts),
  };
}

/** `--min-snr γ` as the config's lossWeighting. */
function minSnrOption(opts: TrainOptions): { lossWeighting?: LossWeighting } {
  if (opts.minSnr === undefined) return {};
  const gamma = parseFloatOption('--min-snr', opts.minSnr, { min: 0 });
  if (gamma === 0) throw new UserError('--min-snr must be positive (the paper uses 5), got 0');
  return { lossWeighting: { kind: 'min-snr', gamma } };
}

/** `--objective` and `--vlb-weight` as the config's objective and variance (hybrid and vlb learn variances). */
function objectiveOption(opts: TrainOptions): Pick<DdpmConfig, 'objective' | 'variance'> {
  const kind = opts.objective as DdpmObjective['kind'];
  if (!OBJECTIVE_KINDS.includes(kind))
    throw new UserError(`--objective must be one of ${OBJECTIVE_KINDS.join(', ')}; got "${opts.objective}"`);
  if (opts.vlbWeight !== undefined && kind !== 'hybrid')
    throw new UserError(`--vlb-weight is the λ of --objective hybrid; it has no meaning with ${kind}`);
  if (kind === 'vlb' && opts.minSnr !== undefined)
    throw new UserError('--min-snr weights L_simple; --objective vlb trains on the bound alone: drop one');
  if (kind === 'simple') return {};
  const objective: DdpmObjective =
    kind === 'hybrid'
      ? {
          kind,
          vlbWeight:
            opts.vlbWeight === undefined
              ? DEFAULT_VLB_WEIGHT
              : parseFloatOption('--vlb-weight', opts.vlbWeight, { min: 1e-12, max: 1e6 }),
        }
      : { kind };
  return { objective, variance: 'learned-range' };
}

/** `--anneal n` as the config's lrDecay: from step (--steps − n) to --steps. */
function annealOption(opts: TrainOptions): { lrDecay?: LrDecay } {
  if (opts.anneal === undefined) return {};
  const steps = parseIntOption('--steps', opts.steps, { min: 1 });
  const n = parseIntOption('--anneal', opts.anneal, { min: 1, max: steps });
  return { lrDecay: { start: steps - n, end: steps } };
}

/** The options that set a new run's config: a resumed run keeps its checkpoint's, so they do not apply. */
const DDPM_CONFIG_OPTIONS = [
  'data',
  'batch',
  'lr',
  'warmup',
  'clip',
  'ema',
  'schedule',
  'diffusionSteps',
  'prediction',
  'minSnr',
  'channels',
  'resBlocks',
  'attention',
  'seed',
];

async function trainDdpm(opts: TrainOptions, cmd: Command): Promise<void> {
  if (opts.resume && opts.initFrom)
    throw new UserError('--resume and --init-from exclude each other; give one');
  if (opts.resume)
    refuseGivenOptions(cmd, DDPM_CONFIG_OPTIONS, "with --resume (the run keeps its checkpoint's config)");
  const parsed = parseCommonTrainOptions(opts);
  await withEngine(parsed.threads, (ctx: Context) => {
    let trainer: DdpmTrainer;
    if (opts.resume) {
      const state = readDdpmCheckpoint(opts.resume);
      const data = openResumeData(state.meta.config);
      state.meta.config = { ...state.meta.config, ...annealOption(opts) };
      trainer = restoreOrExplain(ctx, opts.resume, state, data.source);
      process.stderr.write(`resuming ${opts.resume} at step ${trainer.step}\n`);
    } else {
      const data = openTrainingData(opts.data, parseIntOption('--seed', opts.seed));
      const config = configFromOptions(opts, data.shape);
      checkBatchFits(data, config.batchSize, opts.data, false);
      trainer = opts.initFrom
        ? warmStartedTrainer(ctx, opts.initFrom, config, data.source)
        : new DdpmTrainer(ctx, config, data.source);
    }
    const objective = trainer.config.objective?.kind ?? 'simple';
    runTrainingLoop(trainer, opts.out, parsed, opts.resume !== undefined, {
      plot: {
        title: objective === 'simple' ? 'L_simple during training' : `L_${objective} during training`,
        yLabel: 'loss',
        logY: true,
      },
      ...(objective === 'simple' ? {} : { metrics: vlbMetrics }),
    });
  });
}

/** The hybrid and vlb objectives' extra metrics.jsonl fields: the plain MSE and the batch's L_vlb estimate. */
function vlbMetrics(r: TrainStepResult): Record<string, number> {
  return { mse: r.mse ?? Number.NaN, vlb_bpd: r.vlbBpd ?? Number.NaN };
}

/** Decodes a checkpoint file that must hold a DDPM (UserError naming the file otherwise). */
function readDdpmCheckpoint(path: string): TrainingState {
  return decodeCheckpointOrExplain(path, 'ddpm');
}

/** A new trainer for `config` that starts from the EMA weights of the DDPM checkpoint at `path` (--init-from). */
function warmStartedTrainer(ctx: Context, path: string, config: DdpmConfig, data: BatchSource): DdpmTrainer {
  const source = readDdpmCheckpoint(path);
  const trainer = new DdpmTrainer(
    ctx,
    { ...config, warmStart: { from: path, step: totalTrainingSteps(source.meta) } },
    data,
  );
  const report = withPathInErrors(path, () => trainer.warmStartFrom(source.tensors));
  const grown =
    (report.newBlocks.length ? `; new, starting as the identity: ${report.newBlocks.join(', ')}` : '') +
    (report.newVarianceOutputs.length
      ? `; new variance outputs, starting at σ² = β̃_t: ${report.newVarianceOutputs.join(', ')}`
      : '');
  process.stderr.write(
    `starting from ${path} (trained ${describeTrainingSteps(source.meta)} steps): ${report.copied} tensors copied${grown}\n`,
  );
  return trainer;
}

/** DdpmTrainer.restore with its errors (missing tensors, wrong shapes) turned into user errors naming the file. */
export function restoreOrExplain(
  ctx: Context,
  path: string,
  state: TrainingState,
  data: BatchSource | null,
): DdpmTrainer {
  return withPathInErrors(path, () => DdpmTrainer.restore(ctx, state, data));
}

export { decodeCheckpointOrExplain };
