/**
 * Markov chain Monte Carlo in float64: random-walk Metropolis and Hamiltonian Monte Carlo on a target
 * known up to its normalising constant (the seed's point: the evidence p(D) is the hard part, and MCMC
 * never needs it), and the Monte Carlo error of chain averages: effective sample size (Geyer's initial
 * monotone sequence), batch means, and a batch jackknife for smooth functions of several averages.
 *
 * References:
 * - [Bis06] C. M. Bishop, PRML 2006, §11.2.1 (eq. 11.33, the Metropolis acceptance min(1, p̃(z*)/p̃(z)))
 * - [Neal11] R. M. Neal, "MCMC using Hamiltonian dynamics", arXiv:1206.1901v1: §5.2 (eqs. 5.18–5.20
 *   leapfrog; the acceptance min(1, exp(−H(q*, p*) + H(q, p))); Figure 2 (the algorithm in R); §5.4.2.2
 *   (randomising the stepsize to avoid periodic trajectories); §4.2 (per-coordinate stepsizes ≡ a
 *   diagonal mass matrix)
 * - [Gey92] C. J. Geyer, "Practical Markov chain Monte Carlo", Statistical Science 7 (1992) 473–483, §3.3
 *   (initial positive and initial monotone sequence estimators of the asymptotic variance)
 * - [FJ10] J. M. Flegal & G. L. Jones, "Batch means and spectral variance estimators in Markov chain Monte
 *   Carlo", Annals of Statistics 38 (2010) 1034–1070 (batch means with ⌊√n⌋ batches)
 */

import type { Rng } from '../random/rng.js';

/** A target density known up to a constant: log p̃(x) and its gradient (written into `out`). */
export interface LogDensity {
  dim: number;
  /** log p̃(x), up to an additive constant. */
  logDensity(x: Float64Array): number;
  /** Writes ∇ log p̃(x) into out; returns log p̃(x). */
  gradLogDensity(x: Float64Array, out: Float64Array): number;
}

/** The draws of one chain (after burn-in) as rows of an n × d array, and its acceptance rate. */
export interface Chain {
  samples: Float64Array;
  n: number;
  d: number;
  /** Accepted proposals / proposals, over the kept iterations. */
  acceptanceRate: number;
}

/** Options of {@link randomWalkMetropolis}. */
export interface RandomWalkOptions {
  /** Iterations kept. */
  steps: number;
  /** Iterations discarded first (default steps/10). */
  burnIn?: number;
  /** Proposal standard deviation per coordinate (a number applies to all). */
  proposalStd: number | ArrayLike<number>;
}

/** Options of {@link hamiltonianMonteCarlo}: kept iterations, burn-in, leapfrog step size and steps. */
export interface HmcOptions {
  steps: number;
  burnIn?: number;
  /** Leapfrog stepsize ε per coordinate (a number applies to all). */
  stepSize: number | ArrayLike<number>;
  /** Leapfrog steps L per trajectory. */
  leapfrogSteps: number;
  /** ε is drawn uniformly from [ε(1 − j), ε(1 + j)] each iteration (default 0.2). */
  stepSizeJitter?: number;
}

function perCoordinate(v: number | ArrayLike<number>, d: number, what: string): Float64Array {
  if (typeof v === 'number') return new Float64Array(d).fill(v);
  if (v.length !== d) throw new Error(`${what}: ${v.length} values for ${d} coordinates`);
  return Float64Array.from(v);
}

function checkSteps(steps: number, burnIn: number): void {
  if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(burnIn) || burnIn < 0) {
    throw new Error(`MCMC: steps must be an integer ≥ 1 and burnIn ≥ 0, got ${steps}, ${burnIn}`);
  }
}

/**
 * Random-walk Metropolis: propose x* = x + s ⊙ ε with ε ~ N(0, I) and accept with probability
 * min(1, p̃(x*)/p̃(x)) (the proposal is symmetric, so no Hastings correction).
 * @see [Bis06] §11.2.1, eq. 11.33
 */
export function randomWalkMetropolis(
  target: LogDensity,
  init: ArrayLike<number>,
  options: RandomWalkOptions,
  rng: Rng,
): Chain {
  const d = target.dim;
  const burnIn = options.burnIn ?? Math.floor(options.steps / 10);
  checkSteps(options.steps, burnIn);
  const s = perCoordinate(options.proposalStd, d, 'randomWalkMetropolis proposalStd');
  let x = Float64Array.from(init);
  let logP = target.logDensity(x);
  const proposal = new Float64Array(d);
  const samples = new Float64Array(options.steps * d);
  let accepted = 0;
  for (let it = 0; it < burnIn + options.steps; it++) {
    for (let j = 0; j < d; j++) proposal[j] = x[j] + s[j] * rng.normal();
    const logPStar = target.logDensity(proposal);
    if (Math.log(rng.uniformOpen()) < logPStar - logP) {
      x = Float64Array.from(proposal);
      logP = logPStar;
      if (it >= burnIn) accepted++;
    }
    if (it >= burnIn) samples.set(x, (it - burnIn) * d);
  }
  return { samples, n: options.steps, d, acceptanceRate: accepted / options.steps };
}

/**
 * Hamiltonian Monte Carlo with potential U(q) = −log p̃(q) and kinetic energy K(p) = ½‖p‖²: draw
 * p ~ N(0, I); L leapfrog steps p ← p − (ε/2)∇U(q), q ← q + εp, p ← p − (ε/2)∇U(q); accept (q*, p*)
 * with probability min(1, exp(H(q, p) − H(q*, p*))), H = U + K.
 * @see [Neal11] §5.2 eqs. 5.18–5.20 and Figure 2; §5.4.2.2 (jittered ε); §4.2 (per-coordinate ε)
 */
export function hamiltonianMonteCarlo(
  target: LogDensity,
  init: ArrayLike<number>,
  options: HmcOptions,
  rng: Rng,
): Chain {
  const d = target.dim;
  const burnIn = options.burnIn ?? Math.floor(options.steps / 10);
  checkSteps(options.steps, burnIn);
  if (!Number.isInteger(options.leapfrogSteps) || options.leapfrogSteps < 1) {
    throw new Error(
      `hamiltonianMonteCarlo: leapfrogSteps must be an integer ≥ 1, got ${options.leapfrogSteps}`,
    );
  }
  const eps0 = perCoordinate(options.stepSize, d, 'hamiltonianMonteCarlo stepSize');
  const jitter = options.stepSizeJitter ?? 0.2;
  const q = Float64Array.from(init);
  const grad = new Float64Array(d);
  let logP = target.gradLogDensity(q, grad);
  const gradCurrent = Float64Array.from(grad);
  const qNew = new Float64Array(d);
  const p = new Float64Array(d);
  const eps = new Float64Array(d);
  const samples = new Float64Array(options.steps * d);
  let accepted = 0;
  for (let it = 0; it < burnIn + options.steps; it++) {
    const scale = 1 + jitter * (2 * rng.uniform() - 1);
    for (let j = 0; j < d; j++) eps[j] = eps0[j] * scale;
    rng.fillNormal(p);
    let kinetic0 = 0;
    for (let j = 0; j < d; j++) kinetic0 += 0.5 * p[j] * p[j];
    qNew.set(q);
    grad.set(gradCurrent);
    // Leapfrog: half step in p, alternating full steps, final half step (∇U = −∇ log p̃).
    for (let j = 0; j < d; j++) p[j] += 0.5 * eps[j] * grad[j];
    let logPNew = 0;
    for (let l = 0; l < options.leapfrogSteps; l++) {
      for (let j = 0; j < d; j++) qNew[j] += eps[j] * p[j];
      logPNew = target.gradLogDensity(qNew, grad);
      const w = l === options.leapfrogSteps - 1 ? 0.5 : 1;
      for (let j = 0; j < d; j++) p[j] += w * eps[j] * grad[j];
    }
    let kinetic1 = 0;
    for (let j = 0; j < d; j++) kinetic1 += 0.5 * p[j] * p[j];
    // log acceptance = −H(q*, p*) + H(q, p) = (log p̃* − K*) − (log p̃ − K)
    const logAccept = logPNew - kinetic1 - (logP - kinetic0);
    if (Number.isFinite(logPNew) && Math.log(rng.uniformOpen()) < logAccept) {
      q.set(qNew);
      gradCurrent.set(grad);
      logP = logPNew;
      if (it >= burnIn) accepted++;
    }
    if (it >= burnIn) samples.set(q, (it - burnIn) * d);
  }
  return { samples, n: options.steps, d, acceptanceRate: accepted / options.steps };
}

/** Column j of an n × d sample array. */
export function chainColumn(chain: Chain, j: number): Float64Array {
  const out = new Float64Array(chain.n);
  for (let i = 0; i < chain.n; i++) out[i] = chain.samples[i * chain.d + j];
  return out;
}

/**
 * The effective sample size n/τ of a chain, τ = 1 + 2 Σ_k ρ_k the integrated autocorrelation time, with
 * Geyer's initial monotone sequence estimator: sum the pairs Γ_m = ρ_{2m} + ρ_{2m+1} while they are
 * positive, each capped by the previous one. Autocovariances use the 1/n normalisation.
 * @see [Gey92] §3.3
 */
export function effectiveSampleSize(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 4) throw new Error(`effectiveSampleSize: need at least 4 draws, got ${n}`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i];
  mean /= n;
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = xs[i] - mean;
  const autocov = (k: number): number => {
    let s = 0;
    for (let i = 0; i + k < n; i++) s += c[i] * c[i + k];
    return s / n;
  };
  const gamma0 = autocov(0);
  if (gamma0 === 0) return n;
  let tau = -1; // τ = −1 + 2 Σ_m Γ_m (Γ_0 = ρ_0 + ρ_1 includes ρ_0 = 1)
  let prev = Infinity;
  for (let m = 0; 2 * m + 1 < n; m++) {
    let pair = (autocov(2 * m) + autocov(2 * m + 1)) / gamma0;
    if (!(pair > 0)) break;
    if (pair > prev) pair = prev;
    prev = pair;
    tau += 2 * pair;
  }
  return n / tau;
}

/** A Monte Carlo estimate from a Markov chain: the average, its standard error √(s²/ESS) and the ESS. */
export interface ChainEstimate {
  mean: number;
  stdError: number;
  /** Sample variance of the draws (1/(n − 1)). */
  variance: number;
  ess: number;
}

/**
 * The chain average of f(x) with its Monte Carlo standard error √(s²/ESS).
 * @see [Gey92] §3.3 (asymptotic variance τ s² / n)
 */
export function chainExpectation(xs: ArrayLike<number>): ChainEstimate {
  const n = xs.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i] - mean) ** 2;
  const variance = ss / (n - 1);
  const ess = effectiveSampleSize(xs);
  return { mean, stdError: Math.sqrt(variance / ess), variance, ess };
}

/**
 * The standard error of a chain average by batch means: b = ⌊√n⌋ consecutive batches (default),
 * SE = sd(batch averages)/√b.
 * @see [FJ10] §2
 */
export function batchMeansStdError(xs: ArrayLike<number>, batches?: number): number {
  const n = xs.length;
  const b = batches ?? Math.floor(Math.sqrt(n));
  if (!Number.isInteger(b) || b < 2 || b > n) throw new Error(`batchMeansStdError: bad batch count ${b}`);
  const size = Math.floor(n / b);
  const means = new Float64Array(b);
  for (let k = 0; k < b; k++) {
    let s = 0;
    for (let i = k * size; i < (k + 1) * size; i++) s += xs[i];
    means[k] = s / size;
  }
  let m = 0;
  for (const v of means) m += v;
  m /= b;
  let ss = 0;
  for (const v of means) ss += (v - m) ** 2;
  return Math.sqrt(ss / (b - 1) / b);
}

/**
 * A statistic of a whole chain (e.g. the KL of the Gaussian fitted to the draws) with a batch-jackknife
 * standard error: split the chain into B consecutive batches, recompute the statistic leaving out each
 * batch, SE = √((B − 1)/B · Σ_k (θ₋ₖ − θ̄)²). Batches long enough to be nearly independent make this valid
 * for correlated draws.
 * @see [FJ10] (batching); B. Efron, The Jackknife, the Bootstrap and Other Resampling Plans, SIAM 1982, §3
 */
export function batchJackknife(
  samples: Float64Array,
  d: number,
  statistic: (rows: Float64Array) => number,
  batches = 20,
): { value: number; stdError: number } {
  const n = samples.length / d;
  if (!Number.isInteger(n) || batches < 2 || batches > n)
    throw new Error('batchJackknife: bad shape or batches');
  const size = Math.floor(n / batches);
  const value = statistic(samples);
  const leaveOut = new Float64Array(batches);
  for (let k = 0; k < batches; k++) {
    const kept = new Float64Array((n - size) * d);
    kept.set(samples.subarray(0, k * size * d), 0);
    kept.set(samples.subarray((k + 1) * size * d), k * size * d);
    leaveOut[k] = statistic(kept);
  }
  let m = 0;
  for (const v of leaveOut) m += v;
  m /= batches;
  let ss = 0;
  for (const v of leaveOut) ss += (v - m) ** 2;
  return { value, stdError: Math.sqrt(((batches - 1) / batches) * ss) };
}

/** The sample mean (length d) and covariance (d × d, 1/(n − 1)) of the rows of an n × d array. */
export function sampleMoments(
  samples: Float64Array,
  d: number,
): { mean: Float64Array; covariance: Float64Array } {
  const n = samples.length / d;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += samples[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const a = samples[i * d + j] - mean[j];
      for (let k = 0; k < d; k++) covariance[j * d + k] += a * (samples[i * d + k] - mean[k]);
    }
  }
  for (let j = 0; j < d * d; j++) covariance[j] /= n - 1;
  return { mean, covariance };
}

/**
 * The p-quantile of sorted values by linear interpolation between order statistics (Hyndman & Fan
 * definition 7, the default of R and NumPy): h = (n − 1)p, x_⌊h⌋ + (h − ⌊h⌋)(x_⌊h⌋+1 − x_⌊h⌋).
 * @see R. J. Hyndman & Y. Fan, "Sample quantiles in statistical packages", Am. Stat. 50 (1996) 361–365
 */
export function sortedQuantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0 || !(p >= 0 && p <= 1)) throw new Error(`sortedQuantile: need n ≥ 1 and p ∈ [0, 1]`);
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}
