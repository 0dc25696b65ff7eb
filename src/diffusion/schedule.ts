/**
 * Noise schedules: the β table of the forward process and every quantity derived from it, computed
 * once in float64.
 *
 * References:
 * - [Ho20] Ho, Jain, Abbeel 2020, "Denoising Diffusion Probabilistic Models", arXiv:2006.11239v2
 * - [ND21] Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models",
 *   arXiv:2102.09672v1; code: openai/improved-diffusion, gaussian_diffusion.py
 * - [Chen23] T. Chen 2023, "On the Importance of Noise Scheduling for Diffusion Models",
 *   arXiv:2301.10972v4, Algorithm 1 (sigmoid schedule, after Jabri et al. 2022)
 * - [Lai25] Lai et al. 2025, "The Principles of Diffusion Models", arXiv:2510.21890 (seed 001's notation)
 *
 * Timesteps: code index t ∈ [0, T−1] is the paper's timestep t + 1, so `beta[0]` is [Ho20]'s β₁ and
 * `alphaBar[T−1]` is ᾱ_T.
 */

import { assertNever } from '../math/checks.js';

/**
 * The β schedules on offer. Against diffusers' `beta_schedule` names: 'linear' = "linear", 'cosine' (s = 0.008,
 * maxBeta = 0.999) = "squaredcos_cap_v2", 'scaledLinear' = "scaled_linear". elbo's 'sigmoid' is NOT diffusers'
 * "sigmoid": elbo's makes ᾱ a sigmoid of t ([Chen23] Algorithm 1), diffusers' makes β itself one
 * (β = σ(linspace(−6, 6, T))·(β_end − β_start) + β_start, GeoDiff's schedule); a diffusers "sigmoid" model is read
 * from its β table, not from this name.
 */
export type ScheduleName = 'linear' | 'cosine' | 'sigmoid' | 'scaledLinear';

/** Every {@link ScheduleName}, for validating strings from the command line or a config file. */
export const SCHEDULE_NAMES: readonly ScheduleName[] = ['linear', 'cosine', 'sigmoid', 'scaledLinear'];

/** True if `s` names a schedule. */
export function isScheduleName(s: string): s is ScheduleName {
  return (SCHEDULE_NAMES as readonly string[]).includes(s);
}

/** Options of the linear schedule ([Ho20] §4: β from 1e-4 to 0.02 over T = 1000). */
export interface LinearScheduleOptions {
  /** β of the first step (default 1e-4). */
  betaStart?: number;
  /** β of the last step (default 0.02). */
  betaEnd?: number;
  /**
   * Multiply betaStart and betaEnd by 1000/T, as improved-diffusion's `get_named_beta_schedule`
   * does, so that ᾱ_T stays near 4e-5 for any T (default false: [Ho20]'s numbers as given).
   */
  scaleWithT?: boolean;
}

/** Options of the cosine schedule ([ND21] eq. 17). */
export interface CosineScheduleOptions {
  /** Offset s that keeps β₁ from being tiny (default 0.008). */
  s?: number;
  /** Upper clip of β, avoiding the singularity at t = T (default 0.999). */
  maxBeta?: number;
}

/** Options of the sigmoid schedule ([Chen23] Algorithm 1). */
export interface SigmoidScheduleOptions {
  /** Left end of the sigmoid's input range (default −3). */
  start?: number;
  /** Right end of the sigmoid's input range (default 3). */
  end?: number;
  /** Temperature τ > 0 (default 1; smaller is sharper). */
  tau?: number;
  /** Upper clip of β (default 0.999; the last step would otherwise have β = 1). */
  maxBeta?: number;
}

/** Options of {@link betaSchedule}; only the ones of the named schedule are allowed. */
export type BetaScheduleOptions = LinearScheduleOptions & CosineScheduleOptions & SigmoidScheduleOptions;

const ALLOWED_OPTIONS: Record<ScheduleName, readonly string[]> = {
  linear: ['betaStart', 'betaEnd', 'scaleWithT'],
  cosine: ['s', 'maxBeta'],
  sigmoid: ['start', 'end', 'tau', 'maxBeta'],
  scaledLinear: ['betaStart', 'betaEnd'],
};

function checkOptions(name: ScheduleName, options: object): void {
  const allowed = ALLOWED_OPTIONS[name];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!allowed.includes(key)) {
      throw new Error(
        `option '${key}' does not apply to the '${name}' schedule; allowed: ${allowed.map((k) => `'${k}'`).join(', ')}`,
      );
    }
  }
}

function checkOpenUnit(what: string, x: number): void {
  if (!(x > 0 && x < 1)) throw new Error(`${what} must be in (0, 1), got ${x}`);
}

/**
 * The β table of length T for a named schedule. β_t ∈ (0, 1) is checked on the way out.
 *
 * - linear: β_t = betaStart + (betaEnd − betaStart)·t/(T − 1) ([Ho20] §4), times 1000/T if scaleWithT.
 * - cosine: ᾱ(t) = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s)·π/2), β_t = min(1 − ᾱ(t+1)/ᾱ(t), maxBeta) ([ND21] eq. 17).
 * - scaledLinear: β_t = (√betaStart + (√betaEnd − √betaStart)·t/(T − 1))² (diffusers' "scaled_linear", the
 *   latent-diffusion schedule; same defaults as linear).
 * - sigmoid: ᾱ(t) = γ(t/T), γ(τ) = (σ(end/τ₀) − σ((τ(end − start) + start)/τ₀))/(σ(end/τ₀) − σ(start/τ₀)),
 *   β_t = min(1 − ᾱ(t+1)/ᾱ(t), maxBeta) ([Chen23] Algorithm 1 with τ₀ = tau).
 * @see [Ho20] §4; [ND21] eq. 17; [Chen23] Algorithm 1
 */
export function betaSchedule(name: ScheduleName, T: number, options: BetaScheduleOptions = {}): Float64Array {
  if (!isScheduleName(name)) {
    throw new Error(
      `unknown schedule '${name}'; expected one of ${SCHEDULE_NAMES.map((n) => `'${n}'`).join(', ')}`,
    );
  }
  if (!Number.isInteger(T) || T < 1) throw new Error(`T must be an integer ≥ 1, got ${T}`);
  checkOptions(name, options);
  let beta: Float64Array;
  switch (name) {
    case 'linear':
      beta = linearBeta(T, options);
      break;
    case 'cosine':
      beta = cosineBeta(T, options);
      break;
    case 'sigmoid':
      beta = sigmoidBeta(T, options);
      break;
    case 'scaledLinear':
      beta = scaledLinearBeta(T, options);
      break;
    default:
      return assertNever(name, 'schedule name');
  }
  for (let t = 0; t < T; t++) {
    if (!(beta[t] > 0 && beta[t] < 1)) {
      throw new Error(
        `the '${name}' schedule with T = ${T} and options ${JSON.stringify(options)} gives beta[${t}] = ${beta[t]}; ` +
          'every β must be in (0, 1)',
      );
    }
  }
  return beta;
}

function linearBeta(T: number, o: LinearScheduleOptions): Float64Array {
  const scale = o.scaleWithT ? 1000 / T : 1;
  const start = (o.betaStart ?? 1e-4) * scale;
  const end = (o.betaEnd ?? 0.02) * scale;
  checkOpenUnit(`linear schedule: betaStart${o.scaleWithT ? '·1000/T' : ''}`, start);
  checkOpenUnit(`linear schedule: betaEnd${o.scaleWithT ? '·1000/T' : ''}`, end);
  const beta = new Float64Array(T);
  // numpy.linspace(start, end, T): start + (end − start)·t/(T − 1), last value exactly end.
  for (let t = 0; t < T; t++) beta[t] = T === 1 ? start : start + ((end - start) * t) / (T - 1);
  if (T > 1) beta[T - 1] = end;
  return beta;
}

/**
 * diffusers' "scaled_linear": β_t = linspace(√betaStart, √betaEnd, T)_t², in float64 (diffusers: float32).
 * @see huggingface/diffusers schedulers/scheduling_ddpm.py (DDPMScheduler.__init__, beta_schedule "scaled_linear")
 */
function scaledLinearBeta(T: number, o: LinearScheduleOptions): Float64Array {
  const start = o.betaStart ?? 1e-4;
  const end = o.betaEnd ?? 0.02;
  checkOpenUnit('scaled-linear schedule: betaStart', start);
  checkOpenUnit('scaled-linear schedule: betaEnd', end);
  const [a, b] = [Math.sqrt(start), Math.sqrt(end)];
  const beta = new Float64Array(T);
  for (let t = 0; t < T; t++) beta[t] = (T === 1 ? a : a + ((b - a) * t) / (T - 1)) ** 2;
  if (T > 1) beta[T - 1] = end;
  return beta;
}

function cosineBeta(T: number, o: CosineScheduleOptions): Float64Array {
  const s = o.s ?? 0.008;
  const maxBeta = o.maxBeta ?? 0.999;
  if (!(s >= 0 && Number.isFinite(s))) throw new Error(`cosine schedule: s must be finite and ≥ 0, got ${s}`);
  checkOpenUnit('cosine schedule: maxBeta', maxBeta);
  const beta = new Float64Array(T);
  // With θ(t) = (t/T + s)/(1 + s)·π/2, 1 − f(t+1)/f(t) = (cos²θ(t) − cos²θ(t+1))/cos²θ(t)
  // = sin(θ(t+1) + θ(t))·sin(θ(t+1) − θ(t))/cos²θ(t): the same β without the cancellation of 1 − ratio.
  const dTheta = Math.PI / 2 / (T * (1 + s));
  const sinD = Math.sin(dTheta);
  for (let t = 0; t < T; t++) {
    const theta = ((t / T + s) / (1 + s)) * (Math.PI / 2);
    const sumTheta = (((2 * t + 1) / T + 2 * s) / (1 + s)) * (Math.PI / 2);
    const c = Math.cos(theta);
    // Clipped at maxBeta as [ND21] §3.2 prescribes: unclipped, β_{T−1} = 1 because f(T) = cos²(π/2) = 0.
    beta[t] = Math.min((Math.sin(sumTheta) * sinD) / (c * c), maxBeta);
  }
  return beta;
}

function sigmoidBeta(T: number, o: SigmoidScheduleOptions): Float64Array {
  const start = o.start ?? -3;
  const end = o.end ?? 3;
  const tau = o.tau ?? 1;
  const maxBeta = o.maxBeta ?? 0.999;
  if (!(Number.isFinite(start) && Number.isFinite(end) && start < end)) {
    throw new Error(`sigmoid schedule: need finite start < end, got start = ${start}, end = ${end}`);
  }
  if (!(tau > 0 && Number.isFinite(tau))) throw new Error(`sigmoid schedule: tau must be > 0, got ${tau}`);
  checkOpenUnit('sigmoid schedule: maxBeta', maxBeta);
  // DEVIATION: [Chen23] defines the continuous ᾱ(τ) = γ(τ) for τ ∈ [0, 1] (and clips γ ≥ 1e-9); we
  // discretize like [ND21]'s cosine schedule: ᾱ_t = γ((t+1)/T), β_t = 1 − γ((t+1)/T)/γ(t/T), clipped at maxBeta.
  // With z(τ) = (τ(end − start) + start)/tau, e = end/tau and σ(a) − σ(b) = ½ sinh((a − b)/2)/(cosh(a/2) cosh(b/2)):
  // β_t = (σ(z_{t+1}) − σ(z_t))/(σ(e) − σ(z_t)) = sinh(Δ/2)·cosh(e/2)/(cosh(z_{t+1}/2)·sinh((e − z_t)/2)),
  // Δ = z_{t+1} − z_t = (end − start)/(T·tau); no difference of nearly equal numbers is formed.
  const e = end / tau;
  const halfDelta = (end - start) / (2 * T * tau);
  const beta = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const zNext = (((t + 1) / T) * (end - start) + start) / tau;
    const eMinusZ = ((end - start) * (T - t)) / (T * tau);
    const b = (Math.sinh(halfDelta) * Math.cosh(e / 2)) / (Math.cosh(zNext / 2) * Math.sinh(eMinusZ / 2));
    beta[t] = Math.min(b, maxBeta);
  }
  return beta;
}

/**
 * Everything the forward process, the posterior and the losses need, as Float64Arrays of length T
 * indexed by the 0-based timestep t. Built by {@link makeNoiseSchedule}; treat as read-only.
 */
export interface NoiseSchedule {
  /** Number of diffusion steps. */
  readonly T: number;
  /** β_t: variance of the step q(x_t | x_{t−1}). */
  readonly beta: Float64Array;
  /** α_t = 1 − β_t. */
  readonly alpha: Float64Array;
  /** ᾱ_t = Π_{s ≤ t} α_s (cumulative product). */
  readonly alphaBar: Float64Array;
  /** ᾱ_{t−1}, with ᾱ_{−1} = 1. */
  readonly alphaBarPrev: Float64Array;
  /** 1 − ᾱ_t, accurate also where ᾱ_t is close to 1 (small t). */
  readonly oneMinusAlphaBar: Float64Array;
  /** √ᾱ_t: the signal scale of q(x_t | x0). */
  readonly sqrtAlphaBar: Float64Array;
  /** √(1 − ᾱ_t): the noise scale of q(x_t | x0). */
  readonly sqrtOneMinusAlphaBar: Float64Array;
  /** log ᾱ_t. */
  readonly logAlphaBar: Float64Array;
  /** SNR_t = ᾱ_t/(1 − ᾱ_t). */
  readonly snr: Float64Array;
  /** log SNR_t = log ᾱ_t − log(1 − ᾱ_t). */
  readonly logSnr: Float64Array;
  /** β̃_t = β_t (1 − ᾱ_{t−1})/(1 − ᾱ_t): variance of q(x_{t−1} | x_t, x0); 0 at t = 0. */
  readonly posteriorVariance: Float64Array;
  /** log β̃_t with β̃_0 (= 0) replaced by β̃_1, as improved-diffusion does. */
  readonly posteriorLogVarianceClipped: Float64Array;
  /** Coefficient of x0 in the posterior mean: √ᾱ_{t−1} β_t/(1 − ᾱ_t). */
  readonly posteriorMeanCoefX0: Float64Array;
  /** Coefficient of x_t in the posterior mean: √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t). */
  readonly posteriorMeanCoefXt: Float64Array;
}

/**
 * The derived tables of a β schedule ([Ho20] eqs. 4, 6, 7; improved-diffusion `GaussianDiffusion.__init__`).
 * ᾱ_t is the cumulative product of α_t = 1 − β_t; 1 − ᾱ_t is computed as −expm1(Σ_{s≤t} log1p(−β_s)),
 * which keeps its relative accuracy where ᾱ_t ≈ 1 (1 − ᾱ_0 = β_0 to the last bit instead of
 * losing ~4 digits to cancellation when β_0 = 1e-4).
 * @see [Ho20] eq. 4 (ᾱ_t = Π α_s), eqs. 6–7 (posterior mean coefficients and β̃_t)
 */
export function makeNoiseSchedule(beta: Float64Array): NoiseSchedule {
  const T = beta.length;
  if (T < 1) throw new Error('makeNoiseSchedule: beta must have at least one entry');
  for (let t = 0; t < T; t++) {
    if (!(beta[t] > 0 && beta[t] < 1))
      throw new Error(`makeNoiseSchedule: beta[${t}] must be in (0, 1), got ${beta[t]}`);
  }
  const b = Float64Array.from(beta);
  const alpha = new Float64Array(T);
  const alphaBar = new Float64Array(T);
  const alphaBarPrev = new Float64Array(T);
  const oneMinusAlphaBar = new Float64Array(T);
  const sqrtAlphaBar = new Float64Array(T);
  const sqrtOneMinusAlphaBar = new Float64Array(T);
  const logAlphaBar = new Float64Array(T);
  const snr = new Float64Array(T);
  const logSnr = new Float64Array(T);
  const posteriorVariance = new Float64Array(T);
  const posteriorLogVarianceClipped = new Float64Array(T);
  const posteriorMeanCoefX0 = new Float64Array(T);
  const posteriorMeanCoefXt = new Float64Array(T);

  let prod = 1;
  let logProd = 0;
  for (let t = 0; t < T; t++) {
    alpha[t] = 1 - b[t];
    alphaBarPrev[t] = prod;
    const oneMinusPrev = t === 0 ? 0 : oneMinusAlphaBar[t - 1];
    prod *= alpha[t];
    logProd += Math.log1p(-b[t]);
    alphaBar[t] = prod;
    logAlphaBar[t] = logProd;
    oneMinusAlphaBar[t] = -Math.expm1(logProd);
    sqrtAlphaBar[t] = Math.sqrt(prod);
    sqrtOneMinusAlphaBar[t] = Math.sqrt(oneMinusAlphaBar[t]);
    snr[t] = prod / oneMinusAlphaBar[t];
    logSnr[t] = logProd - Math.log(oneMinusAlphaBar[t]);
    posteriorVariance[t] = (b[t] * oneMinusPrev) / oneMinusAlphaBar[t];
    posteriorMeanCoefX0[t] = (Math.sqrt(alphaBarPrev[t]) * b[t]) / oneMinusAlphaBar[t];
    posteriorMeanCoefXt[t] = (Math.sqrt(alpha[t]) * oneMinusPrev) / oneMinusAlphaBar[t];
  }
  for (let t = 0; t < T; t++) {
    // DEVIATION ([ND21] improved-diffusion): β̃_0 = 0 makes log β̃_0 = −∞, so it is replaced by β̃_1.
    // With T = 1 there is no β̃_1; we use β_0, the other variance choice of [Ho20] §3.2.
    const v = t > 0 ? posteriorVariance[t] : T > 1 ? posteriorVariance[1] : b[0];
    posteriorLogVarianceClipped[t] = Math.log(v);
  }
  return {
    T,
    beta: b,
    alpha,
    alphaBar,
    alphaBarPrev,
    oneMinusAlphaBar,
    sqrtAlphaBar,
    sqrtOneMinusAlphaBar,
    logAlphaBar,
    snr,
    logSnr,
    posteriorVariance,
    posteriorLogVarianceClipped,
    posteriorMeanCoefX0,
    posteriorMeanCoefXt,
  };
}

/** Shorthand for `makeNoiseSchedule(betaSchedule(name, T, options))`. */
export function noiseSchedule(
  name: ScheduleName,
  T: number,
  options: BetaScheduleOptions = {},
): NoiseSchedule {
  return makeNoiseSchedule(betaSchedule(name, T, options));
}

/**
 * A schedule in seed 001's notation ([Lai25]): x_i = α_i x_{i−1} + β_i ε, α_i = √(1 − β_i²),
 * ᾱ_i = Π_{k≤i} α_k, x_i = ᾱ_i x0 + √(1 − ᾱ_i²) ε. Index i − 1 here is code timestep t = i − 1.
 */
export interface LaiNotation {
  /** Lai's β_i = √(Ho's β_t): the standard deviation of a step's noise. */
  betaLai: Float64Array;
  /** Lai's α_i = √(1 − β_i²) = √(Ho's α_t). */
  alphaLai: Float64Array;
  /** Lai's ᾱ_i = Π α_k = √(Ho's ᾱ_t): the signal scale of x_i given x0. */
  alphaBarLai: Float64Array;
}

/**
 * Converts Ho's schedule to seed 001's ([Lai25]) notation, where β and ᾱ are scales, not variances.
 * Formula: β^Lai = √β^Ho, α^Lai = √(1 − β^Ho), ᾱ^Lai = √ᾱ^Ho
 * @see [Lai25] (seed 001; note its slip x_i = ᾱ_i x0 + (1 − ᾱ_i²) ε, where the noise scale is √(1 − ᾱ_i²))
 */
export function toLaiNotation(schedule: NoiseSchedule): LaiNotation {
  const T = schedule.T;
  const betaLai = new Float64Array(T);
  const alphaLai = new Float64Array(T);
  const alphaBarLai = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    betaLai[t] = Math.sqrt(schedule.beta[t]);
    alphaLai[t] = Math.sqrt(schedule.alpha[t]);
    alphaBarLai[t] = schedule.sqrtAlphaBar[t];
  }
  return { betaLai, alphaLai, alphaBarLai };
}

/**
 * Ho's β table from seed 001's ([Lai25]) β, which is a standard deviation.
 * Formula: β^Ho = (β^Lai)²
 * @see [Lai25]
 */
export function fromLaiBeta(betaLai: ArrayLike<number>): Float64Array {
  const beta = new Float64Array(betaLai.length);
  for (let i = 0; i < betaLai.length; i++) {
    const b = betaLai[i];
    if (!(b > 0 && b < 1)) throw new Error(`fromLaiBeta: betaLai[${i}] must be in (0, 1), got ${b}`);
    beta[i] = b * b;
  }
  return beta;
}
