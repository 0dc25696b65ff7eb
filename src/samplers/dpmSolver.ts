/**
 * DPM-Solver++ multistep ([Lu22b] Algorithm 2) in data prediction: the probability-flow ODE written in
 * λ_t = log(α_t/σ_t), with the linear part solved exactly and x̂0_θ(x_λ, λ) extrapolated from the last one, two
 * or three network calls. With h_i = λ_{t_i} − λ_{t_{i−1}} and m_j the data predictions:
 *   order 1:  x_t = (σ_t/σ_s) x_s − α_t (e^{−h} − 1) m0                                   (= DDIM, η = 0)
 *   order 2:  … − ½ α_t (e^{−h} − 1) D1,  D1 = (m0 − m1)/r0,  r0 = h_0/h                 ("midpoint" variant)
 *   order 3:  x_t = (σ_t/σ_s) x_s − α_t (e^{−h} − 1) m0 + α_t ((e^{−h} − 1)/h + 1) D1
 *             − α_t ((e^{−h} − 1 + h)/h² − ½) D2
 * D1 = D1_0 + r0/(r0 + r1)·(D1_0 − D1_1) and D2 = (D1_0 − D1_1)/(r0 + r1), D1_j the differences of m over r_j.
 * NOTE: Taylor-expanding m in λ gives D1 = h m′ + O(h³) but D2 = ½ h² m″, while the φ₃ coefficient needs h² m″:
 * the order-3 formula of diffusers (and of the DPM-Solver reference code) has local error O(h³), the order of
 * 2M (measured in convergence.test.ts: local slopes 3.1 and 3.0 against 4.0 with D2 doubled). elbo keeps
 * diffusers' formula by default, for step-for-step agreement, and offers the doubled D2 as `taylorThirdOrder`.
 * The last step goes to σ = 0 (λ = ∞) and is first order — it returns m0, the data prediction — as diffusers'
 * `final_sigmas_type="zero"`; with fewer than 15 steps and `lowerOrderFinal`, the one before it is at most
 * second order. Deterministic: no random generator.
 *
 * [Lu22a] Lu et al. 2022, DPM-Solver, arXiv:2206.00927v3 · [Lu22b] Lu et al. 2022, DPM-Solver++,
 * arXiv:2211.01095v2, Algorithm 2 and Appendix B · diffusers `DPMSolverMultistepScheduler` (the
 * `multistep_dpm_solver_{second,third}_order_update` formulas and `step`'s order logic; commit 58eb52c0)
 */
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { denoise } from './dataPrediction.js';
import { CLEAN, noiseLevel, type NoiseLevel } from './timesteps.js';
import type { BatchModel, ChainOptions, DpmSolverPlusPlusConfig, SamplerHooks } from './types.js';

/**
 * The order diffusers' multistep `step` uses at step i of n: it warms up (order ≤ i + 1), the last step is first
 * order (it ends at σ = 0), and with `lowerOrderFinal` and n < 15 the second-to-last is at most second order.
 */
export function dpmSolverStepOrder(order: number, i: number, n: number, lowerOrderFinal: boolean): number {
  if (i === n - 1) return 1;
  const o = Math.min(order, i + 1);
  return i === n - 2 && lowerOrderFinal && n < 15 ? Math.min(o, 2) : o;
}

/**
 * One DPM-Solver++ update from s0 = `levels[0]` to `target`, of order `history.length` (1–3), with
 * `history[j]` the data prediction made at `levels[j]` (j = 0 the newest). `taylorThirdOrder` doubles D2 (see
 * the file header); without it the order-3 update is diffusers'.
 * @see [Lu22b] Algorithm 2 (orders 1, 2) and Appendix B (order 3); diffusers
 *   `multistep_dpm_solver_third_order_update`
 */
export function dpmSolverPlusPlusUpdate(
  x: Float64Array,
  history: readonly Float64Array[],
  levels: readonly NoiseLevel[],
  target: NoiseLevel,
  taylorThirdOrder = false,
): Float64Array {
  const order = history.length;
  const [s0, s1, s2] = levels;
  const [m0, m1, m2] = history;
  const h = target.lambda - s0.lambda;
  const emh1 = Math.expm1(-h); // e^{−h} − 1
  const cx = target.sigma / s0.sigma;
  const c0 = -target.alpha * emh1;
  const out = new Float64Array(x.length);
  if (order === 1) {
    for (let i = 0; i < x.length; i++) out[i] = cx * x[i] + c0 * m0[i];
    return out;
  }
  const r0 = (s0.lambda - s1.lambda) / h;
  if (order === 2) {
    const c1 = (-0.5 * target.alpha * emh1) / r0; // −½ α_t (e^{−h} − 1) · (m0 − m1)/r0
    for (let i = 0; i < x.length; i++) out[i] = cx * x[i] + c0 * m0[i] + c1 * (m0[i] - m1[i]);
    return out;
  }
  const r1 = (s1.lambda - s2.lambda) / h;
  const k1 = target.alpha * (emh1 / h + 1);
  const k2 = -target.alpha * ((emh1 + h) / (h * h) - 0.5);
  for (let i = 0; i < x.length; i++) {
    const d10 = (m0[i] - m1[i]) / r0;
    const d11 = (m1[i] - m2[i]) / r1;
    const d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
    const d2 = ((taylorThirdOrder ? 2 : 1) * (d10 - d11)) / (r0 + r1);
    out[i] = cx * x[i] + c0 * m0[i] + k1 * d1 + k2 * d2;
  }
  return out;
}

/** DPM-Solver++ (orders 1–3, multistep) from x_T over the given timesteps (descending), ending at σ = 0. */
export function sampleDpmSolverPlusPlus(
  schedule: NoiseSchedule,
  model: BatchModel,
  xT: Float64Array,
  config: ChainOptions & Pick<DpmSolverPlusPlusConfig, 'order' | 'lowerOrderFinal' | 'taylorThirdOrder'>,
  hooks: SamplerHooks = {},
): Float64Array {
  const ts = config.timesteps;
  const n = ts.length;
  const history: Float64Array[] = []; // newest first
  const levels: NoiseLevel[] = [];
  let x: Float64Array = xT.slice();
  for (let i = 0; i < n; i++) {
    const t = ts[i];
    const m = denoise(schedule, config.prediction, x, t, model(x, t), config.clip);
    hooks.recordDenoised?.(t, m);
    history.unshift(m);
    levels.unshift(noiseLevel(schedule, t));
    history.length = Math.min(history.length, config.order);
    levels.length = history.length;
    const order = dpmSolverStepOrder(config.order, i, n, config.lowerOrderFinal ?? true);
    const next = i + 1 < n ? ts[i + 1] : CLEAN;
    x = dpmSolverPlusPlusUpdate(
      x,
      history.slice(0, order),
      levels.slice(0, order),
      noiseLevel(schedule, next),
      config.taylorThirdOrder,
    );
    hooks.record?.(next, x);
    hooks.onStep?.(i + 1, n);
  }
  return x;
}
