/**
 * Seeded 2-D toy distributions, and two sample-quality metrics for them (sliced Wasserstein-2, MMD²).
 *
 * Scaling: every set is centred and scaled *isotropically* (shapes are not distorted) by constants
 * from the closed-form moments of its noise-free distribution, so that the mean is 0 and the mean
 * squared norm is 2 (each coordinate has unit variance on average). The noise parameters are standard
 * deviations in these output units, so noise adds noise² to each coordinate's variance. Points are
 * returned interleaved, [x0, y0, x1, y1, …] (an [n, 2] row-major matrix).
 *
 * @see [Ped11] scikit-learn `make_moons`, `make_swiss_roll` (shapes; sklearn 1.5 docs)
 * @see [Grath19] Grathwohl et al. 2019, FFJORD, arXiv:1810.01367v3 (8 Gaussians, checkerboard)
 * @see [Rab11] Rabin, Peyré, Delon, Bernot 2011, "Wasserstein barycenter and its application to
 *   texture mixing" (sliced Wasserstein distance)
 * @see [Gre12] Gretton, Borgwardt, Rasch, Schölkopf, Smola 2012, JMLR 13, "A kernel two-sample
 *   test", eq. 3 (unbiased MMD²)
 */
import { assertNever } from '../math/checks.js';
import type { Rng } from '../random/rng.js';

/** The toy data sets, by name. */
export type Toy2dName = 'two-moons' | 'swiss-roll' | 'eight-gaussians' | 'checkerboard';

/** Every 2-D toy data set {@link toy2d} draws from. */
export const TOY2D_NAMES: readonly Toy2dName[] = [
  'two-moons',
  'swiss-roll',
  'eight-gaussians',
  'checkerboard',
];

/** True when `name` is one of {@link TOY2D_NAMES}. */
export function isToy2dName(name: string): name is Toy2dName {
  return (TOY2D_NAMES as readonly string[]).includes(name);
}

function assertCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`number of points must be an integer ≥ 0, got ${n}`);
}

function assertNoise(name: string, v: number): void {
  if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${name} must be a finite number ≥ 0, got ${v}`);
}

// Two moons, t ~ U[0, π]: outer (cos t, sin t), inner (1 − cos t, 1/2 − sin t) (sklearn's shapes).
// Mean (1/2, 1/4). Var x = 1/2 (within) + 1/4 (between moons) = 3/4.
// Var y = (1/2 − 4/π²) (within) + (4/π − 1/2)²/4 (between).
const MOONS_VAR_Y = 0.5 - 4 / Math.PI ** 2 + (4 / Math.PI - 0.5) ** 2 / 4;
const MOONS_SCALE = Math.sqrt((0.75 + MOONS_VAR_Y) / 2);

/**
 * Two interleaved half circles (even indices: the upper moon, odd: the lower one), plus Gaussian noise
 * of standard deviation `noise` (output units). The set is wider than tall: per-axis variances ≈ 1.5
 * and 0.5 (isotropic scaling keeps the shape).
 */
export function twoMoons(n: number, rng: Rng, noise = 0.05): Float32Array {
  assertCount(n);
  assertNoise('noise', noise);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = Math.PI * rng.uniform();
    const upper = i % 2 === 0;
    const x = upper ? Math.cos(t) : 1 - Math.cos(t);
    const y = upper ? Math.sin(t) : 0.5 - Math.sin(t);
    out[2 * i] = (x - 0.5) / MOONS_SCALE + noise * rng.normal();
    out[2 * i + 1] = (y - 0.25) / MOONS_SCALE + noise * rng.normal();
  }
  return out;
}

// Swiss roll (2-D): t = 1.5π(1 + 2u), u ~ U[0, 1], point (t cos t, t sin t) (sklearn's x and z).
// With a = 1.5π, b = 4.5π: E[t cos t] = [t sin t + cos t]_a^b/(b − a) = 6π/3π = 2,
// E[t sin t] = [sin t − t cos t]_a^b/(b − a) = 2/(3π), E[t²] = (b³ − a³)/(3(b − a)) = 9.75π².
const ROLL_MEAN_X = 2;
const ROLL_MEAN_Y = 2 / (3 * Math.PI);
const ROLL_SCALE = Math.sqrt((9.75 * Math.PI ** 2 - ROLL_MEAN_X ** 2 - ROLL_MEAN_Y ** 2) / 2);

/** A 2-D Swiss roll (a spiral of 1.5 turns), plus Gaussian noise of standard deviation `noise`. */
export function swissRoll(n: number, rng: Rng, noise = 0.05): Float32Array {
  assertCount(n);
  assertNoise('noise', noise);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = 1.5 * Math.PI * (1 + 2 * rng.uniform());
    out[2 * i] = (t * Math.cos(t) - ROLL_MEAN_X) / ROLL_SCALE + noise * rng.normal();
    out[2 * i + 1] = (t * Math.sin(t) - ROLL_MEAN_Y) / ROLL_SCALE + noise * rng.normal();
  }
  return out;
}

/**
 * A mixture of eight equally likely Gaussians with standard deviation `std`, centred on the circle of
 * radius √2 at angles kπ/4 (so each coordinate of the centres has variance 1).
 */
export function eightGaussians(n: number, rng: Rng, std = 0.1): Float32Array {
  assertCount(n);
  assertNoise('std', std);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const angle = (rng.int(8) * Math.PI) / 4;
    out[2 * i] = Math.SQRT2 * Math.cos(angle) + std * rng.normal();
    out[2 * i + 1] = Math.SQRT2 * Math.sin(angle) + std * rng.normal();
  }
  return out;
}

// Checkerboard: 4×4 unit cells on [−2, 2)², the 8 cells with ⌊x⌋ + ⌊y⌋ even filled. Each column and
// row holds two filled cells, so both marginals are U[−2, 2) with variance 16/12 = 4/3: scale √3/2.
const CHECKER_SCALE = Math.sqrt(3) / 2;

/** Uniform on the black squares of a 4×4 checkerboard (no noise parameter: the edges are sharp). */
export function checkerboard(n: number, rng: Rng): Float32Array {
  assertCount(n);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const col = rng.int(4); // cell column 0..3 ↔ x ∈ [col − 2, col − 1)
    // Cell (col, row) covers [col − 2, col − 1) × [row − 2, row − 1), so ⌊x⌋ + ⌊y⌋ = col + row − 4:
    // filled when col + row is even, i.e. row ∈ {0, 2} for even col and {1, 3} for odd col.
    const row = 2 * rng.int(2) + (col % 2);
    out[2 * i] = (col - 2 + rng.uniform()) * CHECKER_SCALE;
    out[2 * i + 1] = (row - 2 + rng.uniform()) * CHECKER_SCALE;
  }
  return out;
}

/** `n` points of the named toy set with its default noise. Throws, listing the names, for unknown names. */
export function toy2d(name: Toy2dName, n: number, rng: Rng): Float32Array {
  if (!isToy2dName(name)) {
    throw new Error(`unknown toy data set "${String(name)}"; valid names: ${TOY2D_NAMES.join(', ')}`);
  }
  switch (name) {
    case 'two-moons':
      return twoMoons(n, rng);
    case 'swiss-roll':
      return swissRoll(n, rng);
    case 'eight-gaussians':
      return eightGaussians(n, rng);
    case 'checkerboard':
      return checkerboard(n, rng);
    default:
      return assertNever(name, 'toy data set');
  }
}

type Points = Float32Array | Float64Array | readonly number[];

function pointCount(a: Points, what: string): number {
  if (a.length % 2 !== 0)
    throw new Error(`${what} must hold 2-D points [x0, y0, x1, y1, …], got length ${a.length}`);
  return a.length / 2;
}

/**
 * Sliced Wasserstein-2 distance between two equally sized 2-D point sets:
 * SW₂(a, b) = √( mean over directions θ of W₂²(⟨a, θ⟩, ⟨b, θ⟩) ), where the 1-D W₂² between two
 * equal-size samples is the mean squared difference of their sorted projections.
 *
 * Directions are stratified: θ_k = (k + u)π/P for k = 0..P−1 with one random offset u ~ U[0, 1), so
 * averages of cos²θ and sin²θ are exact (a shift by d gives exactly |d|/√2) and only the offset is
 * random. Half a circle suffices, since θ and θ + π give the same 1-D distance.
 *
 * @see [Rab11] §2 (sliced Wasserstein distance)
 */
export function slicedWasserstein2d(a: Points, b: Points, rng: Rng, projections = 128): number {
  const n = pointCount(a, 'a');
  if (pointCount(b, 'b') !== n) {
    throw new Error(`slicedWasserstein2d needs equally many points, got ${n} and ${b.length / 2}`);
  }
  if (!Number.isInteger(projections) || projections < 1) {
    throw new Error(`projections must be a positive integer, got ${projections}`);
  }
  if (n === 0) throw new Error('slicedWasserstein2d needs at least one point');
  const pa = new Float64Array(n);
  const pb = new Float64Array(n);
  const u = rng.uniform();
  let total = 0;
  for (let k = 0; k < projections; k++) {
    const theta = ((k + u) * Math.PI) / projections;
    const c = Math.cos(theta);
    const s = Math.sin(theta);
    for (let i = 0; i < n; i++) {
      pa[i] = c * a[2 * i] + s * a[2 * i + 1];
      pb[i] = c * b[2 * i] + s * b[2 * i + 1];
    }
    pa.sort();
    pb.sort();
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (pa[i] - pb[i]) ** 2;
    total += sq / n;
  }
  return Math.sqrt(total / projections);
}

/**
 * Unbiased MMD² between 2-D samples a (m points) and b (n points), kernel k(x, y) = Σ_h exp(−|x − y|²/(2h²))
 * over the bandwidths h:
 * MMD²_u = Σ_{i≠j} k(a_i, a_j)/(m(m−1)) + Σ_{i≠j} k(b_i, b_j)/(n(n−1)) − 2 Σ_{i,j} k(a_i, b_j)/(mn).
 * Unbiased, so it can be slightly negative when the distributions agree. O((m + n)²) time.
 *
 * @see [Gre12] eq. 3 and Lemma 6
 */
export function mmdRbf(a: Points, b: Points, bandwidths: readonly number[] = [0.1, 0.2, 0.5, 1, 2]): number {
  const m = pointCount(a, 'a');
  const n = pointCount(b, 'b');
  if (m < 2 || n < 2) throw new Error(`mmdRbf needs at least 2 points in each set, got ${m} and ${n}`);
  if (bandwidths.length === 0 || !bandwidths.every((h) => h > 0 && Number.isFinite(h))) {
    throw new Error(`bandwidths must be positive numbers, got [${bandwidths.join(', ')}]`);
  }
  const gammas = bandwidths.map((h) => 1 / (2 * h * h));
  const k = (x: Points, i: number, y: Points, j: number): number => {
    const d2 = (x[2 * i] - y[2 * j]) ** 2 + (x[2 * i + 1] - y[2 * j + 1]) ** 2;
    let s = 0;
    for (const g of gammas) s += Math.exp(-g * d2);
    return s;
  };
  let kaa = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) kaa += k(a, i, a, j);
  let kbb = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) kbb += k(b, i, b, j);
  let kab = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) kab += k(a, i, b, j);
  return (2 * kaa) / (m * (m - 1)) + (2 * kbb) / (n * (n - 1)) - (2 * kab) / (m * n);
}
