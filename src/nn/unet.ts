/**
 * The ε-prediction UNet for small images (Ho et al. 2020 §4 and appendix B, scaled down): residual blocks
 * with a timestep embedding, stride-2 convolutions down, nearest upsampling and skip concatenation up,
 * self-attention at the lowest resolution. With the default config it is, parameter for parameter, the
 * reference network of shared/bench/reference_unet.py (≈0.5 M parameters for 28×28×1), so its weights can
 * be loaded from PyTorch and compared.
 *
 * [Ho20] Ho, Jain, Abbeel 2020, arXiv:2006.11239v2 · [ND21] Nichol & Dhariwal 2021, arXiv:2102.09672v1 · [Vas17] Vaswani et al. 2017, arXiv:1706.03762v7
 */
import type { Rng } from '../random/rng.js';
import { add, addPerImage, silu } from '../tensor/ops/elementwise.js';
import { bmm, linear } from '../tensor/ops/linalg.js';
import { concatChannels, cropSpatial, softmax, upsampleNearest2x } from '../tensor/ops/shape.js';
import type { Context, Tensor } from '../tensor/tensor.js';
import { Conv2d, GroupNorm, Linear } from './layers.js';
import { collectParameters, type Module } from './module.js';

/** The shape of a {@link UNet}; stored in checkpoints. */
export interface UNetConfig {
  /** Image channels (1 for MNIST). */
  imageChannels: number;
  /** Channels of each resolution level, top (full resolution) first; one stride-2 step between levels. */
  channels: readonly number[];
  /** Sinusoidal embedding size of the timestep, and the width of the embedding MLP. */
  timeEmbeddingDim: number;
  timeHiddenDim: number;
  /** GroupNorm groups (must divide every channel count). */
  groups: number;
  /**
   * Residual blocks per level, in the encoder and again in the decoder (default: 1 per level; absent in configs
   * written before it existed). [Ho20] uses 2.
   */
  resBlocks?: readonly number[];
  /**
   * Levels (0 = full resolution) that get a self-attention layer after their residual blocks, in the encoder and
   * in the decoder, besides the one in the middle (default: none). [Ho20] attends at 16×16.
   */
  attentionLevels?: readonly number[];
}

/** The reference network of shared/bench/reference_unet.py. */
export const REFERENCE_UNET: UNetConfig = {
  imageChannels: 1,
  channels: [32, 64],
  timeEmbeddingDim: 64,
  timeHiddenDim: 128,
  groups: 8,
};

/**
 * Sinusoidal timestep embedding [Vas17] §3.5 as in [Ho20]'s code: [sin(t·f_i), cos(t·f_i)] with
 * f_i = 10000^(−i/half), i < half. Computed in float64, returned as float32 [N, dim].
 */
export function timestepEmbedding(ctx: Context, t: ArrayLike<number>, dim: number): Tensor {
  const half = dim / 2;
  const out = new Float32Array(t.length * dim);
  for (let n = 0; n < t.length; n++) {
    for (let i = 0; i < half; i++) {
      const arg = t[n] * Math.exp((-Math.log(10000) * i) / half);
      out[n * dim + i] = Math.sin(arg);
      out[n * dim + half + i] = Math.cos(arg);
    }
  }
  return ctx.fromArray(out, [t.length, dim]);
}

/** GroupNorm → SiLU → conv3×3, + Linear(temb) per image, GroupNorm → SiLU → conv3×3, + skip (1×1 if widths differ). */
export class ResBlock implements Module {
  readonly gn1: GroupNorm;
  readonly conv1: Conv2d;
  readonly temb: Linear;
  readonly gn2: GroupNorm;
  readonly conv2: Conv2d;
  readonly skip: Conv2d | null;
  constructor(ctx: Context, cin: number, cout: number, tembDim: number, groups: number, rng: Rng) {
    this.gn1 = new GroupNorm(ctx, groups, cin);
    this.conv1 = new Conv2d(ctx, cin, cout, 3, rng, 1, 1);
    this.temb = new Linear(ctx, tembDim, cout, rng);
    this.gn2 = new GroupNorm(ctx, groups, cout);
    this.conv2 = new Conv2d(ctx, cout, cout, 3, rng, 1, 1);
    this.skip = cin !== cout ? new Conv2d(ctx, cin, cout, 1, rng) : null;
  }
  /** x [N, H, W, cin], te = SiLU(time embedding) [N, tembDim]. */
  forward(x: Tensor, te: Tensor): Tensor {
    let h = this.conv1.forward(this.gn1.forwardSilu(x));
    h = addPerImage(h, this.temb.forward(te));
    h = this.conv2.forward(this.gn2.forwardSilu(h));
    return add(this.skip ? this.skip.forward(x) : x, h);
  }
  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ['gn1', this.gn1],
      ['conv1', this.conv1],
      ['temb', this.temb],
      ['gn2', this.gn2],
      ['conv2', this.conv2],
      ['skip', this.skip],
    ]);
  }
}

/** Single-head self-attention over the pixels of each image, with a residual connection. */
export class Attention implements Module {
  readonly gn: GroupNorm;
  readonly q: Conv2d;
  readonly k: Conv2d;
  readonly v: Conv2d;
  readonly proj: Conv2d;
  constructor(
    ctx: Context,
    readonly channels: number,
    groups: number,
    rng: Rng,
  ) {
    this.gn = new GroupNorm(ctx, groups, channels);
    this.q = new Conv2d(ctx, channels, channels, 1, rng);
    this.k = new Conv2d(ctx, channels, channels, 1, rng);
    this.v = new Conv2d(ctx, channels, channels, 1, rng);
    this.proj = new Conv2d(ctx, channels, channels, 1, rng);
  }
  /** x [N, H, W, C] → x + proj(softmax(q kᵀ/√C) v). The 1×1 convolutions run as matrix products on [N·H·W, C]. */
  forward(x: Tensor): Tensor {
    const ctx = x.ctx;
    const [N, H, W, C] = x.shape;
    const L = H * W;
    const h = ctx.reshape(this.gn.forward(x), [N * L, C]);
    const pointwise = (conv: Conv2d, input: Tensor) =>
      linear(input, ctx.reshape(conv.weight, [C, C]), conv.bias);
    const q = ctx.reshape(pointwise(this.q, h), [N, L, C]);
    const k = ctx.reshape(pointwise(this.k, h), [N, L, C]);
    const v = ctx.reshape(pointwise(this.v, h), [N, L, C]);
    const attn = softmax(bmm(q, k, false, true), 1 / Math.sqrt(C)); // [N, L, L]
    const o = ctx.reshape(bmm(attn, v), [N * L, C]);
    return add(x, ctx.reshape(pointwise(this.proj, o), [N, H, W, C]));
  }
  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ['gn', this.gn],
      ['q', this.q],
      ['k', this.k],
      ['v', this.v],
      ['proj', this.proj],
    ]);
  }
}

/**
 * The DDPM's UNet on NHWC images ([Ho20] Appendix B, smaller): residual blocks with time embedding,
 * optional self-attention, 2× down- and upsampling with skip connections.
 */
export class UNet implements Module {
  readonly config: UNetConfig;
  readonly t1: Linear;
  readonly t2: Linear;
  readonly convIn: Conv2d;
  /**
   * Per level l: encoder blocks rb{l+1}, rb{l+1}_2, …, optional attention rb{l+1}_attn, downsampling conv
   * down{l+1}; decoder blocks up{l+1}, up{l+1}_2, …, optional attention up{l+1}_attn.
   */
  readonly encoder: ResBlock[][] = [];
  readonly encoderAttention: (Attention | null)[] = [];
  readonly down: Conv2d[] = [];
  readonly decoder: ResBlock[][] = [];
  readonly decoderAttention: (Attention | null)[] = [];
  readonly mid1: ResBlock;
  readonly attn: Attention;
  readonly mid2: ResBlock;
  readonly gnOut: GroupNorm;
  readonly convOut: Conv2d;
  /** Learned variances only: the conv giving v per image channel, beside convOut (see the constructor). */
  readonly convOutVar: Conv2d | null;

  /**
   * `learnsVariance`: the network also outputs v per image channel ([ND21] §3.1), as [N, H, W, 2C], the mean
   * channels first. The v channels come from their own conv "conv_out_var" beside "conv_out" (improved-diffusion
   * uses one conv of 2C outputs; the same function), so that the mean channels are computed exactly as a
   * fixed-variance network's: a warm-started network reproduces its source's mean output bit for bit, which one
   * conv of 2C outputs would not (its kernel sums in another order).
   */
  constructor(ctx: Context, config: UNetConfig, rng: Rng, learnsVariance = false) {
    validateUNetConfig(config);
    this.config = config;
    const { channels, groups, timeEmbeddingDim, timeHiddenDim } = config;
    this.t1 = new Linear(ctx, timeEmbeddingDim, timeHiddenDim, rng);
    this.t2 = new Linear(ctx, timeHiddenDim, timeHiddenDim, rng);
    this.convIn = new Conv2d(ctx, config.imageChannels, channels[0], 3, rng, 1, 1);
    // Creation order = PyTorch's module order, so the same seed-independent names line up.
    // Extra blocks and attention layers are created after a level's first block, so the default config consumes
    // the generator exactly as before.
    const blocks = (l: number) => config.resBlocks?.[l] ?? 1;
    const attends = (l: number) => config.attentionLevels?.includes(l) ?? false;
    const extraBlocks = (l: number, ch: number) =>
      Array.from({ length: blocks(l) - 1 }, () => new ResBlock(ctx, ch, ch, timeHiddenDim, groups, rng));
    let prev = channels[0];
    for (const [l, ch] of channels.entries()) {
      const first = new ResBlock(ctx, prev, ch, timeHiddenDim, groups, rng);
      this.encoder.push([first, ...extraBlocks(l, ch)]);
      this.encoderAttention.push(attends(l) ? new Attention(ctx, ch, groups, rng) : null);
      this.down.push(new Conv2d(ctx, ch, ch, 3, rng, 2, 1));
      prev = ch;
    }
    const bottom = channels[channels.length - 1];
    this.mid1 = new ResBlock(ctx, bottom, bottom, timeHiddenDim, groups, rng);
    this.attn = new Attention(ctx, bottom, groups, rng);
    this.mid2 = new ResBlock(ctx, bottom, bottom, timeHiddenDim, groups, rng);
    let cur = bottom;
    for (let l = channels.length - 1; l >= 0; l--) {
      const first = new ResBlock(ctx, cur + channels[l], channels[l], timeHiddenDim, groups, rng);
      this.decoder[l] = [first, ...extraBlocks(l, channels[l])];
      this.decoderAttention[l] = attends(l) ? new Attention(ctx, channels[l], groups, rng) : null;
      cur = channels[l];
    }
    this.gnOut = new GroupNorm(ctx, groups, channels[0]);
    this.convOut = new Conv2d(ctx, channels[0], config.imageChannels, 3, rng, 1, 1);
    this.convOutVar = learnsVariance
      ? new Conv2d(ctx, channels[0], config.imageChannels, 3, rng, 1, 1)
      : null;
  }

  /**
   * ε̂(x_t, t): x [N, H, W, imageChannels], t 0-based timesteps → [N, H, W, C], or [N, H, W, 2C] (mean, then v) with learned variances. Where a level's side is odd (7 at the third level
   * of 28×28), the stride-2 step rounds it up (7 → 4) and the decoder crops the upsampled map back (8 → 7).
   */
  forward(x: Tensor, t: ArrayLike<number>): Tensor {
    const ctx = x.ctx;
    const emb = timestepEmbedding(ctx, t, this.config.timeEmbeddingDim);
    const te = silu(this.t2.forward(silu(this.t1.forward(emb))));
    let h = this.convIn.forward(x);
    const skips: Tensor[] = [];
    for (let l = 0; l < this.encoder.length; l++) {
      for (const block of this.encoder[l]) h = block.forward(h, te);
      h = this.encoderAttention[l]?.forward(h) ?? h;
      skips.push(h);
      h = this.down[l].forward(h);
    }
    h = this.mid2.forward(this.attn.forward(this.mid1.forward(h, te)), te);
    for (let l = this.decoder.length - 1; l >= 0; l--) {
      const [, sh, sw] = skips[l].shape;
      const up = upsampleNearest2x(h);
      h = concatChannels(up.shape[1] === sh && up.shape[2] === sw ? up : cropSpatial(up, sh, sw), skips[l]);
      for (const block of this.decoder[l]) h = block.forward(h, te);
      h = this.decoderAttention[l]?.forward(h) ?? h;
    }
    const last = this.gnOut.forwardSilu(h);
    const mean = this.convOut.forward(last);
    return this.convOutVar ? concatChannels(mean, this.convOutVar.forward(last)) : mean;
  }

  namedParameters(prefix?: string): [string, Tensor][] {
    const entries: [string, Module][] = [
      ['t1', this.t1],
      ['t2', this.t2],
      ['conv_in', this.convIn],
    ];
    const level = (name: string, blocks: ResBlock[], attention: Attention | null) => {
      blocks.forEach((b, j) => entries.push([j === 0 ? name : `${name}_${j + 1}`, b]));
      if (attention) entries.push([`${name}_attn`, attention]);
    };
    for (let l = 0; l < this.encoder.length; l++) {
      level(`rb${l + 1}`, this.encoder[l], this.encoderAttention[l]);
      entries.push([`down${l + 1}`, this.down[l]]);
    }
    entries.push(['mid1', this.mid1], ['attn', this.attn], ['mid2', this.mid2]);
    for (let l = this.decoder.length - 1; l >= 0; l--)
      level(`up${l + 1}`, this.decoder[l], this.decoderAttention[l]);
    entries.push(['gn_out', this.gnOut], ['conv_out', this.convOut]);
    if (this.convOutVar) entries.push(['conv_out_var', this.convOutVar]);
    return collectParameters(prefix, entries);
  }
}

/**
 * The most levels a UNet can have on H×W images: every level halves the resolution once (the last one into the
 * middle; an odd side n becomes ⌈n/2⌉, and the decoder crops its 2× upsampling back to n), and the middle keeps
 * at least 2×2 pixels. 28×28 MNIST: 4 (28 → 14 → 7 → 4 → 2).
 */
export function maxUNetLevels(height: number, width: number): number {
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0))
    throw new Error(`maxUNetLevels: image sides must be positive integers, got ${height}×${width}`);
  let levels = 0;
  for (let side = Math.min(height, width); Math.ceil(side / 2) >= 2; side = Math.ceil(side / 2)) levels++;
  return levels;
}

export function validateUNetConfig(c: UNetConfig): void {
  const bad = (msg: string) => {
    throw new Error(`invalid UNet config: ${msg}`);
  };
  if (!Number.isInteger(c.imageChannels) || c.imageChannels < 1)
    bad(`imageChannels must be a positive integer, got ${c.imageChannels}`);
  if (c.channels.length < 1) bad('channels needs at least one level');
  for (const ch of c.channels) {
    if (!Number.isInteger(ch) || ch < 1 || ch % c.groups !== 0)
      bad(`channel count ${ch} must be a positive multiple of groups = ${c.groups}`);
  }
  if (c.timeEmbeddingDim % 2 !== 0) bad(`timeEmbeddingDim must be even, got ${c.timeEmbeddingDim}`);
  if (c.resBlocks !== undefined) {
    if (c.resBlocks.length !== c.channels.length)
      bad(`resBlocks needs one count per level (${c.channels.length}), got ${c.resBlocks.length}`);
    for (const n of c.resBlocks)
      if (!Number.isInteger(n) || n < 1) bad(`resBlocks must be integers ≥ 1, got ${n}`);
  }
  for (const l of c.attentionLevels ?? []) {
    if (!Number.isInteger(l) || l < 0 || l >= c.channels.length)
      bad(`attention level ${l} must be an integer in 0 … ${c.channels.length - 1}`);
  }
}

/**
 * A lower bound on the number of weights of a UNet with this config, computed without building it: the time
 * MLP, and in every residual block its second 3×3 convolution and its time projection, and the downsampling
 * convolutions (biases, norms, first convolutions and attention left out; the true count is within a small
 * factor). Lets a checkpoint reader refuse a config that asks for far more weights than the file holds before
 * allocating them.
 */
export function unetWeightLowerBound(c: UNetConfig): number {
  const blocks = (l: number) => c.resBlocks?.[l] ?? 1;
  let n = c.timeEmbeddingDim * c.timeHiddenDim + c.timeHiddenDim * c.timeHiddenDim;
  const block = (ch: number) => 9 * ch * ch + c.timeHiddenDim * ch;
  c.channels.forEach((ch, l) => {
    n += 2 * blocks(l) * block(ch) + 9 * ch * ch;
  });
  return n + 2 * block(c.channels[c.channels.length - 1]);
}
