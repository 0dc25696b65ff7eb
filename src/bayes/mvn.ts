/**
 * Multivariate normals with full covariance, for the small parameter vectors of the Bayesian examples:
 * Cholesky factor, solves, inverse and log-determinant of symmetric positive definite matrices (row-major
 * Float64Array, d × d), the log density, sampling, and the closed-form KL divergence.
 *
 * References:
 * - [GV13] G. H. Golub & C. F. Van Loan, Matrix Computations, 4th ed. 2013, §4.2 (Cholesky, Algorithm 4.2.1)
 * - [RW06] C. E. Rasmussen & C. K. I. Williams, Gaussian Processes for Machine Learning, MIT Press 2006,
 *   Appendix A.5 (eq. A.23: KL between two Gaussians)
 * - [Bis06] C. M. Bishop, PRML 2006, eq. 2.43 (the multivariate normal density)
 */

import type { Rng } from '../random/rng.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** A multivariate normal N(mean, covariance) in d dimensions (covariance row-major d × d). */
export interface MvNormal {
  mean: Float64Array;
  covariance: Float64Array;
}

function dimOf(a: ArrayLike<number>, what: string): number {
  const d = Math.round(Math.sqrt(a.length));
  if (d * d !== a.length) throw new Error(`${what}: ${a.length} values are not a square matrix`);
  return d;
}

/**
 * The lower-triangular L with A = L Lᵀ for symmetric positive definite A (row-major, d × d); throws if A
 * is not positive definite.
 * @see [GV13] Algorithm 4.2.1: L_jj = √(A_jj − Σ_{k<j} L_jk²), L_ij = (A_ij − Σ_{k<j} L_ik L_jk)/L_jj
 */
export function choleskyLower(a: ArrayLike<number>): Float64Array {
  const d = dimOf(a, 'choleskyLower');
  const l = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j];
    for (let k = 0; k < j; k++) s -= l[j * d + k] * l[j * d + k];
    if (!(s > 0)) throw new Error(`choleskyLower: matrix is not positive definite (pivot ${j}: ${s})`);
    const ljj = Math.sqrt(s);
    l[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j];
      for (let k = 0; k < j; k++) t -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = t / ljj;
    }
  }
  return l;
}

/** Solves L y = b (forward substitution) for lower-triangular L. */
function forwardSolve(l: Float64Array, b: ArrayLike<number>, d: number): Float64Array {
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * d + k] * y[k];
    y[i] = s / l[i * d + i];
  }
  return y;
}

/** Solves Lᵀ x = y (back substitution) for lower-triangular L. */
function backSolve(l: Float64Array, y: ArrayLike<number>, d: number): Float64Array {
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < d; k++) s -= l[k * d + i] * x[k];
    x[i] = s / l[i * d + i];
  }
  return x;
}

/** x = A⁻¹ b for symmetric positive definite A, through its Cholesky factor. @see [GV13] §4.2 */
export function solveSpd(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const l = choleskyLower(a);
  const d = b.length;
  return backSolve(l, forwardSolve(l, b, d), d);
}

/** A⁻¹ for symmetric positive definite A (column by column through the Cholesky factor). @see [GV13] §4.2 */
export function inverseSpd(a: ArrayLike<number>): Float64Array {
  const l = choleskyLower(a);
  const d = dimOf(a, 'inverseSpd');
  const inv = new Float64Array(d * d);
  const e = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    e.fill(0);
    e[j] = 1;
    const col = backSolve(l, forwardSolve(l, e, d), d);
    for (let i = 0; i < d; i++) inv[i * d + j] = col[i];
  }
  // Symmetrise (the two triangles agree to rounding).
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const m = 0.5 * (inv[i * d + j] + inv[j * d + i]);
      inv[i * d + j] = m;
      inv[j * d + i] = m;
    }
  }
  return inv;
}

/** log det A = 2 Σ_i log L_ii for symmetric positive definite A. @see [GV13] §4.2 */
export function logDetSpd(a: ArrayLike<number>): number {
  const l = choleskyLower(a);
  const d = dimOf(a, 'logDetSpd');
  let s = 0;
  for (let i = 0; i < d; i++) s += Math.log(l[i * d + i]);
  return 2 * s;
}

/**
 * log N(x; μ, Σ) = −½ (d log 2π + log det Σ + (x − μ)ᵀ Σ⁻¹ (x − μ)), with the quadratic form as ‖L⁻¹(x − μ)‖².
 * @see [Bis06] eq. 2.43
 */
export function mvNormalLogPdf(x: ArrayLike<number>, p: MvNormal): number {
  const d = p.mean.length;
  const l = choleskyLower(p.covariance);
  const diff = new Float64Array(d);
  for (let i = 0; i < d; i++) diff[i] = x[i] - p.mean[i];
  const z = forwardSolve(l, diff, d);
  let quad = 0;
  let logDet = 0;
  for (let i = 0; i < d; i++) {
    quad += z[i] * z[i];
    logDet += 2 * Math.log(l[i * d + i]);
  }
  return -0.5 * (d * LOG_2PI + logDet + quad);
}

/** n draws from N(μ, Σ) as rows of an n × d array: x = μ + L ε with ε ~ N(0, I), Σ = L Lᵀ. @see [Bis06] §11.1.1 */
export function sampleMvNormal(p: MvNormal, n: number, rng: Rng): Float64Array {
  const d = p.mean.length;
  const l = choleskyLower(p.covariance);
  const out = new Float64Array(n * d);
  const eps = new Float64Array(d);
  for (let s = 0; s < n; s++) {
    rng.fillNormal(eps);
    for (let i = 0; i < d; i++) {
      let v = p.mean[i];
      for (let k = 0; k <= i; k++) v += l[i * d + k] * eps[k];
      out[s * d + i] = v;
    }
  }
  return out;
}

/**
 * KL(N₀ ‖ N₁) in nats for d-dimensional normals:
 * ½ (tr(Σ₁⁻¹ Σ₀) + (μ₁ − μ₀)ᵀ Σ₁⁻¹ (μ₁ − μ₀) − d + log det Σ₁ − log det Σ₀).
 * @see [RW06] eq. A.23
 */
export function mvNormalKl(p0: MvNormal, p1: MvNormal): number {
  const d = p0.mean.length;
  if (p1.mean.length !== d) throw new Error(`mvNormalKl: dimensions differ (${d} vs ${p1.mean.length})`);
  const inv1 = inverseSpd(p1.covariance);
  let trace = 0;
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) trace += inv1[i * d + k] * p0.covariance[k * d + i];
  let quad = 0;
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++)
      quad += (p1.mean[i] - p0.mean[i]) * inv1[i * d + k] * (p1.mean[k] - p0.mean[k]);
  }
  return 0.5 * (trace + quad - d + logDetSpd(p1.covariance) - logDetSpd(p0.covariance));
}

/** A diagonal-covariance normal as an {@link MvNormal} (variances on the diagonal). */
export function diagonalMvNormal(mean: ArrayLike<number>, variance: ArrayLike<number>): MvNormal {
  const d = mean.length;
  if (variance.length !== d) throw new Error('diagonalMvNormal: mean and variance lengths differ');
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < d; i++) covariance[i * d + i] = variance[i];
  return { mean: Float64Array.from(mean), covariance };
}

/** The marginal variances Σ_ii of a covariance matrix. */
export function marginalVariances(covariance: ArrayLike<number>): Float64Array {
  const d = dimOf(covariance, 'marginalVariances');
  return Float64Array.from({ length: d }, (_, i) => covariance[i * d + i]);
}
