/**
 * diffusers' scheduler_config.json (DDPMScheduler's, or any scheduler's with the same keys) → elbo's noise schedule,
 * prediction type, reverse variance and sampler defaults.
 *
 * Source: huggingface/diffusers `schedulers/scheduling_ddpm.py` (DDPMScheduler.__init__, `_get_variance`), commit
 * 58eb52c0803ea9af3abec60841c2a093bdf1f951; its defaults apply to keys a config omits.
 *
 * [Ho20] arXiv:2006.11239v2 · [ND21] arXiv:2102.09672v1 (learned_range: eq. 15)
 */
import type { Prediction } from '../../diffusion/parameterization.js';
import { betaSchedule, makeNoiseSchedule, type NoiseSchedule } from '../../diffusion/schedule.js';
import type { Spacing } from '../../samplers/timesteps.js';
import type { ReverseVariance } from '../../samplers/types.js';

/**
 * σ_t² of the reverse step: β̃_t ('posterior', diffusers' fixed_small), β_t ('beta', fixed_large), or the network's
 * learned interpolation between their logs ('learnedRange', [ND21] eq. 15: the second half of its output channels).
 */
export type VarianceType = 'posterior' | 'beta' | 'learnedRange';

/**
 * The reverse variance elbo's bound and ancestral sampler use for a variance type: fixed_small → β̃_t
 * ('posterior', log β̃ clipped to log β̃_1 at t = 0), fixed_large → β_t ('beta', β̃_1 at t = 0), learned_range →
 * the network's own Σ_θ ('learned-range'); improved-diffusion's FIXED_SMALL, FIXED_LARGE and LEARNED_RANGE.
 * @see [ND21] improved-diffusion gaussian_diffusion.py `p_mean_variance`; [Ho20] §3.2
 */
export function reverseVarianceOf(variance: VarianceType): ReverseVariance {
  return variance === 'learnedRange' ? 'learned-range' : variance;
}

/** A diffusers `scheduler_config.json` mapped to elbo: the noise schedule and the sampling defaults it asks for. */
export interface DiffusersScheduler {
  schedule: NoiseSchedule;
  /** num_train_timesteps. */
  T: number;
  /** The diffusers name of the β schedule, or 'trained_betas'. */
  betaSchedule: string;
  prediction: Prediction;
  variance: VarianceType;
  /** clip_sample: clip x̂0 to [−1, 1] while sampling. */
  clip: boolean;
  spacing: Spacing;
  stepsOffset: number;
  /** What was assumed or left out, one sentence each (e.g. no scheduler_config.json: DDPMScheduler's defaults). */
  notes: string[];
}

const PREDICTIONS: Record<string, Prediction> = { epsilon: 'eps', sample: 'x0', v_prediction: 'v' };
const VARIANCES: Record<string, VarianceType> = {
  fixed_small: 'posterior',
  fixed_small_log: 'posterior',
  fixed_large: 'beta',
  fixed_large_log: 'beta',
  learned_range: 'learnedRange',
};

/**
 * diffusers' "sigmoid" β schedule (from GeoDiff): β = σ(linspace(−6, 6, T))·(β_end − β_start) + β_start — a sigmoid
 * in β, unlike elbo's 'sigmoid', which is a sigmoid in ᾱ ([Chen23]).
 * @see huggingface/diffusers schedulers/scheduling_ddpm.py (beta_schedule == "sigmoid")
 */
export function diffusersSigmoidBeta(T: number, betaStart: number, betaEnd: number): Float64Array {
  const beta = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const z = T === 1 ? -6 : -6 + (12 * t) / (T - 1);
    beta[t] = (1 / (1 + Math.exp(-z))) * (betaEnd - betaStart) + betaStart;
  }
  return beta;
}

function fail(key: string, msg: string): never {
  throw new Error(`diffusers scheduler_config.json: "${key}" ${msg}`);
}

function oneOf<T>(key: string, value: unknown, table: Record<string, T>): T {
  if (typeof value !== 'string' || !(value in table))
    fail(
      key,
      `is ${JSON.stringify(value)}; elbo reads ${Object.keys(table)
        .map((k) => `"${k}"`)
        .join(', ')}`,
    );
  return table[value];
}

/**
 * Reads a scheduler config (null: none in the folder, DDPMScheduler's defaults are used and a note says so).
 * Refused, naming the key: thresholding, rescale_betas_zero_snr, variance_type "learned", clip_sample_range ≠ 1
 * with clipping, unknown beta schedules.
 */
export function parseSchedulerConfig(json: unknown): DiffusersScheduler {
  const notes: string[] = [];
  if (json === null)
    notes.push("no scheduler_config.json: DDPMScheduler's defaults (linear 1e-4 … 0.02, T = 1000, ε)");
  else if (typeof json !== 'object' || Array.isArray(json))
    throw new Error('diffusers scheduler_config.json must be a JSON object');
  const raw = (json ?? {}) as Record<string, unknown>;
  const get = (key: string, fallback: unknown) =>
    key in raw && raw[key] !== undefined ? raw[key] : fallback;
  const T = get('num_train_timesteps', 1000);
  if (typeof T !== 'number' || !Number.isInteger(T) || T < 1)
    fail('num_train_timesteps', `must be a positive integer, got ${JSON.stringify(T)}`);
  const start = get('beta_start', 1e-4);
  const end = get('beta_end', 0.02);
  if (typeof start !== 'number' || typeof end !== 'number')
    fail('beta_start', 'and "beta_end" must be numbers');
  const trained = get('trained_betas', null);
  const name = get('beta_schedule', 'linear');
  let beta: Float64Array;
  let scheduleName: string;
  if (trained !== null) {
    if (!Array.isArray(trained) || trained.length !== T || !trained.every((b) => typeof b === 'number'))
      fail('trained_betas', `must be a list of ${T} numbers`);
    beta = Float64Array.from(trained as number[]);
    scheduleName = 'trained_betas';
  } else {
    scheduleName = String(name);
    switch (name) {
      case 'linear':
        beta = betaSchedule('linear', T, { betaStart: start, betaEnd: end });
        break;
      case 'scaled_linear':
        beta = betaSchedule('scaledLinear', T, { betaStart: start, betaEnd: end });
        break;
      case 'squaredcos_cap_v2':
        // diffusers' betas_for_alpha_bar with the cosine ᾱ of [ND21]: s = 0.008, β capped at 0.999 — elbo's cosine.
        beta = betaSchedule('cosine', T, { s: 0.008, maxBeta: 0.999 });
        break;
      case 'sigmoid':
        beta = diffusersSigmoidBeta(T, start, end);
        break;
      default:
        fail(
          'beta_schedule',
          `is ${JSON.stringify(name)}; elbo reads "linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid" or trained_betas`,
        );
    }
  }
  if (get('rescale_betas_zero_snr', false) === true)
    fail('rescale_betas_zero_snr', 'is true; elbo does not implement the zero-terminal-SNR rescaling');
  if (get('thresholding', false) === true)
    fail('thresholding', 'is true; elbo implements static clipping (clip_sample), not dynamic thresholding');
  const clip = get('clip_sample', true);
  if (typeof clip !== 'boolean') fail('clip_sample', `must be true or false, got ${JSON.stringify(clip)}`);
  if (clip && get('clip_sample_range', 1) !== 1)
    fail('clip_sample_range', `is ${JSON.stringify(raw.clip_sample_range)}; elbo clips x̂0 to [−1, 1] only`);
  const spacing = oneOf('timestep_spacing', get('timestep_spacing', 'leading'), {
    linspace: 'linspace',
    leading: 'leading',
    trailing: 'trailing',
  } as Record<string, Spacing>);
  const stepsOffset = get('steps_offset', 0);
  if (typeof stepsOffset !== 'number' || !Number.isInteger(stepsOffset) || stepsOffset < 0)
    fail('steps_offset', `must be an integer ≥ 0, got ${JSON.stringify(stepsOffset)}`);
  return {
    schedule: makeNoiseSchedule(beta),
    T,
    betaSchedule: scheduleName,
    prediction: oneOf('prediction_type', get('prediction_type', 'epsilon'), PREDICTIONS),
    variance: oneOf('variance_type', get('variance_type', 'fixed_small'), VARIANCES),
    clip,
    spacing,
    // elbo applies steps_offset to 'leading' only (as diffusers' multistep schedulers do).
    stepsOffset: spacing === 'leading' ? stepsOffset : 0,
    notes,
  };
}

/** The DDPMScheduler config.json object for an elbo schedule (export), linear/cosine/scaled_linear or trained_betas. */
export function ddpmSchedulerConfigJson(options: {
  beta: Float64Array;
  prediction: Prediction;
  variance: VarianceType;
  clip: boolean;
}): Record<string, unknown> {
  const prediction = Object.entries(PREDICTIONS).find(([, p]) => p === options.prediction)![0];
  const variance = { posterior: 'fixed_small', beta: 'fixed_large', learnedRange: 'learned_range' }[
    options.variance
  ];
  return {
    _class_name: 'DDPMScheduler',
    _diffusers_version: '0.40.0.dev0',
    beta_end: options.beta[options.beta.length - 1],
    beta_schedule: 'linear',
    beta_start: options.beta[0],
    clip_sample: options.clip,
    clip_sample_range: 1.0,
    num_train_timesteps: options.beta.length,
    prediction_type: prediction,
    steps_offset: 0,
    timestep_spacing: 'trailing',
    // The exact β table: diffusers uses trained_betas instead of beta_schedule when it is given.
    trained_betas: Array.from(options.beta),
    variance_type: variance,
  };
}
