/**
 * Importance sampling of timesteps for L_vlb ([ND21] §3.3): the terms L_t of the bound differ by orders of
 * magnitude across t, so drawing t uniformly makes the single-sample estimate T·L_t very noisy. Instead
 *
 *   p_t ∝ √E[L_t²],   L_vlb = E_{t∼p}[L_t / p_t]                                      [ND21] eq. 18
 *
 * with E[L_t²] the mean of the last 10 values of L_t seen in training; until every t has 10, t is uniform.
 * As improved-diffusion's `LossSecondMomentResampler`, a small uniform share (0.001) is mixed in so no p_t is 0.
 * The state is plain JSON (numbers are float64, which JSON round-trips exactly), so it is saved in checkpoints
 * and a resumed run draws the same timesteps.
 *
 * [ND21] Nichol & Dhariwal 2021, arXiv:2102.09672v1; code: improved-diffusion resample.py
 */
import type { Rng } from '../random/rng.js';

/** Values of L_t kept per timestep. */
export const IMPORTANCE_HISTORY = 10;
/** Share of the uniform distribution mixed into p_t (improved-diffusion's `uniform_prob`). */
export const IMPORTANCE_UNIFORM_SHARE = 0.001;

/** The sampler's state: per timestep, the last values of L_t (oldest first, at most IMPORTANCE_HISTORY). */
export interface ImportanceSamplerState {
  history: number[][];
}

/** The importance sampler before any term is recorded: an empty history per timestep (t uniform until full). */
export function initialImportanceState(T: number): ImportanceSamplerState {
  return { history: Array.from({ length: T }, () => []) };
}

/** Checks a state read from a checkpoint against T (throws naming what is wrong). */
export function validateImportanceState(state: unknown, T: number): ImportanceSamplerState {
  const s = state as ImportanceSamplerState | null;
  if (!s || !Array.isArray(s.history) || s.history.length !== T)
    throw new Error(`the importance sampler's state must hold a history for each of the ${T} timesteps`);
  for (const h of s.history) {
    if (!Array.isArray(h) || h.length > IMPORTANCE_HISTORY || !h.every((x) => Number.isFinite(x)))
      throw new Error(`each timestep's history must be at most ${IMPORTANCE_HISTORY} finite numbers`);
  }
  return s;
}

/**
 * The sampling distribution p over timesteps: uniform until every history is full, then
 * p_t = (1 − u)·√mean(L_t²)/Σ_s √mean(L_s²) + u/T with u = IMPORTANCE_UNIFORM_SHARE.
 * @see [ND21] §3.3, eq. 18; improved-diffusion resample.py `LossSecondMomentResampler.weights`
 */
export function importanceProbabilities(state: ImportanceSamplerState): Float64Array {
  const T = state.history.length;
  const p = new Float64Array(T);
  if (!state.history.every((h) => h.length === IMPORTANCE_HISTORY)) return p.fill(1 / T);
  let sum = 0;
  for (let t = 0; t < T; t++) {
    const h = state.history[t];
    p[t] = Math.sqrt(h.reduce((s, x) => s + x * x, 0) / h.length);
    sum += p[t];
  }
  if (!(sum > 0)) return p.fill(1 / T);
  for (let t = 0; t < T; t++)
    p[t] = (1 - IMPORTANCE_UNIFORM_SHARE) * (p[t] / sum) + IMPORTANCE_UNIFORM_SHARE / T;
  return p;
}

/**
 * Draws `n` timesteps from p (inverse CDF, one uniform each) and their weights 1/(T·p_t), so that
 * E_{t∼p}[w_t·T·L_t] = Σ_t L_t: the same expectation as uniform t with weight 1.
 * @see [ND21] §3.3
 */
export function sampleImportanceTimesteps(
  p: Float64Array,
  n: number,
  rng: Rng,
): { t: Int32Array; weight: Float64Array } {
  const T = p.length;
  const cdf = new Float64Array(T);
  let acc = 0;
  for (let i = 0; i < T; i++) cdf[i] = acc += p[i];
  const t = new Int32Array(n);
  const weight = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    const u = rng.uniform() * acc;
    let lo = 0;
    let hi = T - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    t[b] = lo;
    weight[b] = 1 / (T * p[lo]);
  }
  return { t, weight };
}

/** Records the losses seen at timesteps t (drops the oldest once a history holds IMPORTANCE_HISTORY). */
export function updateImportanceState(
  state: ImportanceSamplerState,
  t: ArrayLike<number>,
  losses: ArrayLike<number>,
): void {
  for (let b = 0; b < t.length; b++) {
    const h = state.history[t[b]];
    h.push(losses[b]);
    if (h.length > IMPORTANCE_HISTORY) h.shift();
  }
}
