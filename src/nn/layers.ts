/**
 * Layers with PyTorch's default initialisation (He et al. 2015 "kaiming uniform" with a = √5, which gives
 * U(−1/√fan_in, 1/√fan_in) for weights and biases) and PyTorch's parameter names. Weight layouts are
 * elbo's: Linear [in, out], Conv2d [kh, kw, Cin, Cout] (see nn/torchLayout.ts for the conversion).
 */
import type { Rng } from '../random/rng.js';
import { conv2d } from '../tensor/ops/conv.js';
import { linear } from '../tensor/ops/linalg.js';
import { groupNorm, groupNormSilu } from '../tensor/ops/norm.js';
import type { Context, Tensor } from '../tensor/tensor.js';
import { collectParameters, constantParameter, type Module, uniformParameter } from './module.js';

/** A fully connected layer y = xW + b, weights [in, out], PyTorch's default initialisation. */
export class Linear implements Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    ctx: Context,
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
    bias = true,
  ) {
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = uniformParameter(ctx, [inFeatures, outFeatures], bound, rng);
    this.bias = bias ? uniformParameter(ctx, [outFeatures], bound, rng) : null;
  }
  /** x [rows, in] → [rows, out]. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ['weight', this.weight],
      ['bias', this.bias],
    ]);
  }
}

/** 2-D convolution on NHWC tensors, weights [kh, kw, Cin, Cout], PyTorch's default initialisation. */
export class Conv2d implements Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(
    ctx: Context,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    rng: Rng,
    readonly stride = 1,
    readonly padding = 0,
  ) {
    const bound = 1 / Math.sqrt(inChannels * kernelSize * kernelSize);
    this.weight = uniformParameter(ctx, [kernelSize, kernelSize, inChannels, outChannels], bound, rng);
    this.bias = uniformParameter(ctx, [outChannels], bound, rng);
  }
  /** x [N, H, W, Cin] → [N, Ho, Wo, Cout]. */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ['weight', this.weight],
      ['bias', this.bias],
    ]);
  }
}

/** Group normalisation (Wu & He 2018, arXiv:1803.08494v3 §3.1) with a per-channel scale and shift. */
export class GroupNorm implements Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(
    ctx: Context,
    readonly groups: number,
    readonly channels: number,
    readonly eps = 1e-5,
  ) {
    if (channels % groups !== 0)
      throw new Error(`GroupNorm: ${channels} channels are not divisible into ${groups} groups`);
    this.weight = constantParameter(ctx, [channels], 1);
    this.bias = constantParameter(ctx, [channels], 0);
  }
  /** x [N, H, W, C] → GroupNorm(x), same shape. */
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.weight, this.bias, this.groups, this.eps);
  }
  /** SiLU(GroupNorm(x)) as one fused op (see groupNormSilu). */
  forwardSilu(x: Tensor): Tensor {
    return groupNormSilu(x, this.weight, this.bias, this.groups, this.eps);
  }
  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ['weight', this.weight],
      ['bias', this.bias],
    ]);
  }
}
