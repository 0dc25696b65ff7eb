/**
 * UniPC ([Zhao23]): a multistep predictor UniP-p and a corrector UniC that reuses the network call the next step
 * makes anyway, so the update is of order p + 1 at one network call per step. In data prediction with
 * B(h) = e^h − 1 ("bh2"), writing hh = −h (h = λ_t − λ_s) and m_j the data predictions:
 *   x_t = (σ_t/σ_s) x_s − α_t (e^{hh} − 1) m0 − α_t B(h) Σ_k ρ_k D_k,   D_k = (m_k − m0)/r_k, r_k = (λ_{s_k} − λ_s)/h,
 * with ρ solving R ρ = b, R_{ik} = r_k^i, b_i = i!·φ_{i+1}(hh)/B(h) (φ from the recursion of [Zhao23] eq. 13).
 * The predictor of order 2 takes ρ = ½ (as diffusers); the corrector of order 1 too. The corrector of step i
 * replaces x_{t_i} using m at x_{t_i} before the predictor leaves it. Deterministic: no random generator.
 *
 * [Zhao23] Zhao, Bai, Rao, Zhou, Lu 2023, "UniPC", arXiv:2302.04867v4, Algorithms 1–3 and Appendix · diffusers
 * `UniPCMultistepScheduler` (`multistep_uni_p_bh_update`, `multistep_uni_c_bh_update`, `step`; commit 58eb52c0)
 */
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { denoise } from './dataPrediction.js';
import { CLEAN, noiseLevel, type NoiseLevel } from './timesteps.js';
import type { BatchModel, ChainOptions, SamplerHooks, UniPcConfig } from './types.js';

/** Solves the small dense system A y = b by Gaussian elimination with partial pivoting (A is k×k, row-major). */
export function solveSmall(A: readonly (readonly number[])[], b: readonly number[]): number[] {
  const k = b.length;
  const M = A.map((row, i) => [...row.slice(0, k), b[i]]);
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    if (M[c][c] === 0) throw new Error('solveSmall: singular matrix');
    for (let r = c + 1; r < k; r++) {
      const f = M[r][c] / M[c][c];
      for (let j = c; j <= k; j++) M[r][j] -= f * M[c][j];
    }
  }
  const y = new Array<number>(k).fill(0);
  for (let r = k - 1; r >= 0; r--) {
    let s = M[r][k];
    for (let j = r + 1; j < k; j++) s -= M[r][j] * y[j];
    y[r] = s / M[r][r];
  }
  return y;
}

/**
 * The UniPC coefficients of one update of order p from level s0 to `target`: R (p×p, R_{ik} = r_k^i with
 * r_{p−1} = 1), b, h·φ₁ = e^{hh} − 1 and B(h), for the given r_1 … r_{p−1} of the older points.
 * @see [Zhao23] Algorithm 2 (B(h) = e^h − 1); diffusers `multistep_uni_p_bh_update`
 */
export function uniPcCoefficients(
  rks: readonly number[],
  h: number,
): { R: number[][]; b: number[]; hPhi1: number; Bh: number } {
  const order = rks.length + 1;
  const r = [...rks, 1];
  const hh = -h; // data prediction
  const hPhi1 = Math.expm1(hh);
  const Bh = Math.expm1(hh);
  let hPhiK = hPhi1 / hh - 1;
  let factorial = 1;
  const R: number[][] = [];
  const b: number[] = [];
  for (let i = 1; i <= order; i++) {
    R.push(r.map((rk) => rk ** (i - 1)));
    b.push((hPhiK * factorial) / Bh);
    factorial *= i + 1;
    hPhiK = hPhiK / hh - 1 / factorial;
  }
  return { R, b, hPhi1, Bh };
}

/**
 * x_t = (σ_t/σ_s) x − α_t hφ₁ m0 − α_t B(h) Σ_k ρ_k D_k (+ ρ_last (m_t − m0) for the corrector), the shared form
 * of UniP and UniC. `older[k]` = (data prediction, level) of the k-th older point, newest first.
 */
function uniPcCombine(
  x: Float64Array,
  m0: Float64Array,
  s0: NoiseLevel,
  target: NoiseLevel,
  older: readonly { m: Float64Array; level: NoiseLevel }[],
  mode: { kind: 'predict' } | { kind: 'correct'; mT: Float64Array },
): Float64Array {
  const h = target.lambda - s0.lambda;
  const rks = older.map((o) => (o.level.lambda - s0.lambda) / h);
  const { R, b, hPhi1, Bh } = uniPcCoefficients(rks, h);
  const p = rks.length + 1;
  let rho: number[];
  if (mode.kind === 'predict') {
    // UniP-p uses p − 1 older points: ρ of size p − 1 (none at p = 1; ½ at p = 2, as diffusers).
    rho =
      p === 1
        ? []
        : p === 2
          ? [0.5]
          : solveSmall(
              R.slice(0, -1).map((row) => row.slice(0, -1)),
              b.slice(0, -1),
            );
  } else {
    // UniC-p uses the p − 1 older points and the new m_t: ρ of size p (½ at p = 1, as diffusers).
    rho = p === 1 ? [0.5] : solveSmall(R, b);
  }
  const cx = target.sigma / s0.sigma;
  const c0 = -target.alpha * hPhi1;
  const cb = -target.alpha * Bh;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let res = 0;
    for (let k = 0; k < older.length; k++) res += (rho[k] * (older[k].m[i] - m0[i])) / rks[k];
    if (mode.kind === 'correct') res += rho[p - 1] * (mode.mT[i] - m0[i]);
    out[i] = cx * x[i] + c0 * m0[i] + cb * res;
  }
  return out;
}

/**
 * UniPC of predictor order 1–3 from x_T over the given timesteps (descending), ending at σ = 0. The step order
 * warms up as the history fills; with `lowerOrderFinal` (default) step i of n has order ≤ n − i, as diffusers.
 * DEVIATION: the last step (to σ = 0) is first order even without `lowerOrderFinal`; diffusers would divide by
 * r_k = 0 there (h = ∞) and return NaN.
 */
export function sampleUniPc(
  schedule: NoiseSchedule,
  model: BatchModel,
  xT: Float64Array,
  config: ChainOptions & Pick<UniPcConfig, 'order' | 'lowerOrderFinal'>,
  hooks: SamplerHooks = {},
): Float64Array {
  const ts = config.timesteps;
  const n = ts.length;
  const lowerOrderFinal = config.lowerOrderFinal ?? true;
  const history: { m: Float64Array; level: NoiseLevel }[] = []; // newest first
  let x: Float64Array = xT.slice();
  let lastSample: Float64Array | null = null;
  let lastOrder = 0;
  for (let i = 0; i < n; i++) {
    const t = ts[i];
    const level = noiseLevel(schedule, t);
    const m = denoise(schedule, config.prediction, x, t, model(x, t), config.clip);
    hooks.recordDenoised?.(t, m);
    if (lastSample) {
      // UniC: correct x_{t_i} with the new data prediction (no extra network call).
      const [prev, ...older] = history.slice(0, lastOrder);
      x = uniPcCombine(lastSample, prev.m, prev.level, level, older, { kind: 'correct', mT: m });
      hooks.record?.(t, x);
    }
    history.unshift({ m, level });
    history.length = Math.min(history.length, config.order);
    let order = lowerOrderFinal ? Math.min(config.order, n - i) : config.order;
    order = Math.min(order, i + 1, history.length);
    if (i === n - 1) order = 1;
    lastSample = x;
    lastOrder = order;
    const next = i + 1 < n ? ts[i + 1] : CLEAN;
    const [cur, ...older] = history.slice(0, order);
    x = uniPcCombine(x, cur.m, cur.level, noiseLevel(schedule, next), older, { kind: 'predict' });
    if (next === CLEAN) hooks.record?.(CLEAN, x);
    hooks.onStep?.(i + 1, n);
  }
  return x;
}
