/**
 * The Fréchet distance between two Gaussians fitted to feature rows: the FID of [Heu17] when the features
 * come from Inception, and here, for MNIST-like data, from elbo's small classifier (src/eval/classifier.ts),
 * so numbers are comparable between elbo runs but not with published Inception FIDs.
 *
 * [Heu17] Heusel, Ramsauer, Unterthiner, Nessler, Hochreiter 2017, "GANs Trained by a Two Time-Scale
 * Update Rule Converge to a Local Nash Equilibrium", arXiv:1706.08500v6, eq. 6 ·
 * [DL82] Dowson & Landau 1982, "The Fréchet distance between multivariate normal distributions",
 * J. Multivariate Anal. 12(3) (the closed form)
 */
import {
  type FeatureStatistics,
  featureStatistics,
  matmulSquare,
  sqrtPsd,
  symmetricEigen,
  trace,
} from './linalg.js';

/**
 * Tr((Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2}): the symmetric PSD product's eigenvalues μ_k give Σ_k √μ_k. (pytorch-fid
 * takes sqrtm(Σ1Σ2), a non-symmetric matrix with the same eigenvalues; the symmetric form keeps everything
 * real and lets the Jacobi method do it.)
 * // DEVIATION: eigenvalues of the product that rounding made slightly negative count as 0.
 */
export function traceSqrtProduct(cov1: ArrayLike<number>, cov2: ArrayLike<number>, d: number): number {
  const s = sqrtPsd(cov1, d);
  const m = matmulSquare(matmulSquare(s, cov2, d), s, d);
  // S Σ2 S is symmetric in exact arithmetic; make it so in floating point too.
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) m[i * d + j] = m[j * d + i] = 0.5 * (m[i * d + j] + m[j * d + i]);
  let t = 0;
  for (const mu of symmetricEigen(m, d).values) t += Math.sqrt(Math.max(mu, 0));
  return t;
}

/**
 * d² = ‖μ1 − μ2‖² + Tr(Σ1) + Tr(Σ2) − 2·Tr((Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2}).
 *
 * @see [Heu17] eq. 6 · [DL82]
 */
export function frechetDistance(
  mu1: ArrayLike<number>,
  cov1: ArrayLike<number>,
  mu2: ArrayLike<number>,
  cov2: ArrayLike<number>,
): number {
  const d = mu1.length;
  if (mu2.length !== d || cov1.length !== d * d || cov2.length !== d * d) {
    throw new Error(
      `frechetDistance: shapes differ: μ1 [${mu1.length}], Σ1 ${cov1.length} values, μ2 [${mu2.length}], Σ2 ${cov2.length} values`,
    );
  }
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (mu1[i] - mu2[i]) ** 2;
  const fd = meanTerm + trace(cov1, d) + trace(cov2, d) - 2 * traceSqrtProduct(cov1, cov2, d);
  // The exact value is ≥ 0; rounding can leave a tiny negative number for identical inputs.
  return Math.max(fd, 0);
}

/** The Fréchet distance between two sets of feature statistics. */
export function frechetDistanceOfStatistics(a: FeatureStatistics, b: FeatureStatistics): number {
  if (a.d !== b.d) throw new Error(`frechetDistance: feature dimensions differ (${a.d} vs ${b.d})`);
  return frechetDistance(a.mean, a.cov, b.mean, b.cov);
}

/** The Fréchet distance between Gaussians fitted to two sets of feature rows ([na, d] and [nb, d]). */
export function frechetDistanceOfFeatures(
  a: ArrayLike<number>,
  na: number,
  b: ArrayLike<number>,
  nb: number,
  d: number,
): number {
  return frechetDistanceOfStatistics(featureStatistics(a, na, d), featureStatistics(b, nb, d));
}
