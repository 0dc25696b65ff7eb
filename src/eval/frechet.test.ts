import { describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import {
  frechetDistance,
  frechetDistanceBootstrap,
  frechetDistanceOfFeatures,
  frechetDistanceRealFloor,
  traceSqrtProduct,
} from './frechet.js';
import { featureStatistics, matmulSquare, sqrtPsd, symmetricEigen, symmetricEigenvalues } from './linalg.js';

/** A random symmetric d×d matrix with standard normal entries (seeded). */
function randomSymmetric(d: number, seed: number): Float64Array {
  const g = Rng.fromSeed(seed).fillNormal(new Float64Array(d * d));
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = 0.5 * (g[i * d + j] + g[j * d + i]);
  return a;
}

/** A random SPD matrix G Gᵀ/d + εI (seeded). */
function randomSpd(d: number, seed: number): Float64Array {
  const g = Rng.fromSeed(seed).fillNormal(new Float64Array(d * d));
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += g[i * d + k] * g[j * d + k];
      a[i * d + j] = s / d + (i === j ? 0.1 : 0);
    }
  return a;
}

function diag(values: number[]): Float64Array {
  const d = values.length;
  const a = new Float64Array(d * d);
  values.forEach((v, i) => (a[i * d + i] = v));
  return a;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('featureStatistics', () => {
  it('matches the mean and unbiased covariance computed by hand', () => {
    // rows (1,2), (3,6), (5,7): μ = (3,5); deviations (−2,−3), (0,1), (2,2); Σ = [[8,10],[10,14]]/2.
    const s = featureStatistics([1, 2, 3, 6, 5, 7], 3, 2);
    expect(Array.from(s.mean)).toEqual([3, 5]);
    expect(Array.from(s.cov)).toEqual([4, 5, 5, 7]);
  });

  it('rejects a wrong row count', () => {
    expect(() => featureStatistics([1, 2, 3], 2, 2)).toThrow(/not 2 rows of 2/);
  });
});

describe('symmetricEigen (cyclic Jacobi)', () => {
  it('symmetricEigenvalues gives the same values, bit for bit, without the vectors', () => {
    const a = randomSymmetric(12, 5);
    expect(symmetricEigenvalues(a, 12)).toEqual(symmetricEigen(a, 12).values);
  });

  it('finds the eigenvalues of [[2,1],[1,2]] (1 and 3, closed form)', () => {
    const e = symmetricEigen([2, 1, 1, 2], 2);
    expect(e.values[0]).toBeCloseTo(1, 14);
    expect(e.values[1]).toBeCloseTo(3, 14);
    // The eigenvector of 3 is ±(1,1)/√2.
    expect(Math.abs(e.vectors[1])).toBeCloseTo(Math.SQRT1_2, 14);
    expect(Math.abs(e.vectors[3])).toBeCloseTo(Math.SQRT1_2, 14);
  });

  it.each([
    [1, 0],
    [7, 1],
    [40, 2],
  ])('reconstructs A = VΛVᵀ with VᵀV = I to 1e-10 (d = %i, seed %i)', (d, seed) => {
    const a = randomSymmetric(d, seed);
    const { values, vectors } = symmetricEigen(a, d);
    const vl = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) vl[i * d + k] = vectors[i * d + k] * values[k];
    const vt = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) vt[j * d + i] = vectors[i * d + j];
    expect(maxAbsDiff(matmulSquare(vl, vt, d), a)).toBeLessThan(1e-10);
    expect(maxAbsDiff(matmulSquare(vt, vectors, d), diag(new Array<number>(d).fill(1)))).toBeLessThan(1e-10);
    for (let k = 1; k < d; k++) expect(values[k]).toBeGreaterThanOrEqual(values[k - 1]);
  });

  it('handles repeated eigenvalues (the identity plus a rank-one term: 1, 1, 1, 1 + 4)', () => {
    // I + uuᵀ with u = (1,1,1,1): eigenvalues 1 (three times) and 1 + ‖u‖² = 5.
    const a = new Float64Array(16).fill(1);
    for (let i = 0; i < 4; i++) a[i * 4 + i] = 2;
    const { values } = symmetricEigen(a, 4);
    expect(maxAbsDiff(values, [1, 1, 1, 5])).toBeLessThan(1e-12);
  });

  it('rejects a non-symmetric matrix', () => {
    expect(() => symmetricEigen([1, 2, 3, 4], 2)).toThrow(/not symmetric/);
  });

  it('sqrtPsd squares back to the matrix (1e-10)', () => {
    const a = randomSpd(12, 3);
    const s = sqrtPsd(a, 12);
    expect(maxAbsDiff(matmulSquare(s, s, 12), a)).toBeLessThan(1e-10);
  });
});

describe('frechetDistance', () => {
  it('diagonal covariances: ‖Δμ‖² + Σ(√a − √b)² (closed form, [DL82])', () => {
    const a = [4, 1, 0.25, 9];
    const b = [1, 1, 1, 16];
    const mu1 = [0, 1, 2, 3];
    const mu2 = [1, 1, 0, 3];
    const expected = 1 + 4 + ((2 - 1) ** 2 + 0 + (0.5 - 1) ** 2 + (3 - 4) ** 2);
    expect(frechetDistance(mu1, diag(a), mu2, diag(b))).toBeCloseTo(expected, 12);
  });

  it('is 0 for identical Gaussians (random SPD covariance, d = 30; tolerance 1e-9)', () => {
    const cov = randomSpd(30, 4);
    const mu = Rng.fromSeed(5).fillNormal(new Float64Array(30));
    expect(frechetDistance(mu, cov, mu, cov)).toBeLessThan(1e-9);
  });

  it('a 2-D rotated example computed by hand: Σ1 = diag(4, 1), Σ2 = R45° Σ1 R45°ᵀ', () => {
    // Σ2 = [[2.5, 1.5], [1.5, 2.5]]; M = Σ1^{1/2} Σ2 Σ1^{1/2} = [[10, 3], [3, 2.5]];
    // for a 2×2 PSD matrix Tr √M = √(tr M + 2√det M) = √(12.5 + 2·4) = √20.5, so d² = 5 + 5 − 2√20.5.
    const cov1 = [4, 0, 0, 1];
    const cov2 = [2.5, 1.5, 1.5, 2.5];
    expect(traceSqrtProduct(cov1, cov2, 2)).toBeCloseTo(Math.sqrt(20.5), 13);
    expect(frechetDistance([0, 0], cov1, [0, 0], cov2)).toBeCloseTo(10 - 2 * Math.sqrt(20.5), 13);
    // Symmetric in its arguments although the formula is not written symmetrically.
    expect(frechetDistance([0, 0], cov2, [0, 0], cov1)).toBeCloseTo(10 - 2 * Math.sqrt(20.5), 12);
  });

  it('samples: same Gaussian → small; shifted mean → ≈ ‖Δμ‖² (Monte Carlo, n = 20000, seeds 6–8)', () => {
    const d = 4;
    const n = 20000;
    // x = L z with a fixed lower-triangular L: Σ = L Lᵀ.
    const L = [1, 0, 0, 0, 0.5, 1, 0, 0, -0.3, 0.2, 0.8, 0, 0.1, 0.4, -0.2, 0.6];
    const draw = (seed: number, shift: number[]) => {
      const z = Rng.fromSeed(seed).fillNormal(new Float64Array(n * d));
      const x = new Float64Array(n * d);
      for (let i = 0; i < n; i++)
        for (let r = 0; r < d; r++) {
          let s = shift[r];
          for (let c = 0; c <= r; c++) s += L[r * d + c] * z[i * d + c];
          x[i * d + r] = s;
        }
      return x;
    };
    const a = draw(6, [0, 0, 0, 0]);
    const same = frechetDistanceOfFeatures(a, n, draw(7, [0, 0, 0, 0]), n, d);
    const shifted = frechetDistanceOfFeatures(a, n, draw(8, [0.6, 0, -0.8, 0]), n, d);
    // Finite-sample bias and noise of the estimate are O(d/n) and O(1/√n)·‖Δμ‖: ~1e-3 and ~1e-2.
    expect(same).toBeLessThan(0.01);
    expect(Math.abs(shifted - 1)).toBeLessThan(0.05);
  });
});

describe('frechetDistanceBootstrap', () => {
  // Generated rows ~ N(0.3·1, diag(1.5, 1, 0.7, 1.2)), reference rows ~ N(0, I), d = 4.
  const d = 4;
  const scale = [Math.sqrt(1.5), 1, Math.sqrt(0.7), Math.sqrt(1.2)];
  const generated = (n: number, rng: Rng) =>
    rng.fillNormal(new Float64Array(n * d)).map((z, i) => 0.3 + scale[i % d] * z);
  const reference = Rng.fromSeed(20).fillNormal(new Float64Array(4000 * d));

  it('matches the spread of the distance over independent draws of the generated set (n = 400)', () => {
    const n = 400;
    // Monte Carlo truth: 60 independent generated sets against the same reference.
    const rng = Rng.fromSeed(21);
    const draws = Array.from({ length: 60 }, () =>
      frechetDistanceOfFeatures(generated(n, rng), n, reference, 4000, d),
    );
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    const sdTrue = Math.sqrt(draws.reduce((s, v) => s + (v - mean) ** 2, 0) / (draws.length - 1));
    // The bootstrap from a single set.
    const one = generated(n, Rng.fromSeed(22));
    const { sd, replicates } = frechetDistanceBootstrap(one, n, reference, 4000, d, 200, Rng.fromSeed(23));
    expect(replicates.length).toBe(200);
    console.info(`bootstrap sd ${sd.toFixed(4)}, over 60 independent sets ${sdTrue.toFixed(4)}`);
    // Each estimate has ~10 % relative error (60 draws; 200 replicates of one set of 400): a factor 1.5 either way
    // fails a bootstrap that resampled the wrong set, the wrong count, or took a standard error of the mean.
    expect(sd / sdTrue).toBeGreaterThan(1 / 1.5);
    expect(sd / sdTrue).toBeLessThan(1.5);
  });

  it('needs at least 2 replicates', () => {
    const x = generated(10, Rng.fromSeed(1));
    expect(() => frechetDistanceBootstrap(x, 10, x, 10, d, 1, Rng.fromSeed(2))).toThrow(/≥ 2 replicates/);
  });
});

describe('frechetDistanceRealFloor', () => {
  it('is the distance of random held-out rows of one Gaussian to the rest: small, positive, shrinking with n', () => {
    // 4000 rows of N(0, I_4): a random 100 against the other 3900 differ only by sampling noise, whose expected
    // squared-mean part alone is d/100 + d/3900 ≈ 0.041; 1000 rows give about a tenth of that.
    const d = 4;
    const rows = Rng.fromSeed(31).fillNormal(new Float64Array(4000 * d));
    const small = frechetDistanceRealFloor(rows, 4000, d, 100, 5, Rng.fromSeed(1));
    const large = frechetDistanceRealFloor(rows, 4000, d, 1000, 5, Rng.fromSeed(1));
    expect(small.replicates.every((v) => v > 0)).toBe(true);
    expect(small.mean).toBeGreaterThan(0.03);
    expect(small.mean).toBeLessThan(0.3);
    expect(large.mean).toBeLessThan(small.mean / 4);
    expect(small.sd).toBeGreaterThan(0);
  });

  it('draws at random: on rows sorted into two groups the first n would be far off, a random n is not', () => {
    const d = 2;
    const rows = new Float64Array(2000 * d);
    const rng = Rng.fromSeed(4);
    for (let i = 0; i < 2000; i++)
      for (let k = 0; k < d; k++) rows[i * d + k] = rng.normal() + (i < 1000 ? -3 : 3);
    const firstN = frechetDistanceOfFeatures(rows.subarray(0, 200 * d), 200, rows.subarray(200 * d), 1800, d);
    const floor = frechetDistanceRealFloor(rows, 2000, d, 200, 3, Rng.fromSeed(5));
    expect(firstN).toBeGreaterThan(10);
    expect(floor.mean).toBeLessThan(0.5);
  });

  it('refuses sizes that leave no rest', () => {
    expect(() => frechetDistanceRealFloor(new Float64Array(20), 10, 2, 9, 1, Rng.fromSeed(1))).toThrow(
      /2 ≤ n ≤ 8/,
    );
  });
});
