/**
 * Why VAEs blur (seed 001, "Blurry Generations in VAEs", after Lai et al., Principles of Diffusion Models): for
 * a fixed encoder q(z|x) and a Gaussian decoder N(x; μ(z), σ²I), maximising the ELBO over μ is least squares,
 *   argmin_μ E_{p_data(x)} E_{q(z|x)} ‖x − μ(z)‖²,
 * whose solution is the mean of x under the "reversed encoder" q(x|z) = q(z|x) p_data(x) / q(z):
 *   μ*(z) = E_{q(x|z)}[x] = E_{p_data}[q(z|x) x] / E_{p_data}[q(z|x)].
 * Where the posteriors of two different inputs overlap, μ*(z) is a weighted average of both: a blurred mixture.
 *
 * (The seed's last line of the derivation drops the x in the numerator's expectation, E_{p_data}[q(z|x)]; its
 * boxed result, used here, has it.)
 *
 * [Lai25] Lai et al., The Principles of Diffusion Models, arXiv:2510.21890 (the seed's source) · [KW14]
 * arXiv:1312.6114v11 Appendix C.2 (Gaussian decoder)
 */
import { normalLogProb } from '../math/gaussian.js';

/** A diagonal Gaussian q(z|x_i) of one data point: mean and logVar, each of length L. */
export interface DiagonalGaussian {
  mean: ArrayLike<number>;
  logVar: ArrayLike<number>;
}

/**
 * The responsibilities q(x_i|z) = q(z|x_i) / Σ_j q(z|x_j) of an empirical data distribution (uniform over the
 * given points), computed in log space so that far-away z do not underflow.
 * @see [Lai25] via seed 001: q(x|z) = q(z|x) p_data(x) / q(z)
 */
export function reversedEncoderWeights(
  z: ArrayLike<number>,
  posteriors: readonly DiagonalGaussian[],
): Float64Array {
  if (posteriors.length === 0) throw new Error('reversedEncoderWeights: need at least one data point');
  const logQ = posteriors.map((q, i) => {
    if (q.mean.length !== z.length || q.logVar.length !== z.length)
      throw new Error(
        `reversedEncoderWeights: posterior ${i} has dimension ${q.mean.length}, z has ${z.length}`,
      );
    let s = 0;
    for (let j = 0; j < z.length; j++) s += normalLogProb(z[j], q.mean[j], q.logVar[j]);
    return s;
  });
  const m = Math.max(...logQ);
  const w = Float64Array.from(logQ, (l) => Math.exp(l - m));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / total);
}

/**
 * The optimal Gaussian decoder mean for a fixed encoder and an empirical data set {x_i} (equal weights):
 * μ*(z) = Σ_i q(z|x_i) x_i / Σ_i q(z|x_i).
 * @see [Lai25] via seed 001, μ*(z) = E_{p_data}[q(z|x) x] / E_{p_data}[q(z|x)]
 */
export function optimalGaussianDecoderMean(
  z: ArrayLike<number>,
  posteriors: readonly DiagonalGaussian[],
  data: readonly ArrayLike<number>[],
): Float64Array {
  if (data.length !== posteriors.length)
    throw new Error(
      `optimalGaussianDecoderMean: ${data.length} data points for ${posteriors.length} posteriors`,
    );
  const w = reversedEncoderWeights(z, posteriors);
  const D = data[0].length;
  const out = new Float64Array(D);
  data.forEach((x, i) => {
    if (x.length !== D)
      throw new Error(`optimalGaussianDecoderMean: data point ${i} has length ${x.length}, not ${D}`);
    for (let d = 0; d < D; d++) out[d] += w[i] * x[d];
  });
  return out;
}
