/**
 * The linear-Gaussian latent-variable model, where everything the VAE approximates is exact:
 *   p(z) = N(0, I_L),  p(x|z) = N(x; Wᵀz + b, σ²I_D)  (W stored [L, D], as a decoder Linear layer's weight),
 *   p(x) = N(x; b, WᵀW + σ²I),  p(z|x) = N(Λ⁻¹W(x − b)/σ², Λ⁻¹) with Λ = I + WWᵀ/σ².
 * (Probabilistic PCA; a VAE with linear encoder and decoder and a Gaussian decoder of fixed variance.) The tests
 * use it to check that ELBO ≤ log p(x), that the gap is KL(q ‖ p(z|x)), and that the IWAE bound rises towards it.
 *
 * [TB99] Tipping & Bishop, Probabilistic Principal Component Analysis, JRSS-B 61 (1999) eqs. 3–6 ·
 * [KW14] arXiv:1312.6114v11 (the ELBO, eq. 3)
 */

const LOG_2PI = Math.log(2 * Math.PI);

/** Lower-triangular Cholesky factor of a symmetric positive definite n×n matrix (row-major). */
export function cholesky(a: ArrayLike<number>, n: number): Float64Array {
  if (a.length !== n * n) throw new Error(`cholesky: ${a.length} values for a ${n}×${n} matrix`);
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new Error('cholesky: the matrix is not positive definite');
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  return l;
}

/** Solves L y = v (forward substitution) for lower-triangular L. */
function forwardSolve(l: Float64Array, v: ArrayLike<number>, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = v[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
  }
  return y;
}

/** Solves A x = v for A = L Lᵀ. */
function choleskySolve(l: Float64Array, v: ArrayLike<number>, n: number): Float64Array {
  const y = forwardSolve(l, v, n);
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}

/** p(z) = N(0, I), p(x|z) = N(Wᵀz + b, σ²I): a VAE whose posterior and marginal are exact ([TB99] eqs. 3–6). */
export interface LinearGaussianModel {
  /** [L, D] row-major: x = Wᵀz + b + σ ε. */
  W: ArrayLike<number>;
  b: ArrayLike<number>;
  /** log σ² of the decoder. */
  logVar: number;
  latentDim: number;
  dataDim: number;
}

/**
 * log p(x) = log N(x; b, WᵀW + σ²I) = −½ (D log 2π + log det Σ + (x − b)ᵀ Σ⁻¹ (x − b)).
 * @see [TB99] eq. 6 (C = WWᵀ + σ²I in their column convention)
 */
export function linearGaussianLogMarginal(m: LinearGaussianModel, x: ArrayLike<number>): number {
  const { W, b, latentDim: L, dataDim: D } = m;
  if (x.length !== D) throw new Error(`linearGaussianLogMarginal: x has length ${x.length}, expected ${D}`);
  const sigma2 = Math.exp(m.logVar);
  const cov = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      let s = i === j ? sigma2 : 0;
      for (let l = 0; l < L; l++) s += W[l * D + i] * W[l * D + j];
      cov[i * D + j] = s;
    }
  }
  const chol = cholesky(cov, D);
  const r = Float64Array.from(x, (v, i) => v - b[i]);
  const y = forwardSolve(chol, r, D);
  let logDet = 0;
  let quad = 0;
  for (let i = 0; i < D; i++) {
    logDet += 2 * Math.log(chol[i * D + i]);
    quad += y[i] * y[i];
  }
  return -0.5 * (D * LOG_2PI + logDet + quad);
}

/**
 * The exact posterior p(z|x) = N(Λ⁻¹ W (x − b)/σ², Λ⁻¹), Λ = I + WWᵀ/σ² (full covariance, [L, L]).
 * @see [TB99] eq. 5 (M = WᵀW + σ²I; here Λ = M/σ² in the row convention)
 */
export function linearGaussianPosterior(
  m: LinearGaussianModel,
  x: ArrayLike<number>,
): { mean: Float64Array; cov: Float64Array } {
  const { W, b, latentDim: L, dataDim: D } = m;
  const sigma2 = Math.exp(m.logVar);
  const precision = new Float64Array(L * L);
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < L; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += W[i * D + d] * W[j * D + d];
      precision[i * L + j] = (i === j ? 1 : 0) + s / sigma2;
    }
  }
  const chol = cholesky(precision, L);
  const rhs = new Float64Array(L);
  for (let i = 0; i < L; i++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += W[i * D + d] * (x[d] - b[d]);
    rhs[i] = s / sigma2;
  }
  const mean = choleskySolve(chol, rhs, L);
  const cov = new Float64Array(L * L);
  for (let j = 0; j < L; j++) {
    const e = new Float64Array(L);
    e[j] = 1;
    const col = choleskySolve(chol, e, L);
    for (let i = 0; i < L; i++) cov[i * L + j] = col[i];
  }
  return { mean, cov };
}
