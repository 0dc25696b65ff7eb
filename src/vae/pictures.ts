/**
 * What the VAE's pictures are made of: posterior means of images, decoder means of latents, straight-line
 * interpolations between latents, and the grid of latents whose decoded images show a 2-D latent manifold.
 * Pure (no files); the CLI turns the results into PNG grids.
 *
 * [KW14] Kingma & Welling arXiv:1312.6114v11 (Fig. 4: learned MNIST manifold, "linearly spaced coordinates on
 * the unit square were transformed through the inverse CDF of the Gaussian")
 */
import { standardNormalQuantile } from '../bayes/distributions.js';
import type { VaeModel } from './nets.js';
import { decoderMeanImages } from './trainer.js';

/**
 * The latents of a steps × steps picture of a 2-D latent space: z = (Φ⁻¹(u_col), Φ⁻¹(u_row)) with u linearly
 * spaced in (0, 1) at (i + ½)/steps, so equal areas of the grid hold equal prior mass.
 * @see [KW14] Fig. 4
 */
export function latentGrid2d(steps: number): Float32Array {
  if (!Number.isInteger(steps) || steps < 2)
    throw new Error(`latentGrid2d: steps must be an integer ≥ 2, got ${steps}`);
  const q = Array.from({ length: steps }, (_, i) => standardNormalQuantile((i + 0.5) / steps));
  const z = new Float32Array(steps * steps * 2);
  for (let r = 0; r < steps; r++) {
    for (let c = 0; c < steps; c++) {
      z[(r * steps + c) * 2] = q[c];
      z[(r * steps + c) * 2 + 1] = q[steps - 1 - r]; // top row: largest z₂
    }
  }
  return z;
}

/** `steps` points on the segment from a to b, endpoints included: z_j = (1 − t_j) a + t_j b, t_j = j/(steps − 1). */
export function interpolateLatents(a: ArrayLike<number>, b: ArrayLike<number>, steps: number): Float32Array {
  if (a.length !== b.length)
    throw new Error(`interpolateLatents: lengths ${a.length} and ${b.length} differ`);
  if (!Number.isInteger(steps) || steps < 2)
    throw new Error(`interpolateLatents: steps must be ≥ 2, got ${steps}`);
  const L = a.length;
  const out = new Float32Array(steps * L);
  for (let j = 0; j < steps; j++) {
    const t = j / (steps - 1);
    for (let i = 0; i < L; i++) out[j * L + i] = (1 - t) * a[i] + t * b[i];
  }
  return out;
}

/** The posterior means μ(x) of q(z|x) for `count` examples (decoder targets), [count, L], in batches. */
export function posteriorMeans(
  model: VaeModel,
  targets: Float32Array,
  count: number,
  batch = 500,
): Float32Array {
  const { ctx, dims, latentDim } = model;
  const out = new Float32Array(count * latentDim);
  ctx.noGrad(() => {
    for (let b = 0; b < count; b += batch) {
      const size = Math.min(batch, count - b);
      ctx.scope(() => {
        const x = ctx.fromArray(targets.subarray(b * dims, (b + size) * dims), [
          size,
          ...model.config.dataShape,
        ]);
        out.set(model.encode(x).mean.view(), b * latentDim);
      });
    }
  });
  return out;
}

/**
 * The decoder's mean for `count` latents, as images in [−1, 1] (Bernoulli: 2σ(logits) − 1, so the grey level is
 * the pixel's probability of being on; Gaussian: the mean), [count, H·W·C], in batches.
 */
export function decoderMeans(model: VaeModel, z: Float32Array, count: number, batch = 500): Float32Array {
  const { ctx, dims, latentDim } = model;
  if (z.length < count * latentDim)
    throw new Error(`decoderMeans: ${count} latents need ${count * latentDim} values`);
  const out = new Float32Array(count * dims);
  ctx.noGrad(() => {
    for (let b = 0; b < count; b += batch) {
      const size = Math.min(batch, count - b);
      ctx.scope(() => {
        const logits = model.decode(
          ctx.fromArray(z.subarray(b * latentDim, (b + size) * latentDim), [size, latentDim]),
        );
        out.set(decoderMeanImages(model.config, logits.view()), b * dims);
      });
    }
  });
  return out;
}
