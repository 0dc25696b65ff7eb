/**
 * Training a DDPM with L_simple ([Ho20] eq. 14, Algorithm 1), optionally Min-SNR-weighted (lossWeight.ts), or,
 * for a network that learns its variances ([ND21] §3.1), with L_hybrid = L_simple + λ·L_vlb or L_vlb alone
 * (importance-sampled timesteps, [ND21] §3.3). The basic step:
 * draw x0 from the data, t ~ U{0..T−1}, ε ~ N(0, I), form x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε and regress the
 * network output on the target of the chosen parameterisation (ε, x0 or v = √ᾱ ε − √(1 − ᾱ) x0), with Adam,
 * linear warm-up, gradient clipping and an EMA copy of the weights. The whole state (weights, EMA, Adam
 * moments, step, RNG and data-order state) exports as named arrays + JSON, so a checkpoint resumes bit for bit.
 *
 * [Ho20] arXiv:2006.11239v2 · [SH22] arXiv:2202.00512v2 (v-prediction) · [ND21] arXiv:2102.09672v1
 */
import { noiseSchedule, type NoiseSchedule, type ScheduleName } from '../diffusion/schedule.js';
import { splitLearnedRangeOutput, type VarianceKind, VARIANCE_KINDS } from '../diffusion/learnedVariance.js';
import { type LossWeighting, minSnrLossWeight } from '../diffusion/lossWeight.js';
import type { Prediction } from '../diffusion/parameterization.js';
import { assertNever } from '../math/checks.js';
import { DEFAULT_MLP_DENOISER, MlpDenoiser, type MlpDenoiserConfig } from '../nn/mlpDenoiser.js';
import type { Module } from '../nn/module.js';
import { maxUNetLevels, UNet, type UNetConfig } from '../nn/unet.js';
import { type DiffusersUNetConfig, validateDiffusersUNetConfig } from '../interop/diffusers/config.js';
import { DiffusersUNet2D } from '../interop/diffusers/unet2d.js';
import { Rng, type RngState } from '../random/rng.js';
import type { BatchModel } from '../samplers/types.js';
import { mseLoss, mul } from '../tensor/ops/elementwise.js';
import type { Context, Tensor } from '../tensor/tensor.js';
import { copyParameters, emaDecayAt, updateEma } from './ema.js';
import { clipGradNorm, linearDecayLr, type LrDecay, NonFiniteError, warmupLr } from './gradients.js';
import { Adam } from './optim.js';
import {
  type ImportanceSamplerState,
  importanceProbabilities,
  initialImportanceState,
  sampleImportanceTimesteps,
  updateImportanceState,
  validateImportanceState,
} from './importanceSampler.js';
import { exportTrainingTensors, loadTrainingTensors, type NamedArrays } from './trainingTensors.js';
import { type VlbObjective, vlbObjectiveLossAndGradient } from './vlbObjective.js';
import { warmStart, type WarmStartReport } from './warmStart.js';

/**
 * Which network predicts, and its shape: elbo's own UNet, an MLP for vectors, or diffusers' UNet2DModel
 * architecture (src/interop/diffusers; a model trained with it exports to a diffusers folder, see `elbo export`).
 */
export type DenoiserConfig =
  | { kind: 'unet'; unet: UNetConfig }
  | { kind: 'mlp'; mlp: MlpDenoiserConfig }
  | { kind: 'diffusers'; diffusers: DiffusersUNetConfig };

/**
 * What training minimises ([ND21] §3.1). 'simple': L_simple (the mean only). 'hybrid': L_simple + λ·L_vlb with
 * the stop-gradient on the mean inside L_vlb, so L_vlb trains the variances only (λ = vlbWeight, the paper's
 * 0.001). 'vlb': L_vlb alone, through mean and variance, with importance-sampled timesteps ([ND21] §3.3).
 * L_vlb is estimated as improved-diffusion does: the term L_t of the sampled t in bits/dim times T.
 */
export type DdpmObjective = { kind: 'simple' } | VlbObjective;

/** Every training objective (`--objective`), for validating strings. */
export const OBJECTIVE_KINDS: readonly DdpmObjective['kind'][] = ['simple', 'hybrid', 'vlb'];

/** The paper's λ of L_hybrid ([ND21] §3.1). */
export const DEFAULT_VLB_WEIGHT = 0.001;

/** A network that maps (x_t, t) to its prediction; images are [B, H, W, C], vectors [B, D]. */
export interface Denoiser extends Module {
  /** The raw prediction (ε̂, x̂0 or v̂) for a batch x_t at per-example timesteps t. */
  forward(xt: Tensor, t: ArrayLike<number>): Tensor;
}

/** Everything that defines a DDPM training run; stored in its checkpoints. */
export interface DdpmConfig {
  /** Dataset name as given to the CLI (recorded in checkpoints). */
  dataset: string;
  /** Shape of one example: [H, W, C] for images, [D] for vectors. */
  dataShape: number[];
  model: DenoiserConfig;
  schedule: ScheduleName;
  T: number;
  prediction: Prediction;
  /** Weights on the per-example squared errors (see lossWeight.ts); absent: L_simple, every t alike. */
  lossWeighting?: LossWeighting;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  /** Optional linear decay of the learning rate to zero (absent in checkpoints written before it existed). */
  lrDecay?: LrDecay;
  /** Max global gradient norm (0: no clipping). */
  gradClip: number;
  emaDecay: number;
  seed: number;
  /**
   * Reverse variances. Absent or 'fixed': the network predicts the mean only; the sampler picks β̃_t or β_t.
   * 'learned-range': it outputs 2C channels, the mean then v, log Σ = frac·log β_t + (1 − frac)·log β̃_t,
   * frac = (v + 1)/2 ([ND21] eq. 15; learnedVariance.ts). Absent in checkpoints written before it existed.
   */
  variance?: VarianceKind;
  /** The training objective (absent: L_simple, as every checkpoint before it existed). Not simple: learned variances. */
  objective?: DdpmObjective;
  /**
   * Where the weights came from when training began from another checkpoint's (see warmStart.ts): its path and
   * the total training steps behind it ({@link totalTrainingSteps}).
   */
  warmStart?: { from: string; step: number };
}

/** Where training batches come from; its state is saved in checkpoints so resumed runs see the same data. */
export interface BatchSource {
  /** The next `batchSize` examples, flattened, values in the model's data range. */
  next(batchSize: number): Float32Array;
  /** A JSON-serialisable snapshot of the position in the data (saved in checkpoints). */
  getState(): unknown;
  /** Continues from a snapshot made by `getState`. */
  setState(state: unknown): void;
}

/**
 * The noise schedule of a config. The linear schedule's endpoints 1e-4 and 0.02 are scaled by 1000/T
 * (improved-diffusion's `get_named_beta_schedule`) so that every T ends near pure noise: unscaled, T = 200
 * would stop at ᾱ_T ≈ 0.13 and the prior term KL(q(x_T|x0)‖N(0, I)) would be far from 0. At T = 1000 nothing
 * changes. DEVIATION: for T < 50 the scaled β_end would reach 1, so it is capped at 0.999 (as the cosine
 * schedule's β is).
 */
export function ddpmSchedule(config: Pick<DdpmConfig, 'schedule' | 'T'>): NoiseSchedule {
  if (config.schedule !== 'linear') return noiseSchedule(config.schedule, config.T);
  const scale = 1000 / config.T;
  return noiseSchedule('linear', config.T, {
    betaStart: 1e-4 * scale,
    betaEnd: Math.min(0.02 * scale, 0.999),
  });
}

/** Builds the network a {@link DenoiserConfig} describes; with learned variances ([ND21] §3.1) its output
 * has twice the data's channels. */
export function createDenoiser(
  ctx: Context,
  config: DenoiserConfig,
  rng: Rng,
  variance: VarianceKind = 'fixed',
): Denoiser {
  const learned = variance === 'learned-range';
  switch (config.kind) {
    case 'unet':
      return new UNet(ctx, config.unet, rng, learned);
    case 'mlp':
      return new MlpDenoiser(ctx, { ...DEFAULT_MLP_DENOISER, ...config.mlp }, rng, learned);
    case 'diffusers': {
      // As diffusers' learned_range UNet2DModel: one conv_out of 2C channels, the means then v ([ND21] §3.1).
      const d = config.diffusers;
      if (d.outChannels !== (learned ? 2 : 1) * d.inChannels)
        throw new Error(
          `a diffusers UNet with ${learned ? 'learned' : 'fixed'} variances has out_channels ` +
            `${learned ? '2 × ' : ''}in_channels (${(learned ? 2 : 1) * d.inChannels}), got ${d.outChannels}`,
        );
      return new DiffusersUNet2D(ctx, d, rng);
    }
    default:
      return assertNever(config, 'model kind');
  }
}

/**
 * What one training step reports: the step, the loss, the gradient norm before clipping, the learning rate.
 */
export interface TrainStepResult {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  /**
   * Objectives hybrid and vlb: the batch's mean squared error of the mean output (L_simple, unweighted) and its
   * single-timestep estimate of Σ_{t} L_t in bits/dim (prior term excluded): the mean over examples of w·T·L_t.
   */
  mse?: number;
  vlbBpd?: number;
}

/** Named float32 arrays with shapes, and JSON metadata: what a checkpoint stores. */
export interface TrainingState {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  meta: {
    kind: 'ddpm';
    config: DdpmConfig;
    step: number;
    rng: RngState;
    data: unknown;
    adamStep: number;
    /** Objective vlb: the importance sampler's loss history (absent otherwise). */
    timestepSampler?: ImportanceSamplerState;
  };
}

/**
 * Trains a DDPM on L_simple ([Ho20] eq. 14, Algorithm 1), optionally Min-SNR-weighted: it owns the
 * network, its EMA copy, Adam and the data-order state, and exports all of it for exact resumption.
 */
export class DdpmTrainer {
  readonly schedule: NoiseSchedule;
  readonly model: Denoiser;
  readonly ema: Denoiser;
  readonly opt: Adam;
  step = 0;
  private rng: Rng;
  private readonly dims: number;
  /** Objective vlb: the history of L_t behind the importance-sampled timesteps ([ND21] §3.3). */
  private timestepSampler: ImportanceSamplerState | null;

  constructor(
    readonly ctx: Context,
    readonly config: DdpmConfig,
    readonly data: BatchSource | null,
  ) {
    validateDdpmConfig(config);
    this.schedule = ddpmSchedule(config);
    const init = Rng.fromSeed(config.seed);
    this.model = createDenoiser(ctx, config.model, init, config.variance);
    this.ema = createDenoiser(ctx, config.model, init, config.variance);
    copyParameters(ctx, this.model, this.ema);
    this.opt = new Adam(ctx, this.model, { lr: config.lr });
    this.rng = init.split();
    this.dims = config.dataShape.reduce((a, b) => a * b, 1);
    this.timestepSampler = config.objective?.kind === 'vlb' ? initialImportanceState(config.T) : null;
  }

  /** Whether the network outputs learned variances besides the mean ([ND21] §3.1). */
  get learnsVariance(): boolean {
    return this.config.variance === 'learned-range';
  }

  /**
   * Before the first step: takes a trained checkpoint's EMA weights (tensors "ema.*") into the model and its
   * EMA, new residual blocks and attention layers starting as the identity (warmStart.ts); Adam starts afresh.
   * A fixed-variance checkpoint grows into this learned-variance network: the new v output layer starts at
   * v = −1 (Σ = β̃_t, today's sampling variance; warmStart.ts GROWN_VARIANCE_V).
   */
  warmStartFrom(tensors: NamedArrays): WarmStartReport {
    if (this.step !== 0)
      throw new Error(`warm start only before training (this trainer is at step ${this.step})`);
    const report = warmStart(this.model, tensors, 'ema.');
    copyParameters(this.ctx, this.model, this.ema);
    return report;
  }

  /**
   * x_t and the regression target for a batch x0 (float32), with t_i ~ U{0..T−1} (or the given `timesteps`),
   * ε ~ N(0, I), and, under a loss weighting, √w(t_i) repeated over each example's elements (null for L_simple).
   */
  makeBatch(
    x0: Float32Array,
    timesteps?: Int32Array,
  ): {
    xt: Float32Array;
    t: Int32Array;
    target: Float32Array;
    sqrtWeight: Float32Array | null;
  } {
    const { schedule, dims, config } = this;
    const B = x0.length / dims;
    const t = new Int32Array(B);
    const eps = this.rng.fillNormal(new Float32Array(x0.length));
    const xt = new Float32Array(x0.length);
    const target = new Float32Array(x0.length);
    const sqrtWeight = config.lossWeighting ? new Float32Array(x0.length) : null;
    for (let b = 0; b < B; b++) {
      t[b] = timesteps ? timesteps[b] : this.rng.int(schedule.T);
      const a = schedule.sqrtAlphaBar[t[b]];
      const s = schedule.sqrtOneMinusAlphaBar[t[b]];
      for (let i = b * dims; i < (b + 1) * dims; i++) {
        xt[i] = a * x0[i] + s * eps[i]; // [Ho20] eq. 4
        const p = config.prediction;
        target[i] = p === 'eps' ? eps[i] : p === 'x0' ? x0[i] : a * eps[i] - s * x0[i]; // v: [SH22] §4
      }
      if (sqrtWeight && config.lossWeighting) {
        const { gamma } = config.lossWeighting;
        const w = minSnrLossWeight(schedule.snr[t[b]], gamma, config.prediction);
        sqrtWeight.fill(Math.sqrt(w), b * dims, (b + 1) * dims);
      }
    }
    return { xt, t, target, sqrtWeight };
  }

  private shape(batch: number): number[] {
    return [batch, ...this.config.dataShape];
  }

  /** Channels of the data: the last axis of dataShape (the network outputs as many again of v if learned). */
  private dataChannels(): number {
    return this.config.dataShape[this.config.dataShape.length - 1];
  }

  /**
   * One optimisation step of the config's objective on the next batch. Throws NonFiniteError before updating on
   * NaN/Inf.
   */
  trainStep(): TrainStepResult {
    if (!this.data) throw new Error('this trainer has no data source (restored for sampling only)');
    const { ctx, config } = this;
    const x0 = this.data.next(config.batchSize);
    this.opt.zeroGrad();
    const objective = config.objective ?? { kind: 'simple' };
    const r =
      objective.kind === 'simple' ? { loss: this.backwardSimple(x0) } : this.backwardVlb(x0, objective);
    const { loss } = r;
    const step = this.step + 1;
    if (!Number.isFinite(loss)) throw new NonFiniteError(step, `the loss (${loss})`);
    const gradNorm =
      config.gradClip > 0 ? clipGradNorm(this.model, config.gradClip) : clipGradNorm(this.model, Infinity);
    if (!Number.isFinite(gradNorm)) throw new NonFiniteError(step, 'the gradient norm');
    const lr = ddpmLearningRate(config, this.step);
    this.opt.lr = lr;
    this.opt.update();
    updateEma(ctx, this.model, this.ema, emaDecayAt(config.emaDecay, this.step));
    this.step = step;
    if (this.timestepSampler && 'terms' in r)
      updateImportanceState(this.timestepSampler, r.terms.t, r.terms.bpd);
    return 'terms' in r
      ? { step, loss, gradNorm, lr, mse: r.mse, vlbBpd: r.vlbBpd }
      : { step, loss, gradNorm, lr };
  }

  /** L_simple (optionally Min-SNR-weighted) on a batch: the forward pass, the loss, its backward; returns the loss. */
  private backwardSimple(x0: Float32Array): number {
    const { ctx, config } = this;
    const { xt, t, target, sqrtWeight } = this.makeBatch(x0);
    return ctx.scope(() => {
      const out = this.model.forward(ctx.fromArray(xt, this.shape(config.batchSize)), t);
      // Weighted: mean of w(t_i)(out − target)² as the squared error of √w·out against √w·target.
      if (sqrtWeight) for (let i = 0; i < target.length; i++) target[i] *= sqrtWeight[i];
      const fitted = sqrtWeight ? mul(out, ctx.fromArray(sqrtWeight, out.shape)) : out;
      const l = mseLoss(fitted, ctx.fromArray(target, out.shape));
      ctx.backward(l);
      return l.item();
    });
  }

  /**
   * L_hybrid or L_vlb on a batch ([ND21] §3.1, §3.3): the loss and its gradient with respect to the network's
   * output in float64 (vlbObjective.ts), the gradient seeding the engine's backward pass at the output.
   */
  private backwardVlb(
    x0: Float32Array,
    objective: VlbObjective,
  ): { loss: number; mse: number; vlbBpd: number; terms: { t: Int32Array; bpd: Float64Array } } {
    const { ctx, config, schedule, dims } = this;
    const B = config.batchSize;
    const drawn =
      objective.kind === 'vlb' && this.timestepSampler
        ? sampleImportanceTimesteps(importanceProbabilities(this.timestepSampler), B, this.rng)
        : null;
    const { xt, t, target, sqrtWeight } = this.makeBatch(x0, drawn?.t);
    const mseWeight = sqrtWeight
      ? Float64Array.from({ length: B }, (_, b) => sqrtWeight[b * dims] ** 2)
      : undefined;
    const data = config.dataShape.length === 3 ? 'discrete8bit' : 'continuous';
    return ctx.scope(() => {
      const out = this.model.forward(ctx.fromArray(xt, this.shape(B)), t);
      const r = vlbObjectiveLossAndGradient(
        schedule,
        config.prediction,
        data,
        objective,
        { x0, xt, t, target, mseWeight, importanceWeight: drawn?.weight },
        out.view(),
        this.dataChannels(),
      );
      ctx.backward(out, ctx.fromArray(r.grad, out.shape));
      return { loss: r.loss, mse: r.mse, vlbBpd: r.vlbBpd, terms: { t, bpd: r.termBpd } };
    });
  }

  /**
   * The network (EMA weights by default) as a sampler's batch function, without recording gradients. A network
   * with learned variances returns 2·batch·dims values: every example's mean output first (the layout of a
   * fixed-variance network's output), then every example's v (same layout; see learnedRangeLogVariance).
   */
  batchModel(useEma = true): BatchModel {
    const net = useEma ? this.ema : this.model;
    const channels = this.dataChannels();
    return (xt, t) => {
      const B = xt.length / this.dims;
      return this.ctx.noGrad(() =>
        this.ctx.scope(() => {
          const out = net.forward(this.ctx.fromArray(xt, this.shape(B)), new Int32Array(B).fill(t));
          if (!this.learnsVariance) return Float64Array.from(out.view());
          const both = new Float64Array(2 * B * this.dims);
          splitLearnedRangeOutput(
            out.view(),
            channels,
            both.subarray(0, B * this.dims),
            both.subarray(B * this.dims),
          );
          return both;
        }),
      );
    };
  }

  /** The full training state (weights, EMA weights, Adam moments, step, RNG and data-order state). */
  exportState(): TrainingState {
    const tensors = exportTrainingTensors(this.model, this.ema, this.opt);
    return {
      tensors,
      meta: {
        kind: 'ddpm',
        config: this.config,
        step: this.step,
        rng: this.rng.state(),
        data: this.data?.getState() ?? null,
        adamStep: this.opt.step,
        ...(this.timestepSampler ? { timestepSampler: structuredClone(this.timestepSampler) } : {}),
      },
    };
  }

  /**
   * Rebuilds a trainer from exported state; every tensor must be present with its shape, and, when `data` is
   * given (training continues), Adam's moments too.
   */
  static restore(ctx: Context, state: TrainingState, data: BatchSource | null): DdpmTrainer {
    const trainer = new DdpmTrainer(ctx, state.meta.config, data);
    try {
      loadTrainingTensors(state.tensors, trainer.model, trainer.ema, trainer.opt, data !== null);
      trainer.opt.step = state.meta.adamStep;
      trainer.step = state.meta.step;
      trainer.rng = Rng.fromState(state.meta.rng);
      if (trainer.timestepSampler && state.meta.timestepSampler !== undefined)
        trainer.timestepSampler = structuredClone(
          validateImportanceState(state.meta.timestepSampler, trainer.config.T),
        );
      if (data && state.meta.data !== null) data.setState(state.meta.data);
    } catch (err) {
      trainer.dispose();
      throw err;
    }
    return trainer;
  }

  /** Frees the weights, the EMA weights and the optimiser state. */
  dispose(): void {
    for (const m of [this.model, this.ema]) for (const [, p] of m.namedParameters()) p.dispose();
    this.opt.dispose();
  }
}

/**
 * Training steps behind a checkpoint's weights: its own steps plus, after a warm start (--init-from), the total
 * of the checkpoint it started from (recorded in `config.warmStart.step`).
 */
export function totalTrainingSteps(meta: { step: number; config: Pick<DdpmConfig, 'warmStart'> }): number {
  return meta.step + (meta.config.warmStart?.step ?? 0);
}

/** A checkpoint's steps for people: "21000", or "21000 (3000 after a warm start from 18000)". */
export function describeTrainingSteps(meta: { step: number; config: Pick<DdpmConfig, 'warmStart'> }): string {
  const total = totalTrainingSteps(meta);
  return meta.config.warmStart
    ? `${total} (${meta.step} after a warm start from ${total - meta.step})`
    : `${total}`;
}

/** The learning rate at a 0-based step: linear warm-up, then the optional linear decay to zero. */
export function ddpmLearningRate(config: DdpmConfig, step: number): number {
  const lr = warmupLr(config.lr, step, config.warmupSteps);
  return config.lrDecay ? linearDecayLr(lr, step, config.lrDecay) : lr;
}

/** Throws, saying what is wrong, unless the config describes a trainable DDPM. */
export function validateDdpmConfig(c: DdpmConfig): void {
  const bad = (msg: string) => {
    throw new Error(`invalid DDPM config: ${msg}`);
  };
  if (!Number.isInteger(c.T) || c.T < 2) bad(`T must be an integer ≥ 2, got ${c.T}`);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1)
    bad(`batchSize must be a positive integer, got ${c.batchSize}`);
  if (!(c.lr > 0)) bad(`lr must be positive, got ${c.lr}`);
  if (!(c.emaDecay >= 0 && c.emaDecay < 1)) bad(`emaDecay must be in [0, 1), got ${c.emaDecay}`);
  if (!(c.gradClip >= 0)) bad(`gradClip must be ≥ 0, got ${c.gradClip}`);
  if (!Number.isInteger(c.warmupSteps) || c.warmupSteps < 0)
    bad(`warmupSteps must be an integer ≥ 0, got ${c.warmupSteps}`);
  if (
    c.lrDecay &&
    !(Number.isInteger(c.lrDecay.start) && c.lrDecay.start >= 0 && c.lrDecay.end > c.lrDecay.start)
  )
    bad(`lrDecay must have integer 0 ≤ start < end, got ${JSON.stringify(c.lrDecay)}`);
  if (c.lossWeighting && !(c.lossWeighting.kind === 'min-snr' && c.lossWeighting.gamma > 0))
    bad(`lossWeighting must be Min-SNR with γ > 0, got ${JSON.stringify(c.lossWeighting)}`);
  if (c.variance !== undefined && !VARIANCE_KINDS.includes(c.variance))
    bad(`variance must be one of ${VARIANCE_KINDS.join(', ')}, got ${JSON.stringify(c.variance)}`);
  const objective = c.objective ?? { kind: 'simple' };
  if (!OBJECTIVE_KINDS.includes(objective.kind))
    bad(`objective must be one of ${OBJECTIVE_KINDS.join(', ')}, got ${JSON.stringify(c.objective)}`);
  if (objective.kind === 'hybrid' && !(objective.vlbWeight > 0 && Number.isFinite(objective.vlbWeight)))
    bad(`the hybrid objective's vlbWeight must be a positive number, got ${objective.vlbWeight}`);
  const learned = c.variance === 'learned-range';
  if (objective.kind !== 'simple' && !learned)
    bad(`objective ${objective.kind} trains learned variances: it needs variance 'learned-range'`);
  if (objective.kind === 'simple' && learned)
    bad(`learned variances get no gradient from L_simple: use objective hybrid or vlb`);
  if (objective.kind === 'vlb' && c.lossWeighting)
    bad('objective vlb is the bound itself: it takes no loss weighting (Min-SNR applies to L_simple)');
  if (c.model.kind === 'unet') {
    const levels = c.model.unet.channels.length;
    const [h, w] = c.dataShape;
    if (c.dataShape.length !== 3) bad(`a UNet needs images [H, W, C], got [${c.dataShape.join(', ')}]`);
    if (levels > maxUNetLevels(h, w))
      bad(
        `a UNet of ${levels} levels halves ${h}×${w} images below 2×2 (at most ${maxUNetLevels(h, w)} levels)`,
      );
  }
  if (c.model.kind === 'diffusers') {
    const d = c.model.diffusers;
    validateDiffusersUNetConfig(d);
    const factor = 2 ** (d.blockOutChannels.length - 1);
    if (c.dataShape.length !== 3 || c.dataShape[0] % factor !== 0 || c.dataShape[1] % factor !== 0)
      bad(
        `a diffusers UNet of ${d.blockOutChannels.length} levels needs images whose sides are multiples of ${factor}`,
      );
    const outChannels = (learned ? 2 : 1) * c.dataShape[2];
    if (d.inChannels !== c.dataShape[2] || d.outChannels !== outChannels)
      bad(
        `the diffusers UNet's in channels must be the images' ${c.dataShape[2]} and its out channels ` +
          `${outChannels}${learned ? ' (learned variances: the means, then v)' : ''}`,
      );
  }
}
