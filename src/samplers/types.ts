/**
 * What every sampler shares: the model as a function of a batch at one timestep, and the sampler options.
 * Samplers are engine-free: they call `model` and do their arithmetic in float64.
 */
import type { Prediction } from '../diffusion/parameterization.js';

/**
 * The network on a batch: x_t (all examples at the same timestep t, flattened, length batch·dims)
 * → its raw output (ε̂, x̂0 or v̂, as `prediction` says), same length.
 */
export type BatchModel = (xt: Float64Array, t: number) => ArrayLike<number>;

/** Variance of the reverse step p(x_{t−1} | x_t): β̃_t (posterior) or β_t ([Ho20] §3.2: both work). */
export type ReverseVariance = 'posterior' | 'beta';

export type SamplerConfig =
  | {
      kind: 'ancestral';
      variance: ReverseVariance;
      /**
       * 'eps': the mean by [Ho20] eq. 11 from ε̂; 'x0': predict x̂0 (optionally clipped to [−1, 1]) and take
       * the posterior mean μ̃_t(x_t, x̂0) — the seeds' "DDPM sampling with clean prediction".
       */
      meanFrom: 'eps' | 'x0';
      clip: boolean;
    }
  | {
      kind: 'ddim';
      /** Number of respaced steps (≤ T). */
      steps: number;
      /** 0: deterministic DDIM; 1: DDPM-like stochasticity ([Song21] eq. 16). */
      eta: number;
      clip: boolean;
    };

export interface SampleOptions {
  prediction: Prediction;
  sampler: SamplerConfig;
  /**
   * Timesteps (0-based; T = the initial noise) at which to record x_t for trajectory pictures: each gets the
   * first state the chain reaches at or below it. −1 records the final x0.
   */
  recordAt?: readonly number[];
  /** Called after each step with (step index, number of steps). */
  onStep?: (done: number, total: number) => void;
}

export interface SampleResult {
  /** Final samples, flattened [batch·dims]. */
  x: Float64Array;
  /** Recorded states, keyed by timestep (−1 = final). */
  trajectory: Map<number, Float64Array>;
}

export function describeSampler(s: SamplerConfig): string {
  return s.kind === 'ancestral'
    ? `ancestral (T steps, σ² = ${s.variance === 'posterior' ? 'β̃_t' : 'β_t'}, mean from ${s.meanFrom}${s.clip ? ', x̂0 clipped' : ''})`
    : `DDIM (${s.steps} steps, η = ${s.eta}${s.clip ? ', x̂0 clipped' : ''})`;
}
