/**
 * The DDPM's negative ELBO (variational bound) as the seeds write it, a sum of KL terms:
 *
 *   −log p_θ(x0) ≤ L_T + Σ_{t=2}^{T} L_{t−1} + L_0                                 [Ho20] eq. 5
 *   L_T     = KL(q(x_T | x0) ‖ N(0, I))                      (prior term, no parameters)
 *   L_{t−1} = E_q KL(q(x_{t−1} | x_t, x0) ‖ p_θ(x_{t−1} | x_t))  (Gaussian vs Gaussian, closed form)
 *   L_0     = −E_q log p_θ(x0 | x_1)                          (discretized Gaussian decoder for 8-bit data)
 *
 * Each L_{t−1} is estimated with one x_t ~ q(x_t | x0) per example, as improved-diffusion's
 * `calc_bpd_loop` does. With 0-based code timesteps, code t = 0 is the decoder term and code t ≥ 1 is
 * L_{t} in paper numbering shifted by one. The seed note 002 drops L_0 and L_T "as unimportant"; for a
 * likelihood they are needed, and are here.
 *
 * Each term is evaluated by vlbTermWithGradient (vlbTerm.ts), the function the L_hybrid/L_vlb objectives train
 * with, so the bound and the training loss are one formula. With learned variances ([ND21] §3.1) the model
 * returns its mean outputs followed by its v outputs, and each element gets its own log Σ_θ (eq. 15).
 *
 * [Ho20] arXiv:2006.11239v2 · [ND21] arXiv:2102.09672v1 (§2, improved-diffusion `_vb_terms_bpd`)
 */
import { klToStandardNormal } from '../math/gaussian.js';
import type { Rng } from '../random/rng.js';
import type { BatchModel, ReverseVariance } from '../samplers/types.js';
import { qSample } from './forward.js';
import type { Prediction } from './parameterization.js';
import type { NoiseSchedule } from './schedule.js';
import { type DataKind, vlbTermWithGradient } from './vlbTerm.js';

/** How the timesteps 1 … T−1 are cut into strata (see vlbStrata); absent: 'uniform'. */
export type StrataSpacing = 'uniform' | 'log';

/**
 * Options of {@link negativeElbo}: the parameterisation, the reverse variance, the data kind and which terms.
 */
export interface VlbOptions {
  prediction: Prediction;
  /**
   * σ_t² of p_θ(x_{t−1} | x_t): β̃_t or β_t (the fixed choices of [Ho20]), a log σ_t² per code timestep (the
   * exact reverse variance in analytic tests), or 'learned-range': the model's own per-element variances
   * ([ND21] eq. 15), the model returning 2·batch·dims values (all mean outputs, then all v).
   */
  variance:
    | ReverseVariance
    | 'learned-range'
    | {
        /** log σ_t² of p_θ(x_{t−1} | x_t) at code timestep t. */
        logVar: (t: number) => number;
      };
  /** 'discrete8bit': x0 are 8-bit values scaled to [−1, 1] (bin width 2/255); 'continuous': a density. */
  data: DataKind;
  /**
   * Which L_{t−1} terms to evaluate: 'all' (T − 1 model calls per batch) or K strata: the timesteps
   * 1..T−1 split into K blocks (equal, or log-spaced: vlbStrata), one uniform draw per block weighted by the
   * block's size (unbiased for the sum of all terms).
   */
  terms: 'all' | { strata: number; spacing?: StrataSpacing };
  /** Called after each evaluated term with (terms done, terms in all), for progress reports. */
  onTerm?: (done: number, total: number) => void;
}

/** The negative ELBO of each example and its terms, in nats ([Ho20] eq. 5). */
export interface VlbResult {
  /** Per example, in nats: the prior term L_T. */
  prior: Float64Array;
  /** Per example, in nats: the decoder term L_0. */
  decoder: Float64Array;
  /** Per evaluated code timestep t ≥ 1: per-example L (nats), and the weight it enters the sum with. */
  terms: Map<number, { nats: Float64Array; weight: number }>;
  /** Per example, in nats: prior + Σ weight·terms + decoder. */
  total: Float64Array;
}

/**
 * A fixed reverse-process log variance at code timestep t: β̃_t clipped at t = 0, or β_t with β̃_1 at t = 0
 * (improved-diffusion's FIXED_LARGE, after [Ho20]'s code), or the given function.
 */
function fixedReverseLogVar(
  schedule: NoiseSchedule,
  t: number,
  variance: ReverseVariance | { logVar: (t: number) => number },
): number {
  if (typeof variance === 'object') return variance.logVar(t);
  if (variance === 'posterior') return schedule.posteriorLogVarianceClipped[t];
  return t === 0
    ? (schedule.posteriorLogVarianceClipped[1] ?? Math.log(schedule.beta[0]))
    : Math.log(schedule.beta[t]);
}

/**
 * The K strata of the timesteps 1 … T−1 as [lo, hi) blocks. 'uniform': K blocks of (nearly) equal size. 'log':
 * block edges at T^{j/K}, rounded and kept strictly increasing, so the first blocks are single timesteps —
 * evaluated exactly — and the blocks widen where the terms are small and vary slowly (the terms of a bound fall
 * by orders of magnitude over the first timesteps, so uniform blocks there carry most of the variance).
 */
export function vlbStrata(T: number, k: number, spacing: StrataSpacing): [lo: number, hi: number][] {
  if (!Number.isInteger(k) || k < 1 || k > T - 1)
    throw new Error(`strata must be an integer in [1, ${T - 1}], got ${k}`);
  const edges = [1];
  for (let j = 1; j <= k; j++) {
    const raw = spacing === 'log' ? Math.round(T ** (j / k)) : 1 + Math.floor((j * (T - 1)) / k);
    // Strictly increasing, and room left for the remaining k − j blocks of at least one timestep.
    edges.push(j === k ? T : Math.min(Math.max(raw, edges[j - 1] + 1), T - (k - j)));
  }
  return edges.slice(0, k).map((lo, j) => [lo, edges[j + 1]]);
}

/** Code timesteps whose L_{t−1} terms are evaluated, with weights (see VlbOptions.terms): one uniform draw per stratum, weighted by its size. */
export function vlbTimesteps(
  T: number,
  terms: VlbOptions['terms'],
  rng: Rng,
): { t: number; weight: number }[] {
  if (terms === 'all') return Array.from({ length: T - 1 }, (_, i) => ({ t: i + 1, weight: 1 }));
  return vlbStrata(T, terms.strata, terms.spacing ?? 'uniform').map(([lo, hi]) => ({
    t: lo + rng.int(hi - lo),
    weight: hi - lo,
  }));
}

/**
 * The negative ELBO of each example of a batch (x0 flattened [batch·dims]), in nats, with its terms.
 * @see [Ho20] eq. 5; [ND21] eq. 4–5
 */
export function negativeElbo(
  schedule: NoiseSchedule,
  model: BatchModel,
  x0: Float64Array,
  batch: number,
  rng: Rng,
  options: VlbOptions,
): VlbResult {
  const dims = x0.length / batch;
  if (!Number.isInteger(dims))
    throw new Error(`negativeElbo: ${x0.length} values do not split into ${batch} examples`);
  const T = schedule.T;
  const slice = (a: Float64Array, b: number) => a.subarray(b * dims, (b + 1) * dims);
  // Prior term: q(x_T | x0) = N(√ᾱ_T x0, (1 − ᾱ_T) I).
  const prior = new Float64Array(batch);
  const logVarT = Math.log(schedule.oneMinusAlphaBar[T - 1]);
  for (let b = 0; b < batch; b++) {
    const mean = slice(x0, b).map((v) => schedule.sqrtAlphaBar[T - 1] * v);
    prior[b] = klToStandardNormal(mean, logVarT);
  }
  const noisy = (t: number) => {
    const xt = new Float64Array(x0.length);
    const eps = rng.fillNormal(new Float64Array(x0.length));
    for (let b = 0; b < batch; b++) qSample(schedule, slice(x0, b), t, slice(eps, b), slice(xt, b));
    return xt;
  };
  /** L at code timestep t (L_{t−1} for t ≥ 1, the decoder term for t = 0) per example, in nats. */
  const termAt = (t: number): Float64Array => {
    const xt = noisy(t);
    return negativeElboTerm(schedule, model(xt, t), x0, xt, t, batch, options);
  };
  const terms = new Map<number, { nats: Float64Array; weight: number }>();
  const steps = vlbTimesteps(T, options.terms, rng);
  steps.forEach(({ t, weight }, i) => {
    terms.set(t, { nats: termAt(t), weight });
    options.onTerm?.(i + 1, steps.length + 1);
  });
  // Decoder term at code t = 0: −log p(x0 | x_1).
  const decoder = termAt(0);
  options.onTerm?.(steps.length + 1, steps.length + 1);
  const total = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    let s = prior[b] + decoder[b];
    for (const { nats, weight } of terms.values()) s += weight * nats[b];
    total[b] = s;
  }
  return { prior, decoder, terms, total };
}

/**
 * One term of the bound for each example of a batch at code timestep t, given x_t (deterministic: no draws), in
 * nats: L_{t−1} = KL(q(x_{t−1} | x_t, x0) ‖ p_θ(x_{t−1} | x_t)) for t ≥ 1, the decoder term −log p_θ(x0 | x_1) at
 * t = 0. `out` is the model's output at (x_t, t): batch·dims values, or 2·batch·dims with learned variances
 * (all means, then all v). improved-diffusion's `_vb_terms_bpd` (with clip_denoised=False), in nats summed over
 * each example's elements instead of bits per dimension.
 * @see [Ho20] eqs. 5, 13; [ND21] §3.1, eq. 15
 */
export function negativeElboTerm(
  schedule: NoiseSchedule,
  out: ArrayLike<number>,
  x0: Float64Array,
  xt: Float64Array,
  t: number,
  batch: number,
  options: Pick<VlbOptions, 'prediction' | 'variance' | 'data'>,
): Float64Array {
  const n = x0.length;
  const dims = n / batch;
  if (!Number.isInteger(dims) || xt.length !== n)
    throw new Error(`negativeElboTerm: x0 (${n}) and x_t (${xt.length}) must be ${batch} whole examples`);
  const learned = options.variance === 'learned-range';
  if (out.length !== (learned ? 2 * n : n))
    throw new Error(
      `negativeElbo: the model returned ${out.length} values for ${n} inputs` +
        (learned ? ' (learned variances: twice as many, the means then v)' : ''),
    );
  const fixed =
    options.variance === 'learned-range'
      ? null
      : { logVar: fixedReverseLogVar(schedule, t, options.variance) };
  const values = out instanceof Float64Array ? out : Float64Array.from(out);
  const slice = (a: Float64Array, b: number) => a.subarray(b * dims, (b + 1) * dims);
  const nats = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    const range = (offset: number) => values.subarray(offset + b * dims, offset + (b + 1) * dims);
    nats[b] = vlbTermWithGradient(schedule, options.prediction, options.data, {
      t,
      x0: slice(x0, b),
      xt: slice(xt, b),
      meanOut: range(0),
      variance: fixed ?? range(n),
    });
  }
  return nats;
}

/** The bound over a data set: its mean per example with a standard error, and the mean of each part (nats). */
export interface NegativeElboEstimate {
  mean: number;
  se: number;
  prior: number;
  decoder: number;
  /** Per evaluated code timestep t ≥ 1: the mean L_{t−1} over the examples it was evaluated on. */
  perT: Map<number, number>;
}

/** Batches (replicates) a stratified estimate is split into at least, for its standard error's sake. */
export const MIN_STRATIFIED_BATCHES = 16;

/**
 * How many batches `estimateNegativeElbo` should split n examples into: batches of at most 64; with stratified
 * terms at least MIN_STRATIFIED_BATCHES (or n), since the standard error then comes from the spread between
 * batches, and a spread of 2 or 3 batch means is itself too noisy to report.
 */
export function nllBatches(n: number, terms: VlbOptions['terms']): number {
  return Math.max(Math.ceil(n / 64), terms === 'all' ? 1 : Math.min(MIN_STRATIFIED_BATCHES, n));
}

/** A strata spacing from a string ('log' or 'uniform'), for command lines; throws naming the value otherwise. */
export function parseStrataSpacing(s: string): StrataSpacing {
  if (s !== 'log' && s !== 'uniform') throw new Error(`--nll-spacing must be log or uniform; got "${s}"`);
  return s;
}

/**
 * The negative ELBO of n examples (x0 flattened [n·dims]) in `batches` batches whose sizes differ by at most one:
 * the mean over the examples (unbiased for the full chain's expectation with stratified terms too), its standard
 * error, and its parts. With every term ('all') the examples' totals are independent and the standard error is
 * theirs. With stratified timesteps, all examples of a batch share the batch's timestep draws, so their totals
 * are correlated: the batches are the independent replicates, and the standard error is the spread of the batch
 * means over √batches (NaN for one batch; equal sizes up to one example make the batch means exchangeable).
 * @see [Ho20] eq. 5; [ND21] §3.3 (the bound over timesteps as an expectation)
 */
export function estimateNegativeElbo(
  schedule: NoiseSchedule,
  model: BatchModel,
  x0: Float64Array,
  n: number,
  batches: number,
  rng: Rng,
  options: VlbOptions & { onBatch?: (done: number, total: number) => void },
): NegativeElboEstimate {
  const dims = x0.length / n;
  if (!Number.isInteger(dims) || !(Number.isInteger(batches) && batches >= 1 && batches <= n))
    throw new Error(
      `estimateNegativeElbo: ${x0.length} values, ${n} examples, ${batches} batches do not fit`,
    );
  const start = (b: number) => Math.round((b * n) / batches);
  const totals: number[] = [];
  const batchMeans: number[] = [];
  const perT = new Map<number, { sum: number; count: number }>();
  let prior = 0;
  let decoder = 0;
  const sum = (a: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i];
    return s;
  };
  for (let b = 0; b < batches; b++) {
    const size = start(b + 1) - start(b);
    const r = negativeElbo(
      schedule,
      model,
      x0.subarray(start(b) * dims, start(b + 1) * dims),
      size,
      rng,
      options,
    );
    totals.push(...r.total);
    batchMeans.push(sum(r.total) / size);
    prior += sum(r.prior);
    decoder += sum(r.decoder);
    for (const [t, { nats }] of r.terms) {
      const e = perT.get(t) ?? { sum: 0, count: 0 };
      perT.set(t, { sum: e.sum + sum(nats), count: e.count + size });
    }
    options.onBatch?.(b + 1, batches);
  }
  const standardError = (xs: number[]) => {
    const m = xs.reduce((a, v) => a + v, 0) / xs.length;
    const v = xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1);
    return Math.sqrt(v / xs.length);
  };
  return {
    mean: sum(totals) / n,
    se:
      options.terms === 'all' ? standardError(totals) : batches < 2 ? Number.NaN : standardError(batchMeans),
    prior: prior / n,
    decoder: decoder / n,
    perT: new Map([...perT].map(([t, e]) => [t, e.sum / e.count])),
  };
}
