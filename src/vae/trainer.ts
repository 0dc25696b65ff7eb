/**
 * Training a VAE by stochastic gradient ascent on the reparameterised ELBO (Auto-Encoding Variational Bayes,
 * [KW14] Algorithm 1 with Adam): per batch, draw images, binarise them afresh (dynamic binarisation), draw
 * ε ~ N(0, I), and step on −mean(log p(x|z) − β KL). With optional learning-rate warm-up and halving, KL
 * warm-up, gradient clipping, an EMA copy of the weights and the NaN guard. The whole state (weights, EMA,
 * Adam moments, step, RNG and data-order state) exports as named arrays + JSON (meta.kind 'vae'), so a
 * checkpoint resumes bit for bit, as the DDPM trainer's does.
 *
 * [KW14] arXiv:1312.6114v11 · [BGS16] arXiv:1509.00519v4 · [SRM16] arXiv:1602.02282v3 §2.3 (KL warm-up)
 */
import { exportTrainingTensors, loadTrainingTensors } from '../train/trainingTensors.js';
import { dynamicBinarize } from '../data/images.js';
import { assertNever } from '../math/checks.js';
import { Rng, type RngState } from '../random/rng.js';
import type { Context, Tensor } from '../tensor/tensor.js';
import type { BatchSource } from '../train/ddpm.js';
import { copyParameters, emaDecayAt, updateEma } from '../train/ema.js';
import { clipGradNorm, NonFiniteError, warmupLr } from '../train/gradients.js';
import { Adam } from '../train/optim.js';
import { dataDims, type VaeConfig, validateVaeConfig } from './config.js';
import { VaeModel } from './nets.js';
import { elboTerms } from './objective.js';

/** Named float32 arrays with shapes, and JSON metadata: what a VAE checkpoint stores. */
export interface VaeTrainingState {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  meta: {
    kind: 'vae';
    config: VaeConfig;
    step: number;
    rng: RngState;
    data: unknown;
    adamStep: number;
  };
}

/** What one VAE training step reports (nats per example). */
export interface VaeStepResult {
  step: number;
  /** −mean(log p(x|z) − β KL), nats per example (the negative ELBO when β = 1). */
  loss: number;
  /** Batch means of the one-sample estimates, nats per example. */
  elbo: number;
  reconstruction: number;
  kl: number;
  klWeight: number;
  gradNorm: number;
  lr: number;
}

/**
 * The KL weight β at a 0-based step: min(1, (step + 1)/klWarmupSteps), 1 without warm-up.
 * @see [SRM16] §2.3 (β rises linearly from 0 to 1)
 */
export function klWeightAt(step: number, klWarmupSteps: number): number {
  return klWarmupSteps > 0 ? Math.min(1, (step + 1) / klWarmupSteps) : 1;
}

/** Learning rate at a 0-based step: linear warm-up, then halved every lrHalfLife steps (0: constant). */
export function vaeLearningRate(config: VaeConfig, step: number): number {
  const lr = warmupLr(config.lr, step, config.warmupSteps);
  return config.lrHalfLife > 0 ? lr * 2 ** (-step / config.lrHalfLife) : lr;
}

/**
 * The decoder's targets for images in [−1, 1]: a fresh Bernoulli draw per pixel with probability (x + 1)/2
 * (dynamic binarisation), or the grey levels rescaled to [0, 1] (Bernoulli, no binarisation), or the images as
 * they are (Gaussian decoder).
 */
export function decoderTargets(config: VaeConfig, images: Float32Array, rng: Rng): Float32Array {
  const l = config.likelihood;
  switch (l.kind) {
    case 'bernoulli':
      return config.binarize === 'dynamic'
        ? dynamicBinarize(images, rng)
        : images.map((v) => Math.min(1, Math.max(0, (v + 1) / 2)));
    case 'gaussian':
      return images;
    default:
      return assertNever(l, 'likelihood kind');
  }
}

/** The decoder's output as images in [−1, 1] for pictures: 2σ(l) − 1 (Bernoulli means) or the Gaussian mean. */
export function decoderMeanImages(config: VaeConfig, decoderOut: Float32Array): Float32Array {
  const l = config.likelihood;
  switch (l.kind) {
    case 'bernoulli':
      return decoderOut.map((v) => 2 / (1 + Math.exp(-v)) - 1);
    case 'gaussian':
      return decoderOut.slice();
    default:
      return assertNever(l, 'likelihood kind');
  }
}

/**
 * Trains a VAE on the reparameterised ELBO ([KW14] eq. 10): it owns the model, its EMA copy, Adam
 * and the data-order state, and exports all of it for exact resumption.
 */
export class VaeTrainer {
  readonly model: VaeModel;
  readonly ema: VaeModel;
  readonly opt: Adam;
  step = 0;
  private rng: Rng;
  readonly dims: number;

  constructor(
    readonly ctx: Context,
    readonly config: VaeConfig,
    readonly data: BatchSource | null,
  ) {
    validateVaeConfig(config);
    const init = Rng.fromSeed(config.seed);
    this.model = new VaeModel(ctx, config, init);
    this.ema = new VaeModel(ctx, config, init);
    copyParameters(ctx, this.model, this.ema);
    this.opt = new Adam(ctx, this.model, { lr: config.lr });
    this.rng = init.split();
    this.dims = dataDims(config);
  }

  private shape(batch: number): number[] {
    return [batch, ...this.config.dataShape];
  }

  /** One Adam step on the next batch. Throws NonFiniteError, before touching the weights, on NaN/Inf. */
  trainStep(): VaeStepResult {
    if (!this.data) throw new Error('this trainer has no data source (restored for evaluation only)');
    const { ctx, config } = this;
    const B = config.batchSize;
    const images = this.data.next(B);
    if (images.length !== B * this.dims)
      throw new Error(`the data source gave ${images.length} values, a batch needs ${B * this.dims}`);
    const x = decoderTargets(config, images, this.rng);
    const eps = this.rng.fillNormal(new Float32Array(B * config.latentDim));
    const klWeight = klWeightAt(this.step, config.klWarmupSteps);
    this.opt.zeroGrad();
    const r = ctx.scope(() => {
      const t = elboTerms(
        this.model,
        ctx.fromArray(x, this.shape(B)),
        ctx.fromArray(eps, [B, config.latentDim]),
        klWeight,
      );
      ctx.backward(t.loss);
      return {
        loss: t.loss.item(),
        elbo: mean(t.elbo),
        reconstruction: mean(t.reconstruction),
        kl: mean(t.kl),
      };
    });
    const step = this.step + 1;
    if (!Number.isFinite(r.loss)) throw new NonFiniteError(step, `the loss (${r.loss})`);
    const gradNorm = clipGradNorm(this.model, config.gradClip > 0 ? config.gradClip : Infinity);
    if (!Number.isFinite(gradNorm)) throw new NonFiniteError(step, 'the gradient norm');
    const lr = vaeLearningRate(config, this.step);
    this.opt.lr = lr;
    this.opt.update();
    updateEma(ctx, this.model, this.ema, emaDecayAt(config.emaDecay, this.step));
    this.step = step;
    return { step, ...r, klWeight, gradNorm, lr };
  }

  /** The weights used for evaluation and pictures: the EMA copy by default. */
  net(useEma = true): VaeModel {
    return useEma ? this.ema : this.model;
  }

  /** The full training state (weights, EMA weights, Adam moments, step, RNG and data-order state). */
  exportState(): VaeTrainingState {
    const tensors = exportTrainingTensors(this.model, this.ema, this.opt);
    return {
      tensors,
      meta: {
        kind: 'vae',
        config: this.config,
        step: this.step,
        rng: this.rng.state(),
        data: this.data?.getState() ?? null,
        adamStep: this.opt.step,
      },
    };
  }

  /** Rebuilds a trainer from exported state; every tensor must be present with its shape. */
  static restore(ctx: Context, state: VaeTrainingState, data: BatchSource | null): VaeTrainer {
    if (state.meta.kind !== 'vae')
      throw new Error(`expected a VAE checkpoint, got kind "${String(state.meta.kind)}"`);
    const trainer = new VaeTrainer(ctx, state.meta.config, data);
    try {
      loadTrainingTensors(state.tensors, trainer.model, trainer.ema, trainer.opt, data !== null);
      trainer.opt.step = state.meta.adamStep;
      trainer.step = state.meta.step;
      trainer.rng = Rng.fromState(state.meta.rng);
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

function mean(t: Tensor): number {
  let s = 0;
  for (const v of t.view()) s += v;
  return s / t.size;
}
