/**
 * load → sample / bound: the one object a user holds after loading a diffusion model, whether it is an elbo
 * checkpoint or a diffusers UNet2DModel folder (as diffusers' pipelines are). No trainer is built; the network runs
 * without recording gradients, its intermediates freed after each call. No I/O here: the bytes come in (Node reads
 * files in node/diffusionModelFiles.ts, a browser fetches them with {@link fetchDiffusersFolder}).
 *
 * [Ho20] arXiv:2006.11239v2 · [ND21] arXiv:2102.09672v1 (learned variances, bits/dim)
 */
import { decodeSafetensors } from '../checkpoint/safetensors.js';
import type { Prediction } from '../diffusion/parameterization.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { negativeElbo, type VlbOptions, type VlbResult } from '../diffusion/vlb.js';
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
  type Denoiser,
} from '../train/ddpm.js';

/** A diffusers folder as file name (relative path, '/' separated) → bytes. */
export type DiffusersFiles = ReadonlyMap<string, Uint8Array>;

/** An elbo checkpoint's bytes, or a diffusers UNet2DModel folder's files. */
export type ModelSource = Uint8Array | DiffusersFiles;

/** Options of {@link DiffusionModel.sample}: how many samples, the sampler and the seed. */
export interface ModelSampleOptions {
  n: number;
  /**
   * The sampler; its `spacing` and `stepsOffset`, when absent, are the model's (a diffusers scheduler config's
   * timestep_spacing and steps_offset; elbo's default otherwise).
   */
  sampler: SamplerConfig;
  seed: number;
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
    for (let p = 0; p < n / channels; p++)
      for (let c = 0; c < channels; c++) {
        split[p * channels + c] = out[p * 2 * channels + c];
        split[n + p * channels + c] = out[p * 2 * channels + channels + c];
      }
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
  defaults: DiffusionModel['defaults'];
  notes: string[];
  diffusersConfig: DiffusersUNetConfig | null;
}

function loadElbo(ctx: Context, bytes: Uint8Array): Loaded {
  const state = decodeTrainingState(bytes);
  if (state.meta.kind !== 'ddpm')
    throw new Error(`this is a ${state.meta.kind} checkpoint, not a diffusion model (DDPM)`);
  const config = state.meta.config;
  validateDdpmConfig(config);
  const learned = config.variance === 'learned-range';
  const net = createDenoiser(ctx, config.model, Rng.fromSeed(0), config.variance);
  for (const [name, p] of net.namedParameters()) {
    const e = state.tensors.get(`ema.${name}`);
    if (!e) throw new Error(`checkpoint has no tensor "ema.${name}"`);
    if (e.shape.join() !== p.shape.join())
      throw new Error(
        `checkpoint tensor "ema.${name}" has shape [${e.shape.join(', ')}], the model needs [${p.shape.join(', ')}]`,
      );
    p.view().set(e.data);
  }
  const shape = config.dataShape;
  return {
    kind: 'elbo',
    net,
    dataShape: [...shape],
    outChannels: (learned ? 2 : 1) * shape[shape.length - 1],
    schedule: ddpmSchedule(config),
    prediction: config.prediction,
    // A fixed-variance model's default is β̃_t; a learned-range one's is its own Σ_θ ([ND21] eq. 15).
    variance: learned ? 'learnedRange' : 'posterior',
    trainingSteps: totalTrainingSteps(state.meta),
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
    defaults: { clip: scheduler.clip, spacing: scheduler.spacing, stepsOffset: scheduler.stepsOffset },
    notes: [
      ...scheduler.notes,
      ...ignored.map((k) => `config.json "${k}" does not affect sampling; ignored`),
    ],
    diffusersConfig: config,
  };
}

/**
 * Loads a diffusion model: an elbo DDPM checkpoint (its EMA weights) or a diffusers UNet2DModel folder
 * (config.json + diffusion_pytorch_model.safetensors, scheduler_config.json if present; at the top or under unet/
 * and scheduler/). Errors name the file and key that do not fit.
 */
export function loadDiffusionModel(ctx: Context, source: ModelSource): DiffusionModel {
  const m = source instanceof Uint8Array ? loadElbo(ctx, source) : loadDiffusers(ctx, source);
  const dims = m.dataShape.reduce((a, b) => a * b, 1);
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
          rng: Rng.fromSeed(o.seed),
          recordAt,
          onStep: o.onProgress,
        });
      }
      return sampleInBatches(m.schedule, network, {
        n: o.n,
        dims,
        prediction: m.prediction,
        sampler,
        rng: Rng.fromSeed(o.seed),
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
              data: o.data ?? 'discrete8bit',
              terms: o.terms ?? 'all',
              onTerm: o.onTerm,
            },
          ),
        );
      }
      return concatVlb(parts);
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
