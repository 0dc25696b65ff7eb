/**
 * What every sampler shares: the model as a function of a batch at one timestep, the timestep choice, and one
 * typed config per sampler. Samplers are engine-free: they call `model` and do their arithmetic in float64.
 */
import type { Prediction } from '../diffusion/parameterization.js';
import type { Rng } from '../random/rng.js';
import type { Spacing } from './timesteps.js';

/**
 * The network on a batch: x_t (all examples at the same timestep t, flattened, length n = batch·dims) → its
 * raw output. A model with fixed variances returns n values (ε̂, x̂0 or v̂, as the prediction type says). A model
 * that learns its variances ([ND21] §3.1) returns 2n: the n predictions first, then the n learned-range values
 * v; samplers that do not use Σ_θ (DDIM and the ODE solvers) read the first n only.
 */
export type BatchModel = (xt: Float64Array, t: number) => ArrayLike<number>;

/**
 * Variance of the reverse step p(x_{t−1} | x_t): β̃_t (posterior) or β_t ([Ho20] §3.2: both work), or the model's
 * own learned-range Σ_θ ([ND21] eq. 15: the second half of its output, see {@link BatchModel}), interpolated
 * between the β and β̃ of the (respaced) chain.
 */
export type ReverseVariance = 'posterior' | 'beta' | 'learned-range';

/**
 * Which timesteps a sampler visits (see timesteps.ts): `steps` spread by `spacing` (default 'trailing'), or an
 * explicit descending list `timesteps`, which then overrides both.
 */
export interface TimestepChoice {
  /** Number of steps = network calls. */
  steps: number;
  /** How the steps are spread over [0, T−1] (default 'trailing'). */
  spacing?: Spacing;
  /** Added to the 'leading' timesteps (diffusers' `steps_offset`; default 0). */
  stepsOffset?: number;
  /** An explicit strictly decreasing list of code timesteps; overrides `steps`, `spacing` and `stepsOffset`. */
  timesteps?: readonly number[];
}

/**
 * Ancestral sampling of p_θ(x_{t−1} | x_t) ([Ho20] Algorithm 2). With fewer than T steps the chain is the
 * respaced DDPM of improved-diffusion: the DDPM whose ᾱ are those of the visited timesteps, β recomputed.
 */
export interface AncestralConfig extends Partial<TimestepChoice> {
  kind: 'ancestral';
  variance: ReverseVariance;
  /**
   * 'eps': the mean by [Ho20] eq. 11 from ε̂; 'x0': predict x̂0 (optionally clipped to [−1, 1]) and take
   * the posterior mean μ̃_t(x_t, x̂0) — the seeds' "DDPM sampling with clean prediction".
   */
  meanFrom: 'eps' | 'x0';
  clip: boolean;
  /**
   * Add the step's noise σ z on the last step too (to x_0). Default false: the last step returns the mean, as
   * [Ho20] Algorithm 2 (z = 0 at t = 1), diffusers and improved-diffusion do. With σ² = β̃ the noise is zero
   * there anyway (β̃ at the first timestep is 0); with σ² = β it is √β'_1 of the (respaced) chain: ≈ 0.01 on
   * all T steps, √(1 − ᾱ_{t_1}) on a subsequence whose last timestep is t_1.
   */
  lastStepNoise?: boolean;
}

/** DDIM ([Song21] eq. 12): deterministic at η = 0 (the first-order solver of the probability-flow ODE). */
export interface DdimConfig extends TimestepChoice {
  kind: 'ddim';
  /** 0: deterministic DDIM; 1: DDPM-like stochasticity ([Song21] eq. 16). */
  eta: number;
  clip: boolean;
}

/**
 * DPM-Solver++ multistep in data prediction ([Lu22b] Algorithm 2), as diffusers' `solver_type="midpoint"`: the
 * probability-flow ODE, or with `sde` the reverse diffusion SDE (SDE-DPM-Solver++, diffusers'
 * `algorithm_type="sde-dpmsolver++"`).
 */
export interface DpmSolverPlusPlusConfig extends TimestepChoice {
  kind: 'dpm-solver++';
  /** 1 (= DDIM η = 0), 2 (2M) or 3 (3M). */
  order: 1 | 2 | 3;
  /** Lower the order on the last steps when there are fewer than 15 (diffusers' `lower_order_final`). */
  lowerOrderFinal?: boolean;
  /**
   * Order 3 with the second difference D2 at its Taylor value (twice diffusers'), which makes the update truly
   * third order (see dpmSolver.ts); default false: diffusers' update.
   */
  taylorThirdOrder?: boolean;
  /** Solve the reverse SDE instead of the ODE: fresh noise at every step but the last (default false). */
  sde?: boolean;
  /**
   * The single-step variant DPM-Solver++(2S) (order 2 only, ODE only): pairs of steps, the first to an
   * intermediate timestep, the second over both from the pair's start (diffusers' `DPMSolverSinglestepScheduler`).
   */
  singlestep?: boolean;
  /** Clip the data prediction x̂0 to [−1, 1] at each step. */
  clip: boolean;
}

/** UniPC ([Zhao23] Algorithms 1–3), the B(h) = e^h − 1 variant ('bh2'), in data prediction. */
export interface UniPcConfig extends TimestepChoice {
  kind: 'unipc';
  /** Order p of the predictor UniP-p (1–3); with the corrector UniC the update is of order p + 1. */
  order: 1 | 2 | 3;
  /** Lower the order on the last steps (diffusers' `lower_order_final`; default true). */
  lowerOrderFinal?: boolean;
  /** Clip the data prediction x̂0 to [−1, 1] at each step. */
  clip: boolean;
}

/** One typed config per sampler, told apart by `kind`. */
export type SamplerConfig = AncestralConfig | DdimConfig | DpmSolverPlusPlusConfig | UniPcConfig;

/** What every chain function takes besides its own options: the timesteps, resolved, and the prediction type. */
export interface ChainOptions {
  /** The timesteps visited, descending; the last step goes on to the clean data. */
  timesteps: readonly number[];
  prediction: Prediction;
  clip: boolean;
}

/** Observers of a sampling run, all optional. */
export interface SamplerHooks {
  /** The state x at timestep t (the final sample under {@link CLEAN} = −1), after each step. */
  record?: (t: number, x: Float64Array) => void;
  /** The data prediction x̂0 the model made at timestep t. */
  recordDenoised?: (t: number, x0: Float64Array) => void;
  /** Called after each step with (steps done, steps in all). */
  onStep?: (done: number, total: number) => void;
}

/** Options of `sample`: the batch, the prediction type, the sampler, and where x_T comes from. */
export interface SampleOptions {
  /** Number of examples. */
  batch: number;
  /** Values per example. */
  dims: number;
  prediction: Prediction;
  sampler: SamplerConfig;
  /** The starting noise x_T (batch·dims values); drawn from `rng` when absent. */
  xT?: Float64Array;
  /**
   * Needed for stochastic samplers (ancestral, DDIM with η > 0, SDE-DPM-Solver++) and to draw x_T;
   * deterministic ones need none.
   */
  rng?: Rng;
  /**
   * Timesteps (0-based; T = the initial noise) at which to record x_t and x̂0 for trajectory pictures: each gets
   * the first state the chain reaches at or below it. −1 records the final x0.
   */
  recordAt?: readonly number[];
  /** Called after each step with (steps done, steps in all). */
  onStep?: (done: number, total: number) => void;
}

/** What `sample` returns: the samples, the recorded trajectory, the timesteps visited and the NFE. */
export interface SampleResult {
  /** Final samples, flattened [batch·dims]. */
  x: Float64Array;
  /** Recorded states, keyed by the wanted timestep (−1 = final). */
  trajectory: Map<number, Float64Array>;
  /** The model's data predictions x̂0 at the same keys (absent for −1). */
  denoised: Map<number, Float64Array>;
  /** Network calls made per example batch: the number of function evaluations (NFE). */
  nfe: number;
  /** The timesteps visited, descending (the last step goes from the last of them to the clean data). */
  timesteps: number[];
}
