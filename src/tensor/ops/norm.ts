/** Group normalisation over NHWC tensors (Wu & He 2018, arXiv:1803.08494v3; PyTorch's GroupNorm). */
import type { Tensor } from '../tensor.js';
import { sumColumns } from './elementwise.js';

/**
 * y = (x − μ_{n,g}) / √(σ²_{n,g} + eps) · γ_c + β_c, with mean and biased variance over the pixels and
 * the C/G channels of group g of image n. x is [N, …, C] (channels last).
 */
export function groupNorm(x: Tensor, gamma: Tensor, beta: Tensor, groups: number, eps = 1e-5): Tensor {
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
    ]);
    const gGamma = gamma.requiresGrad ? sumColumns(gGammaPerImage) : null;
    const gBeta = beta.requiresGrad ? sumColumns(gBetaPerImage) : null;
    return [x.requiresGrad ? gx : null, gGamma, gBeta];
  });
}
