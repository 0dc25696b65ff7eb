/**
 * A small MLP denoiser for low-dimensional data (the 2-D toy sets): the input x_t and a sinusoidal
 * embedding of t are concatenated and passed through SiLU layers; the output has the data's dimension.
 */
import type { Rng } from '../random/rng.js';
import { silu } from '../tensor/ops/elementwise.js';
import { concatChannels } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Context } from '../tensor/tensor.js';
import { Linear } from './layers.js';
import { collectParameters, type Module } from './module.js';
import { timestepEmbedding } from './unet.js';

/** The shape of an {@link MlpDenoiser}. */
export interface MlpDenoiserConfig {
  /** Data dimension (2 for the toy sets). */
  dims: number;
  hidden: number;
  /** Hidden layers (each Linear + SiLU). */
  layers: number;
  timeEmbeddingDim: number;
}

/** The MLP denoiser of the 2-D toy problems: 3 hidden layers of 128, a 32-dimensional time embedding. */
export const DEFAULT_MLP_DENOISER: MlpDenoiserConfig = {
  dims: 2,
  hidden: 128,
  layers: 3,
  timeEmbeddingDim: 32,
};

/** A denoiser for vector data: [x_t, embedding(t)] → hidden Linear + SiLU layers → the prediction. */
export class MlpDenoiser implements Module {
  readonly hidden: Linear[] = [];
  readonly out: Linear;
  /** Learned variances only: the layer giving v per dimension, beside `out` (see UNet's convOutVar). */
  readonly outVar: Linear | null;
  constructor(
    ctx: Context,
    readonly config: MlpDenoiserConfig,
    rng: Rng,
    /** Whether it also outputs v per dimension ([ND21] §3.1): [B, 2·dims], the mean first. */
    learnsVariance = false,
  ) {
    let width = config.dims + config.timeEmbeddingDim;
    for (let i = 0; i < config.layers; i++) {
      this.hidden.push(new Linear(ctx, width, config.hidden, rng));
      width = config.hidden;
    }
    this.out = new Linear(ctx, width, config.dims, rng);
    this.outVar = learnsVariance ? new Linear(ctx, width, config.dims, rng) : null;
  }

  /** x_t [B, dims], t 0-based → model output [B, dims] (or [B, 2·dims]: mean, then v). */
  forward(x: Tensor, t: ArrayLike<number>): Tensor {
    let h = concatChannels(x, timestepEmbedding(x.ctx, t, this.config.timeEmbeddingDim));
    for (const layer of this.hidden) h = silu(layer.forward(h));
    const mean = this.out.forward(h);
    return this.outVar ? concatChannels(mean, this.outVar.forward(h)) : mean;
  }

  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ...this.hidden.map((l, i) => [`hidden${i}`, l] as const),
      ['out', this.out],
      ['out_var', this.outVar],
    ]);
  }
}

/** The number of weights (without biases) of an MlpDenoiser with this config, computed without building it. */
export function mlpDenoiserWeightCount(c: MlpDenoiserConfig): number {
  return (c.dims + c.timeEmbeddingDim) * c.hidden + (c.layers - 1) * c.hidden * c.hidden + c.hidden * c.dims;
}
