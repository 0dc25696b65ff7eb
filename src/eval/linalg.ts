/**
 * Small dense linear algebra in float64 for evaluation statistics: feature means and covariances, the
 * symmetric eigendecomposition (cyclic Jacobi), and the PSD matrix square root built on it. Matrices are
 * row-major Float64Array of d·d values; d is small (the classifier's 128 features), so O(d³) per sweep is
 * fine and Jacobi's accuracy (relative, for every eigenvalue) is worth more than speed.
 *
 * @see [GVL13] Golub & Van Loan, Matrix Computations, 4th ed. 2013, §8.5.2–8.5.3 (the symmetric Schur
 *   decomposition and the cyclic Jacobi method)
 */

/** Mean and covariance of n rows of d features. */
export interface FeatureStatistics {
  /** Number of rows the statistics were computed from. */
  n: number;
  /** Feature dimension. */
  d: number;
  /** μ [d]. */
  mean: Float64Array;
  /** Σ [d, d], row-major, unbiased (divides by n − 1, as numpy.cov and pytorch-fid do). */
  cov: Float64Array;
}

/**
 * μ = (1/n) Σ_i x_i and Σ = (1/(n−1)) Σ_i (x_i − μ)(x_i − μ)ᵀ of the rows of `rows` [n, d] (row-major).
 * Two passes (centre, then accumulate) so large means do not cancel the covariance.
 */
export function featureStatistics(rows: ArrayLike<number>, n: number, d: number): FeatureStatistics {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 2 || d < 1)
    throw new Error(`featureStatistics needs n ≥ 2 rows of d ≥ 1 features, got n = ${n}, d = ${d}`);
  if (rows.length !== n * d)
    throw new Error(`featureStatistics: ${rows.length} values are not ${n} rows of ${d}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += rows[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) c[j] = rows[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ca = c[a];
      if (ca === 0) continue;
      const row = a * d;
      for (let b = a; b < d; b++) cov[row + b] += ca * c[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { n, d, mean, cov };
}

/** Eigenvalues (ascending) and the matching orthonormal eigenvectors as the columns of `vectors`. */
export interface SymmetricEigen {
  values: Float64Array;
  /** V [d, d] row-major: column k is the eigenvector of values[k]; A = V·diag(values)·Vᵀ. */
  vectors: Float64Array;
}

/**
 * Eigendecomposition A = V Λ Vᵀ of a symmetric d×d matrix by the cyclic Jacobi method: sweep over all
 * pairs (p, q), p < q, zeroing a_pq with the rotation of [GVL13] Alg. 8.5.1 (symSchur2, the smaller
 * rotation angle, t = sign(τ)/(|τ| + √(1 + τ²)) with τ = (a_qq − a_pp)/(2 a_pq)), until the off-diagonal
 * Frobenius norm is below `tol`·‖A‖_F. Converges quadratically; ~6–10 sweeps for d ≈ 100.
 *
 * @see [GVL13] §8.5.2 Alg. 8.5.1 and §8.5.3 Alg. 8.5.3 (cyclic Jacobi)
 */
export function symmetricEigen(
  a: ArrayLike<number>,
  d: number,
  tol = 1e-15,
  maxSweeps = 100,
): SymmetricEigen {
  return jacobiEigen(a, d, tol, maxSweeps, true);
}

/** The eigenvalues (ascending) of a symmetric matrix: {@link symmetricEigen} without accumulating V (⅓ less work). */
export function symmetricEigenvalues(
  a: ArrayLike<number>,
  d: number,
  tol = 1e-15,
  maxSweeps = 100,
): Float64Array {
  return jacobiEigen(a, d, tol, maxSweeps, false).values;
}

/** The cyclic Jacobi iteration of {@link symmetricEigen}; `vectors` is empty unless `withVectors`. */
function jacobiEigen(
  a: ArrayLike<number>,
  d: number,
  tol: number,
  maxSweeps: number,
  withVectors: boolean,
): SymmetricEigen {
  if (a.length !== d * d) throw new Error(`symmetricEigen: ${a.length} values are not a ${d}×${d} matrix`);
  const A = Float64Array.from(a);
  let frob = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const x = A[i * d + j];
      if (!Number.isFinite(x)) throw new Error(`symmetricEigen: entry (${i}, ${j}) is ${x}`);
      const y = A[j * d + i];
      if (Math.abs(x - y) > 1e-9 * (Math.abs(x) + Math.abs(y)) + 1e-300) {
        throw new Error(
          `symmetricEigen: the matrix is not symmetric (a[${i}][${j}] = ${x}, a[${j}][${i}] = ${y})`,
        );
      }
      frob += x * x;
    }
  }
  // Symmetrise exactly so rounding noise in the input cannot bias the rotations.
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) A[i * d + j] = A[j * d + i] = 0.5 * (A[i * d + j] + A[j * d + i]);
  const V = new Float64Array(withVectors ? d * d : 0);
  if (withVectors) for (let i = 0; i < d; i++) V[i * d + i] = 1;
  const threshold = tol * Math.sqrt(frob);
  let converged = false;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += A[p * d + q] ** 2;
    if (Math.sqrt(2 * off) <= threshold) {
      converged = true;
      break;
    }
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = A[p * d + q];
        if (apq === 0) continue;
        const app = A[p * d + p];
        const aqq = A[q * d + q];
        const tau = (aqq - app) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        // A ← Jᵀ A J with J the rotation in the (p, q) plane: columns, then rows, then the 2×2 block.
        for (let k = 0; k < d; k++) {
          const akp = A[k * d + p];
          const akq = A[k * d + q];
          A[k * d + p] = c * akp - s * akq;
          A[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = A[p * d + k];
          const aqk = A[q * d + k];
          A[p * d + k] = c * apk - s * aqk;
          A[q * d + k] = s * apk + c * aqk;
        }
        A[p * d + q] = 0;
        A[q * d + p] = 0;
        A[p * d + p] = app - t * apq;
        A[q * d + q] = aqq + t * apq;
        if (withVectors)
          for (let k = 0; k < d; k++) {
            const vkp = V[k * d + p];
            const vkq = V[k * d + q];
            V[k * d + p] = c * vkp - s * vkq;
            V[k * d + q] = s * vkp + c * vkq;
          }
      }
    }
  }
  if (!converged) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += A[p * d + q] ** 2;
    if (Math.sqrt(2 * off) > threshold * 1e3)
      throw new Error(
        `symmetricEigen: Jacobi did not converge in ${maxSweeps} sweeps (off-diagonal ${Math.sqrt(2 * off)})`,
      );
  }
  // Sort ascending, permuting the eigenvector columns with the values.
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => A[i * d + i] - A[j * d + j]);
  const values = new Float64Array(d);
  const vectors = new Float64Array(withVectors ? d * d : 0);
  order.forEach((src, dst) => {
    values[dst] = A[src * d + src];
    if (withVectors) for (let k = 0; k < d; k++) vectors[k * d + dst] = V[k * d + src];
  });
  return { values, vectors };
}

/** V·diag(f(λ))·Vᵀ from an eigendecomposition: a matrix function of a symmetric matrix. */
export function fromEigen(e: SymmetricEigen, f: (lambda: number) => number): Float64Array {
  const d = e.values.length;
  const fl = e.values.map(f);
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += e.vectors[i * d + k] * fl[k] * e.vectors[j * d + k];
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  }
  return out;
}

/**
 * The PSD square root A^{1/2} = V·diag(√max(λ, 0))·Vᵀ of a symmetric positive semi-definite matrix.
 * // DEVIATION: eigenvalues that rounding made slightly negative are clamped to 0.
 */
export function sqrtPsd(a: ArrayLike<number>, d: number): Float64Array {
  return fromEigen(symmetricEigen(a, d), (l) => Math.sqrt(Math.max(l, 0)));
}

/** C = A·B for row-major d×d matrices. */
export function matmulSquare(a: ArrayLike<number>, b: ArrayLike<number>, d: number): Float64Array {
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) c[i * d + j] += aik * b[k * d + j];
    }
  }
  return c;
}

/** Tr(A) of a row-major d×d matrix. */
export function trace(a: ArrayLike<number>, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += a[i * d + i];
  return s;
}
