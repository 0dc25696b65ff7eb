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
 * SDE-DPM-Solver++ (`sde: true`; diffusers' `algorithm_type="sde-dpmsolver++"`, added by DPM-Solver's author in
 * diffusers PR 3344) solves the reverse diffusion SDE instead of the ODE. Its exact solution in data prediction is
 *   x_t = (σ_t/σ_s) e^{−h} x_s + α_t ∫ 2 e^{−2(λ_t − λ)} x̂0_θ dλ + σ_t √(1 − e^{−2h}) z,
 * so the x̂0 integral has the ODE's form with h replaced by 2h (the same ratios r_j), x_s is damped by e^{−h}
 * more, and fresh noise enters: order 1 is DDIM with η = 1 exactly (1 − e^{−2h} = σ_DDIM²/σ_t², tested).
 * At order 3 the D2 coefficient at 2h is α_t(½ − (e^{−2h} − 1 + 2h)/(2h)²) → 0 as h → 0; diffusers' (its third-order
 * SDE branch, added later by another contributor) has −½ in place of +½ and so subtracts α_t·D2 more: elbo does
 * not follow it there (test/diffusersSamplers.test.ts checks that this is the only difference).
 *
 * [Lu22a] Lu et al. 2022, DPM-Solver, arXiv:2206.00927v3 · [Lu22b] Lu et al. 2022, DPM-Solver++,
 * arXiv:2211.01095v2, Algorithm 2 and Appendix B · diffusers `DPMSolverMultistepScheduler` (the
 * `dpm_solver_first_order_update` and `multistep_dpm_solver_{second,third}_order_update` formulas for
 * `dpmsolver++` and `sde-dpmsolver++`, and `step`'s order logic; commit 58eb52c0)
 */
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { Rng } from '../random/rng.js';
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
 * the file header); without it the order-3 update is diffusers'. With `noise` (standard normal, one value per
 * element) the update is SDE-DPM-Solver++'s: the data terms at 2h, x_s damped by e^{−h}, σ_t √(1 − e^{−2h}) z
 * added.
 * @see [Lu22b] Algorithm 2 (orders 1, 2) and Appendix B (order 3); diffusers
 *   `multistep_dpm_solver_third_order_update` and its `sde-dpmsolver++` branches
 */
export function dpmSolverPlusPlusUpdate(
  x: Float64Array,
  history: readonly Float64Array[],
  levels: readonly NoiseLevel[],
  target: NoiseLevel,
  taylorThirdOrder = false,
  noise?: Float64Array,
): Float64Array {
  const order = history.length;
  const [s0, s1, s2] = levels;
  const [m0, m1, m2] = history;
  const h = target.lambda - s0.lambda;
  const H = noise ? 2 * h : h; // the step of the x̂0 integral: 2h for the SDE
  const emH1 = Math.expm1(-H); // e^{−H} − 1
  const cx = (target.sigma / s0.sigma) * (noise ? Math.exp(-h) : 1);
  const c0 = -target.alpha * emH1;
  const noiseScale = noise && target.sigma > 0 ? target.sigma * Math.sqrt(-Math.expm1(-2 * h)) : 0;
  const out = new Float64Array(x.length);
  if (order === 1) {
    for (let i = 0; i < x.length; i++) out[i] = cx * x[i] + c0 * m0[i];
  } else if (order === 2) {
    const r0 = (s0.lambda - s1.lambda) / h;
    const c1 = (0.5 * c0) / r0; // ½ α_t (1 − e^{−H}) · (m0 − m1)/r0
    for (let i = 0; i < x.length; i++) out[i] = cx * x[i] + c0 * m0[i] + c1 * (m0[i] - m1[i]);
  } else {
    const r0 = (s0.lambda - s1.lambda) / h;
    const r1 = (s1.lambda - s2.lambda) / h;
    const k1 = target.alpha * (emH1 / H + 1);
    const k2 = -target.alpha * ((emH1 + H) / (H * H) - 0.5);
    for (let i = 0; i < x.length; i++) {
      const d10 = (m0[i] - m1[i]) / r0;
      const d11 = (m1[i] - m2[i]) / r1;
      const d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
      const d2 = ((taylorThirdOrder ? 2 : 1) * (d10 - d11)) / (r0 + r1);
      out[i] = cx * x[i] + c0 * m0[i] + k1 * d1 + k2 * d2;
    }
  }
  if (noiseScale > 0) for (let i = 0; i < x.length; i++) out[i] += noiseScale * noise![i];
  return out;
}

/**
 * DPM-Solver++ (orders 1–3, multistep) from x_T over the given timesteps (descending), ending at σ = 0. The SDE
 * variant (`sde`) draws one standard normal per element and step from `rng` (none on the last step, which ends
 * at σ = 0), in the order DDIM does.
 */
export function sampleDpmSolverPlusPlus(
  schedule: NoiseSchedule,
  model: BatchModel,
  xT: Float64Array,
  config: ChainOptions &
    Pick<DpmSolverPlusPlusConfig, 'order' | 'lowerOrderFinal' | 'taylorThirdOrder' | 'sde'>,
  rng: Rng | null,
  hooks: SamplerHooks = {},
): Float64Array {
  if (config.sde && !rng) throw new Error('SDE-DPM-Solver++ adds noise: it needs a random generator');
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
    let noise: Float64Array | undefined;
    if (config.sde && next !== CLEAN) {
      noise = new Float64Array(x.length); // one normal per element, drawn in DDIM's order
      for (let j = 0; j < noise.length; j++) noise[j] = rng!.normal();
    }
    x = dpmSolverPlusPlusUpdate(
      x,
      history.slice(0, order),
      levels.slice(0, order),
      noiseLevel(schedule, next),
      config.taylorThirdOrder,
      noise,
    );
    hooks.record?.(next, x);
    hooks.onStep?.(i + 1, n);
  }
  return x;
}

/**
 * The orders of DPM-Solver++(2S) step by step, as diffusers' `DPMSolverSinglestepScheduler.get_order_list` with
 * `lower_order_final` and `final_sigmas_type="zero"`: pairs (1, 2) — a first-order step to an intermediate
 * timestep, then a second-order step over both from the pair's start — and first-order steps at the end
 * ([1, 2, …, 1, 1] for an even count, [1, 2, …, 1] for an odd one).
 */
export function singlestepOrders(steps: number): number[] {
  const pairs = steps % 2 === 0 ? steps / 2 - 1 : (steps - 1) / 2;
  const orders = Array.from({ length: 2 * pairs }, (_, i) => (i % 2 === 0 ? 1 : 2));
  while (orders.length < steps) orders.push(1);
  return orders;
}

/**
 * One DPM-Solver++(2S) step from `start` (state `xStart`, data prediction `mStart`) over the intermediate level
 * `mid` (prediction `mMid`) to `target`: h = λ_t − λ_start, r = (λ_mid − λ_start)/h, D1 = (mMid − mStart)/r,
 *   x_t = (σ_t/σ_start) x_start − α_t (e^{−h} − 1) mStart − ½ α_t (e^{−h} − 1) D1.
 * @see [Lu22b] Algorithm 1 (DPM-Solver++(2S)) with diffusers' midpoint form
 *   (`DPMSolverSinglestepScheduler.singlestep_dpm_solver_second_order_update`)
 */
export function dpmSolverPlusPlusSinglestepUpdate(
  xStart: Float64Array,
  mStart: Float64Array,
  mMid: Float64Array,
  start: NoiseLevel,
  mid: NoiseLevel,
  target: NoiseLevel,
): Float64Array {
  const h = target.lambda - start.lambda;
  const r = (mid.lambda - start.lambda) / h;
  const emh1 = Math.expm1(-h);
  const cx = target.sigma / start.sigma;
  const c0 = -target.alpha * emh1;
  const c1 = (0.5 * c0) / r;
  const out = new Float64Array(xStart.length);
  for (let i = 0; i < out.length; i++) out[i] = cx * xStart[i] + c0 * mStart[i] + c1 * (mMid[i] - mStart[i]);
  return out;
}

/**
 * DPM-Solver++(2S) from x_T over the given timesteps (descending), ending at σ = 0: one network call per
 * timestep, the orders of {@link singlestepOrders}. Deterministic.
 */
export function sampleDpmSolverPlusPlusSinglestep(
  schedule: NoiseSchedule,
  model: BatchModel,
  xT: Float64Array,
  config: ChainOptions,
  hooks: SamplerHooks = {},
): Float64Array {
  const ts = config.timesteps;
  const orders = singlestepOrders(ts.length);
  let x: Float64Array = xT.slice();
  let xStart = x;
  let mStart: Float64Array | null = null;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    const m = denoise(schedule, config.prediction, x, t, model(x, t), config.clip);
    hooks.recordDenoised?.(t, m);
    const next = i + 1 < ts.length ? ts[i + 1] : CLEAN;
    if (orders[i] === 1) {
      xStart = x;
      mStart = m;
      x = dpmSolverPlusPlusUpdate(x, [m], [noiseLevel(schedule, t)], noiseLevel(schedule, next));
    } else {
      const start = noiseLevel(schedule, ts[i - 1]);
      x = dpmSolverPlusPlusSinglestepUpdate(
        xStart,
        mStart!,
        m,
        start,
        noiseLevel(schedule, t),
        noiseLevel(schedule, next),
      );
    }
    hooks.record?.(next, x);
    hooks.onStep?.(i + 1, ts.length);
  }
  return x;
}
