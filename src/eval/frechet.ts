/**
 * The Fréchet distance between two Gaussians fitted to feature rows: the FID of [Heu17] when the features
 * come from Inception, and here, for MNIST-like data, from elbo's small classifier (src/eval/classifier.ts),
 * so numbers are comparable between elbo runs but not with published Inception FIDs.
 *
 * [Heu17] Heusel, Ramsauer, Unterthiner, Nessler, Hochreiter 2017, "GANs Trained by a Two Time-Scale
 * Update Rule Converge to a Local Nash Equilibrium", arXiv:1706.08500v6, eq. 6 ·
 * [DL82] Dowson & Landau 1982, "The Fréchet distance between multivariate normal distributions",
 * J. Multivariate Anal. 12(3) (the closed form) · [ET93] Efron & Tibshirani 1993, "An Introduction to the
 * Bootstrap", ch. 6 (the bootstrap estimate of a standard error)
 */
import type { Rng } from '../random/rng.js';
import {
  type FeatureStatistics,
  featureStatistics,
  matmulSquare,
  sqrtPsd,
  symmetricEigenvalues,
  trace,
} from './linalg.js';

/**
 * Tr((Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2}): the symmetric PSD product's eigenvalues μ_k give Σ_k √μ_k. (pytorch-fid
 * takes sqrtm(Σ1Σ2), a non-symmetric matrix with the same eigenvalues; the symmetric form keeps everything
 * real and lets the Jacobi method do it.)
 * // DEVIATION: eigenvalues of the product that rounding made slightly negative count as 0.
 */
export function traceSqrtProduct(cov1: ArrayLike<number>, cov2: ArrayLike<number>, d: number): number {
  return traceSqrtSandwich(sqrtPsd(cov1, d), cov2, d);
}

/** Tr((S Σ S)^{1/2}) for S = Σ1^{1/2} given: {@link traceSqrtProduct} with the square root computed once. */
function traceSqrtSandwich(s: Float64Array, cov2: ArrayLike<number>, d: number): number {
  const m = matmulSquare(matmulSquare(s, cov2, d), s, d);
  // S Σ2 S is symmetric in exact arithmetic; make it so in floating point too.
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) m[i * d + j] = m[j * d + i] = 0.5 * (m[i * d + j] + m[j * d + i]);
  let t = 0;
  for (const mu of symmetricEigenvalues(m, d)) t += Math.sqrt(Math.max(mu, 0));
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
  return frechetDistanceGivenSqrt(mu1, cov1, mu2, cov2, sqrtPsd(cov1, d));
}

/** {@link frechetDistance} with Σ1^{1/2} already computed (the bootstrap reuses the reference's). */
function frechetDistanceGivenSqrt(
  mu1: ArrayLike<number>,
  cov1: ArrayLike<number>,
  mu2: ArrayLike<number>,
  cov2: ArrayLike<number>,
  sqrtCov1: Float64Array,
): number {
  const d = mu1.length;
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (mu1[i] - mu2[i]) ** 2;
  const fd = meanTerm + trace(cov1, d) + trace(cov2, d) - 2 * traceSqrtSandwich(sqrtCov1, cov2, d);
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

/**
 * How much the Fréchet distance of n generated rows moves with the draw of those rows: `reps` times, resample
 * the na rows of `a` with replacement, recompute the distance to b's (fixed) statistics, and take the standard
 * deviation of the replicates — the bootstrap standard error of the distance as a function of the sample.
 * (Resampled sets hold duplicates, so the replicates' mean sits above the distance itself; their spread is the
 * quantity of interest.)
 *
 * @see [ET93] ch. 6, Algorithm 6.1
 */
export function frechetDistanceBootstrap(
  a: ArrayLike<number>,
  na: number,
  b: ArrayLike<number>,
  nb: number,
  d: number,
  reps: number,
  rng: Rng,
): { sd: number; replicates: Float64Array } {
  if (!Number.isInteger(reps) || reps < 2) throw new Error(`the bootstrap needs ≥ 2 replicates, got ${reps}`);
  const reference = featureStatistics(b, nb, d);
  // Tr((Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}) = Tr((Σ_b^{1/2} Σ_a Σ_b^{1/2})^{1/2}) (both are Σ √eig(Σ_a Σ_b)), so the
  // reference's square root serves every replicate: one eigendecomposition each instead of two.
  const sqrtRef = sqrtPsd(reference.cov, d);
  const resampled = new Float64Array(na * d);
  const replicates = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < na; i++) {
      const j = rng.int(na);
      for (let k = 0; k < d; k++) resampled[i * d + k] = a[j * d + k];
    }
    const { mean, cov } = featureStatistics(resampled, na, d);
    replicates[r] = frechetDistanceGivenSqrt(reference.mean, reference.cov, mean, cov, sqrtRef);
  }
  let mean = 0;
  for (const v of replicates) mean += v / reps;
  let ss = 0;
  for (const v of replicates) ss += (v - mean) ** 2;
  return { sd: Math.sqrt(ss / (reps - 1)), replicates };
}

/**
 * The floor of the Fréchet distance at sample size n: n rows drawn at random without replacement from the real
 * rows `b` (a test set may be ordered by class, so a random draw, not the first n), against the other nb − n
 * rows; `reps` draws, their mean and standard deviation. A perfect generator's n samples score about this.
 */
export function frechetDistanceRealFloor(
  b: ArrayLike<number>,
  nb: number,
  d: number,
  n: number,
  reps: number,
  rng: Rng,
): { mean: number; sd: number; replicates: Float64Array } {
  if (!Number.isInteger(n) || n < 2 || n > nb - 2)
    throw new Error(`the real floor needs 2 ≤ n ≤ ${nb - 2} real rows held out, got ${n}`);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`reps must be a positive integer, got ${reps}`);
  const replicates = new Float64Array(reps);
  const drawn = new Float64Array(n * d);
  const rest = new Float64Array((nb - n) * d);
  for (let r = 0; r < reps; r++) {
    const order = rng.permutation(nb);
    for (let i = 0; i < nb; i++) {
      const row = order[i];
      const [target, at] = i < n ? [drawn, i] : [rest, i - n];
      for (let k = 0; k < d; k++) target[at * d + k] = b[row * d + k];
    }
    replicates[r] = frechetDistanceOfFeatures(drawn, n, rest, nb - n, d);
  }
  let mean = 0;
  for (const v of replicates) mean += v / reps;
  let ss = 0;
  for (const v of replicates) ss += (v - mean) ** 2;
  return { mean, sd: reps > 1 ? Math.sqrt(ss / (reps - 1)) : 0, replicates };
}
