/** Group normalisation over NHWC tensors (Wu & He 2018, arXiv:1803.08494v3; PyTorch's GroupNorm). */
import type { Tensor } from '../tensor.js';
import { silu, sumColumns } from './elementwise.js';

/**
 * Largest group, hw·(C/G) float32 values in bytes, that the fused SiLU backward keeps in a thread's scratch (the
 * kernel's SILU_CHUNK_BYTES, src/engine/assembly/groupnorm.ts); larger groups run groupNorm, then silu.
 */
const FUSED_SILU_GROUP_BYTES = 2 ** 21;

/**
 * y = (x − μ_{n,g}) / √(σ²_{n,g} + eps) · γ_c + β_c, with mean and biased variance over the pixels and
 * the C/G channels of group g of image n. x is [N, …, C] (channels last).
 */
export function groupNorm(x: Tensor, gamma: Tensor, beta: Tensor, groups: number, eps = 1e-5): Tensor {
  return normalize(x, gamma, beta, groups, eps, false);
}

/**
 * SiLU(groupNorm(x)), fused (the pre-activation of a UNet's convolutions): the normalised values are never
 * written, so the forward pass saves one pass over memory and one tensor kept for the backward, and the
 * backward, which recomputes them from x and the saved statistics, one pass more.
 */
export function groupNormSilu(x: Tensor, gamma: Tensor, beta: Tensor, groups: number, eps = 1e-5): Tensor {
  const groupBytes = ((x.size / x.shape[0]) * 4) / groups;
  if (groupBytes > FUSED_SILU_GROUP_BYTES) return silu(groupNorm(x, gamma, beta, groups, eps));
  return normalize(x, gamma, beta, groups, eps, true);
}

function normalize(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  groups: number,
  eps: number,
  withSilu: boolean,
): Tensor {
  const N = x.shape[0];
  const C = x.shape[x.shape.length - 1];
  if (C % groups !== 0) throw new Error(`groupNorm: ${C} channels do not split into ${groups} groups`);
  if (gamma.size !== C || beta.size !== C) throw new Error(`groupNorm: γ and β need ${C} values`);
  const hw = x.size / N / C;
  const ctx = x.ctx;
  const engine = ctx.engine;
  const y = ctx.empty(x.shape);
  const mean = ctx.empty([N, groups]);
  const rstd = ctx.empty([N, groups]);
  // With SiLU and a backward to come: min(σ(y), 1 − σ(y)) of the normalised y, as silu saves it.
  const saved = withSilu && ctx.willRecord([x, gamma, beta]) ? ctx.empty(x.shape) : null;
  engine.parallel('groupNormForward', N * groups, 1, [
    x.ptr,
    gamma.ptr,
    beta.ptr,
    y.ptr,
    mean.ptr,
    rstd.ptr,
    hw,
    C,
    groups,
    eps,
    withSilu ? 1 : 0,
    saved ? saved.ptr : 0,
  ]);
  return ctx.record(y, [x, gamma, beta], (gy) => {
    const gx = ctx.empty(x.shape);
    const gGammaPerImage = ctx.empty([N, C]);
    const gBetaPerImage = ctx.empty([N, C]);
    engine.parallel('groupNormBackward', N * groups, 1, [
      x.ptr,
      gy.ptr,
      gamma.ptr,
      mean.ptr,
      rstd.ptr,
      gx.ptr,
      gGammaPerImage.ptr,
      gBetaPerImage.ptr,
      hw,
      C,
      groups,
      withSilu ? 1 : 0,
      saved ? saved.ptr : 0,
      beta.ptr,
    ]);
    const gGamma = gamma.requiresGrad ? sumColumns(gGammaPerImage) : null;
    const gBeta = beta.requiresGrad ? sumColumns(gBetaPerImage) : null;
    return [x.requiresGrad ? gx : null, gGamma, gBeta];
  });
}
