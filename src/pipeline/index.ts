/**
 * load → sample / bound: the one object a user holds after loading a diffusion model, whether it is an elbo
 * checkpoint or a diffusers UNet2DModel folder (as diffusers' pipelines are). No trainer is built; the network runs
 * without recording gradients, its intermediates freed after each call. No I/O here: the bytes come in (the CLI
 * reads files in cli/modelSource.ts, a browser fetches them with {@link fetchDiffusersFolder}). A VAE checkpoint
 * loads the same way with {@link loadVae} (vae.ts).
 *
 * [Ho20] arXiv:2006.11239v2 · [ND21] arXiv:2102.09672v1 (learned variances, bits/dim)
 */
import { decodeSafetensors } from '../checkpoint/safetensors.js';
import { meanOutputs, splitLearnedRangeOutput } from '../diffusion/learnedVariance.js';
import type { Prediction } from '../diffusion/parameterization.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import {
  estimateNegativeElbo,
  negativeElbo,
  nllBatches,
  type NegativeElboEstimate,
  type VlbOptions,
  type VlbResult,
} from '../diffusion/vlb.js';
import type { DataKind } from '../diffusion/vlbTerm.js';
import { parseUNet2DConfig, type DiffusersUNetConfig } from '../interop/diffusers/config.js';
import {
  parseSchedulerConfig,
  reverseVarianceOf,
  type VarianceType,
} from '../interop/diffusers/scheduler.js';
import { DiffusersUNet2D } from '../interop/diffusers/unet2d.js';
import { loadDiffusersStateDict } from '../interop/diffusers/weights.js';
import { disposeModule } from '../nn/module.js';
import { Rng } from '../random/rng.js';
import {
  sample,
  sampleInBatches,
  type BatchModel,
  type ReverseVariance,
  type SampleResult,
  type SamplerConfig,
} from '../samplers/index.js';
import type { Spacing } from '../samplers/timesteps.js';
import type { Context } from '../tensor/tensor.js';
import { decodeTrainingState } from '../train/checkpoint.js';
import {
  createDenoiser,
  ddpmSchedule,
  totalTrainingSteps,
  validateDdpmConfig,
  type DdpmConfig,
  type Denoiser,
  type TrainingState,
} from '../train/ddpm.js';
import { isEmaOnly, loadWeights, type WeightsCopy } from '../train/emaWeights.js';
import { rngOf, type LoadOptions, type SeedOrRng } from './common.js';

export type { LoadOptions, SeedOrRng } from './common.js';

/** A diffusers folder as file name (relative path, '/' separated) → bytes. */
export type DiffusersFiles = ReadonlyMap<string, Uint8Array>;

/** An elbo checkpoint's bytes (or the checkpoint decoded by decodeTrainingState), or a diffusers folder's files. */
export type ModelSource = Uint8Array | TrainingState | DiffusersFiles;

/** Options of {@link DiffusionModel.sample}: how many samples, the sampler and the seed. */
export interface ModelSampleOptions {
  n: number;
  /**
   * The sampler; its `spacing` and `stepsOffset`, when absent, are the model's (a diffusers scheduler config's
   * timestep_spacing and steps_offset; elbo's default otherwise).
   */
  sampler: SamplerConfig;
  seed: SeedOrRng;
  /** Starting noise for all n samples (n·dims values); drawn from the seed when absent. */
  xT?: Float64Array;
  /** Record x_t along the chain (at these timesteps, or at a default set of 9 from x_T to x_0 when true). */
  recordTrajectory?: boolean | readonly number[];
  /** Examples per network call (default 64). */
  batchSize?: number;
  /** Called after each step of each batch with (steps done, steps in all). */
  onProgress?: (done: number, total: number) => void;
}

/** Options of {@link DiffusionModel.bound}: the images and the estimator of the bound's terms. */
export interface ModelBoundOptions extends Partial<Pick<VlbOptions, 'terms' | 'data' | 'onTerm'>> {
  /** n images flattened NHWC, values in [−1, 1] (8-bit data scaled: (v − 127.5)/127.5). */
  images: Float64Array;
  seed: number;
  /** Examples per network call (default 64). */
  batchSize?: number;
}

/** Options of {@link DiffusionModel.estimateBound}: the data set, the reverse variance and the estimator. */
export interface ModelBoundEstimateOptions extends Partial<Pick<VlbOptions, 'terms' | 'data'>> {
  /** n examples flattened (NHWC images in [−1, 1], 8-bit data scaled: (v − 127.5)/127.5; or vectors). */
  images: Float64Array;
  seed: SeedOrRng;
  /**
   * σ_t² of p_θ(x_{t−1} | x_t) in every term: 'model' (default) the model's own — Σ_θ of a learned-variance
   * model ([ND21] eq. 15), else its fixed β̃_t or β_t —, or β̃_t ('posterior') or β_t ('beta') for any model.
   */
  variance?: 'model' | 'posterior' | 'beta';
  /** Batches the n examples are split into, sizes differing by at most one (default: nllBatches(n, terms)). */
  batches?: number;
  /** Called after each batch with (batches done, batches in all). */
  onBatch?: (done: number, total: number) => void;
}

/** {@link DiffusionModel.estimateBound}'s result: the estimate, with the reverse variance its terms used. */
export interface ModelBoundEstimate extends NegativeElboEstimate {
  variance: ReverseVariance;
}

/** What an elbo checkpoint records about the training behind its weights. */
export interface TrainingRecord {
  /** The data set it was trained on, as given to `elbo train` (a name or a folder). */
  dataset: string;
  /** Its own optimisation steps. */
  step: number;
  /** Where training began from another checkpoint's weights (--init-from): its path and total steps. */
  warmStart?: DdpmConfig['warmStart'];
}

/**
 * A loaded diffusion model — an elbo checkpoint or a diffusers folder ({@link loadDiffusionModel}): the network,
 * its schedule and parameterisation, and sampling and the bound without a trainer.
 */
export interface DiffusionModel {
  readonly kind: 'elbo' | 'diffusers';
  /** One example's shape: [H, W, C] for images (NHWC), [D] for vectors. */
  readonly dataShape: number[];
  readonly dims: number;
  readonly schedule: NoiseSchedule;
  readonly prediction: Prediction;
  readonly variance: VarianceType;
  /** Optimisation steps behind the weights (warm starts included), when the source records it (elbo checkpoints do). */
  readonly trainingSteps: number | null;
  /** An elbo checkpoint's training record (null for a diffusers folder). */
  readonly training: TrainingRecord | null;
  /** How the bound treats the data: 8-bit images ('discrete8bit') or continuous vectors (2-D data). */
  readonly dataKind: DataKind;
  /** Sampling defaults the source asks for (diffusers: clip_sample, timestep_spacing, steps_offset). */
  readonly defaults: { clip: boolean; spacing?: Spacing; stepsOffset?: number };
  /** Things assumed or ignored while loading, one sentence each. */
  readonly notes: string[];
  /** The network as a sampler's batch function: NHWC x_t → n predictions (+ n learned-range values). */
  readonly network: BatchModel;
  /** The diffusers architecture, when the source is a diffusers folder. */
  readonly diffusersConfig: DiffusersUNetConfig | null;
  /** Draws `n` samples with the given sampler (in batches), reproducible from the seed. */
  sample(options: ModelSampleOptions): SampleResult;
  /**
   * The negative ELBO in nats per example (−log p(x0) ≤ it), with its terms ([Ho20] eq. 5), with the model's
   * reverse variance: β̃_t (fixed_small), β_t (fixed_large), or its own Σ_θ (learned_range, [ND21] eq. 15).
   */
  bound(options: ModelBoundOptions): VlbResult;
  /**
   * The negative ELBO over a data set in nats: its mean per example with a standard error, the mean prior and
   * decoder terms and the mean of each evaluated L_{t−1} (estimateNegativeElbo; [Ho20] eq. 5, [ND21] §3.3).
   */
  estimateBound(options: ModelBoundEstimateOptions): ModelBoundEstimate;
  /** Frees the network's weights. */
  dispose(): void;
}

/** Where the UNet's and the scheduler's files sit in a diffusers folder: at the top, or in unet/ and scheduler/. */
function diffusersFile(files: DiffusersFiles, name: string, sub: string): Uint8Array | undefined {
  return files.get(name) ?? files.get(`${sub}/${name}`);
}

function json(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The network's NHWC output for a flattened batch, as a sampler wants it (learned-range values after all predictions). */
function batchModel(ctx: Context, net: Denoiser, shape: readonly number[], outChannels: number): BatchModel {
  const dims = shape.reduce((a, b) => a * b, 1);
  const channels = shape[shape.length - 1];
  return (xt, t) => {
    const B = xt.length / dims;
    const out = ctx.noGrad(() =>
      ctx.scope(() =>
        net.forward(ctx.fromArray(xt, [B, ...shape]), new Int32Array(B).fill(t)).toFloat32Array(),
      ),
    );
    if (outChannels === channels) return Float64Array.from(out);
    // [pixels, 2C] → the C predictions of every pixel, then the C learned-range values of every pixel.
    const n = xt.length;
    const split = new Float64Array(2 * n);
    splitLearnedRangeOutput(out, channels, split.subarray(0, n), split.subarray(n));
    return split;
  };
}

/** The default trajectory: x_T, 8 intermediate noise levels and the sample. */
function defaultRecordAt(T: number): number[] {
  return [T, ...[0.8, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05].map((f) => Math.round(f * T)), -1];
}

interface Loaded {
  kind: DiffusionModel['kind'];
  net: Denoiser;
  dataShape: number[];
  outChannels: number;
  schedule: NoiseSchedule;
  prediction: Prediction;
  variance: VarianceType;
  trainingSteps: number | null;
  training: TrainingRecord | null;
  defaults: DiffusionModel['defaults'];
  notes: string[];
  diffusersConfig: DiffusersUNetConfig | null;
}

function loadElbo(ctx: Context, source: Uint8Array | TrainingState, weights: WeightsCopy): Loaded {
  const state = source instanceof Uint8Array ? decodeTrainingState(source) : source;
  if (state.meta.kind !== 'ddpm')
    throw new Error(`this is a ${String(state.meta.kind)} checkpoint, not a diffusion model (DDPM)`);
  const config = state.meta.config;
  validateDdpmConfig(config);
  const learned = config.variance === 'learned-range';
  // The seed only fills the weights before they are overwritten: the network has no other random state.
  const net = createDenoiser(ctx, config.model, Rng.fromSeed(config.seed), config.variance);
  try {
    loadWeights(net, state.tensors, weights, isEmaOnly(state.meta));
  } catch (err) {
    disposeModule(net);
    throw err;
  }
  const shape = config.dataShape;
  const channels = shape[shape.length - 1];
  return {
    kind: 'elbo',
    net,
    dataShape: [...shape],
    outChannels: learned ? 2 * channels : channels,
    schedule: ddpmSchedule(config),
    prediction: config.prediction,
    // A fixed-variance checkpoint samples with β̃_t unless told otherwise (elbo's default, [Ho20] §3.2).
    variance: learned ? 'learnedRange' : 'posterior',
    trainingSteps: totalTrainingSteps(state.meta),
    training: {
      dataset: config.dataset,
      step: state.meta.step,
      ...(config.warmStart ? { warmStart: config.warmStart } : {}),
    },
    defaults: { clip: false },
    notes: [],
    diffusersConfig: null,
  };
}

function loadDiffusers(ctx: Context, files: DiffusersFiles): Loaded {
  const configBytes = diffusersFile(files, 'config.json', 'unet');
  if (!configBytes) throw new Error('the diffusers folder has no config.json (nor unet/config.json)');
  const weights = diffusersFile(files, 'diffusion_pytorch_model.safetensors', 'unet');
  if (!weights) {
    const bin = diffusersFile(files, 'diffusion_pytorch_model.bin', 'unet');
    throw new Error(
      bin
        ? 'the diffusers folder has its weights as diffusion_pytorch_model.bin (a pickle), which elbo does not read; ' +
            'convert it with diffusers: UNet2DModel.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True)'
        : 'the diffusers folder has no diffusion_pytorch_model.safetensors (nor unet/…)',
    );
  }
  const { config, ignored } = parseUNet2DConfig(json(configBytes, 'config.json'));
  const schedulerBytes = diffusersFile(files, 'scheduler_config.json', 'scheduler');
  const scheduler = parseSchedulerConfig(
    schedulerBytes ? json(schedulerBytes, 'scheduler_config.json') : null,
  );
  const C = config.inChannels;
  const learned = scheduler.variance === 'learnedRange';
  if (config.outChannels !== (learned ? 2 * C : C))
    throw new Error(
      `config.json: "out_channels" is ${config.outChannels}; with in_channels ${C} and variance_type ` +
        `${learned ? '"learned_range"' : 'fixed'} it must be ${learned ? 2 * C : C}`,
    );
  if (!config.sampleSize)
    throw new Error('config.json: "sample_size" is null; elbo needs the image size to sample');
  const net = new DiffusersUNet2D(ctx, config, Rng.fromSeed(0));
  try {
    loadDiffusersStateDict(net, decodeSafetensors(weights).tensors);
  } catch (err) {
    disposeModule(net);
    throw err;
  }
  return {
    kind: 'diffusers',
    net,
    dataShape: [...config.sampleSize, C],
    outChannels: config.outChannels,
    schedule: scheduler.schedule,
    prediction: scheduler.prediction,
    variance: scheduler.variance,
    trainingSteps: null,
    training: null,
    defaults: { clip: scheduler.clip, spacing: scheduler.spacing, stepsOffset: scheduler.stepsOffset },
    notes: [
      ...scheduler.notes,
      ...ignored.map((k) => `config.json "${k}" does not affect sampling; ignored`),
    ],
    diffusersConfig: config,
  };
}

/**
 * Loads a diffusion model: an elbo DDPM checkpoint — bytes or decoded, its EMA weights or (`weights: 'raw'`) its
 * raw ones, fixed or learned variances — or a diffusers UNet2DModel folder (config.json +
 * diffusion_pytorch_model.safetensors, scheduler_config.json if present; at the top or under unet/ and
 * scheduler/). Errors name the file and key that do not fit.
 */
export function loadDiffusionModel(
  ctx: Context,
  source: ModelSource,
  options: LoadOptions = {},
): DiffusionModel {
  const weights = options.weights ?? 'ema';
  if (weights !== 'ema' && weights !== 'raw')
    throw new Error(`weights must be 'ema' or 'raw', got ${String(weights)}`);
  const elbo = source instanceof Uint8Array || 'meta' in source;
  if (!elbo && weights !== 'ema')
    throw new Error("a diffusers folder holds one set of weights; raw weights are an elbo checkpoint's");
  const m = elbo
    ? loadElbo(ctx, source as Uint8Array | TrainingState, weights)
    : loadDiffusers(ctx, source as DiffusersFiles);
  const dims = m.dataShape.reduce((a, b) => a * b, 1);
  const dataKind: DataKind = m.dataShape.length === 3 ? 'discrete8bit' : 'continuous';
  const learned = m.variance === 'learnedRange';
  const network = batchModel(ctx, m.net, m.dataShape, m.outChannels);
  const T = m.schedule.T;
  const withDefaults = (s: SamplerConfig): SamplerConfig =>
    s.spacing !== undefined || m.defaults.spacing === undefined
      ? s
      : { ...s, spacing: m.defaults.spacing, stepsOffset: s.stepsOffset ?? m.defaults.stepsOffset };
  return {
    kind: m.kind,
    dataShape: m.dataShape,
    dims,
    schedule: m.schedule,
    prediction: m.prediction,
    variance: m.variance,
    trainingSteps: m.trainingSteps,
    training: m.training,
    dataKind,
    defaults: m.defaults,
    notes: m.notes,
    network,
    diffusersConfig: m.diffusersConfig,
    sample(o) {
      const sampler = withDefaults(o.sampler);
      if (
        sampler.kind === 'ancestral' &&
        sampler.variance === 'learned-range' &&
        m.variance !== 'learnedRange'
      )
        throw new Error(
          "ancestral sampling with variance 'learned-range' needs a model that learns its variances; this one " +
            "has fixed ones: use 'posterior' (β̃_t) or 'beta' (β_t)",
        );
      const recordAt =
        o.recordTrajectory === true ? defaultRecordAt(T) : o.recordTrajectory ? [...o.recordTrajectory] : [];
      if (o.xT) {
        return sample(m.schedule, network, {
          batch: o.n,
          dims,
          prediction: m.prediction,
          sampler,
          xT: o.xT,
          rng: rngOf(o.seed),
          recordAt,
          onStep: o.onProgress,
        });
      }
      return sampleInBatches(m.schedule, network, {
        n: o.n,
        dims,
        prediction: m.prediction,
        sampler,
        rng: rngOf(o.seed),
        recordAt,
        batchSize: o.batchSize,
        onProgress: o.onProgress,
      });
    },
    bound(o) {
      const n = o.images.length / dims;
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`bound: ${o.images.length} values are not whole examples of ${dims}`);
      const batchSize = o.batchSize ?? 64;
      const rng = Rng.fromSeed(o.seed);
      const parts: VlbResult[] = [];
      for (let start = 0; start < n; start += batchSize) {
        const batch = Math.min(batchSize, n - start);
        parts.push(
          negativeElbo(
            m.schedule,
            network,
            o.images.subarray(start * dims, (start + batch) * dims),
            batch,
            rng,
            {
              prediction: m.prediction,
              // fixed_small → β̃_t, fixed_large → β_t, learned_range → Σ_θ from the second half of the channels.
              variance: reverseVarianceOf(m.variance),
              data: o.data ?? dataKind,
              terms: o.terms ?? 'all',
              onTerm: o.onTerm,
            },
          ),
        );
      }
      return concatVlb(parts);
    },
    estimateBound(o) {
      const n = o.images.length / dims;
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`estimateBound: ${o.images.length} values are not whole examples of ${dims}`);
      const asked = o.variance ?? 'model';
      if (!['model', 'posterior', 'beta'].includes(asked))
        throw new Error(
          `estimateBound: variance must be 'model', 'posterior' or 'beta', got ${String(asked)}`,
        );
      const variance: ReverseVariance = asked !== 'model' ? asked : reverseVarianceOf(m.variance);
      const terms = o.terms ?? 'all';
      const r = estimateNegativeElbo(
        m.schedule,
        // A fixed σ_t² needs only the mean outputs of a network that also returns learned-range values.
        learned && variance !== 'learned-range' ? meanOutputs(network) : network,
        o.images,
        n,
        o.batches ?? nllBatches(n, terms),
        rngOf(o.seed),
        { prediction: m.prediction, variance, data: o.data ?? dataKind, terms, onBatch: o.onBatch },
      );
      return { ...r, variance };
    },
    dispose: () => disposeModule(m.net),
  };
}

/**
 * Per-example results of consecutive batches joined. The terms are joined when every batch evaluated the same
 * timesteps (terms 'all'); with strata each batch drew its own, and only the per-example sums are kept.
 */
function concatVlb(parts: VlbResult[]): VlbResult {
  if (parts.length === 1) return parts[0];
  const cat = (arrays: Float64Array[]) => {
    const out = new Float64Array(arrays.reduce((s, a) => s + a.length, 0));
    arrays.reduce((o, a) => (out.set(a, o), o + a.length), 0);
    return out;
  };
  const keys = [...parts[0].terms.keys()];
  const same = parts.every((r) => r.terms.size === keys.length && keys.every((t) => r.terms.has(t)));
  const terms = new Map<number, { nats: Float64Array; weight: number }>();
  if (same)
    for (const t of keys)
      terms.set(t, {
        nats: cat(parts.map((r) => r.terms.get(t)!.nats)),
        weight: parts[0].terms.get(t)!.weight,
      });
  return {
    prior: cat(parts.map((r) => r.prior)),
    decoder: cat(parts.map((r) => r.decoder)),
    terms,
    total: cat(parts.map((r) => r.total)),
  };
}

/**
 * Fetches a diffusers folder's files from a base URL (e.g. a Hugging Face "resolve/main/" URL) with the given fetch:
 * config.json and diffusion_pytorch_model.safetensors (at the top or under unet/), scheduler_config.json if any.
 */
export async function fetchDiffusersFolder(
  baseUrl: string,
  fetchFn: (url: string) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>,
): Promise<DiffusersFiles> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const files = new Map<string, Uint8Array>();
  const get = async (name: string) => {
    const r = await fetchFn(base + name);
    if (r.ok) files.set(name, new Uint8Array(await r.arrayBuffer()));
    return r.ok;
  };
  for (const dir of ['', 'unet/']) {
    if (await get(`${dir}config.json`)) {
      if (!(await get(`${dir}diffusion_pytorch_model.safetensors`)))
        throw new Error(`${base}${dir}diffusion_pytorch_model.safetensors could not be fetched`);
      break;
    }
  }
  if (files.size === 0) throw new Error(`no config.json at ${base} (nor ${base}unet/)`);
  if (!(await get('scheduler_config.json'))) await get('scheduler/scheduler_config.json');
  return files;
}
export * from './vae.js';
