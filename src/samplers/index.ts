/** Samplers of the reverse process: one algorithm per file, a common entry point here. */
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { assertNever } from '../math/checks.js';
import { sampleAncestral } from './ancestral.js';
import { sampleDdim } from './ddim.js';
import { sampleDpmSolverPlusPlus, sampleDpmSolverPlusPlusSinglestep } from './dpmSolver.js';
import { checkTimesteps, spacedTimesteps } from './timesteps.js';
import type { BatchModel, SampleOptions, SampleResult, SamplerConfig, TimestepChoice } from './types.js';
import { sampleUniPc } from './unipc.js';

export * from './ancestral.js';
export * from './dataPrediction.js';
export * from './ddim.js';
export * from './dpmSolver.js';
export * from './gaussianData.js';
export * from './timesteps.js';
export * from './types.js';
export * from './unipc.js';

/** The spacing used when a sampler config names none. */
export const DEFAULT_SPACING = 'trailing';

/**
 * The timesteps a sampler config visits, descending: its explicit list, or `steps` spread by its spacing
 * (default {@link DEFAULT_SPACING}); an ancestral config without steps visits all T.
 */
export function samplerTimesteps(T: number, sampler: SamplerConfig): number[] {
  const choice: Partial<TimestepChoice> = sampler;
  if (choice.timesteps) return checkTimesteps(T, choice.timesteps);
  const steps = choice.steps ?? (sampler.kind === 'ancestral' ? T : undefined);
  if (steps === undefined) throw new Error(`the ${sampler.kind} sampler needs a number of steps`);
  return spacedTimesteps(T, steps, choice.spacing ?? DEFAULT_SPACING, choice.stepsOffset ?? 0);
}

/** True if the sampler draws random numbers after x_T (ancestral; DDIM with η > 0; SDE-DPM-Solver++). */
export function isStochastic(sampler: SamplerConfig): boolean {
  return (
    sampler.kind === 'ancestral' ||
    (sampler.kind === 'ddim' && sampler.eta > 0) ||
    (sampler.kind === 'dpm-solver++' && sampler.sde === true)
  );
}

/**
 * Draws `batch` samples of `dims` values each: x_T (given, or ~ N(0, I) from `rng`), then the chosen reverse
 * chain. States at the timesteps in `recordAt` are copied into the trajectory (the final x0 under key −1), with
 * the model's x̂0 at the same steps. The result reports the timesteps and the number of network calls (NFE).
 */
export function sample(schedule: NoiseSchedule, model: BatchModel, options: SampleOptions): SampleResult {
  const { batch, dims, prediction, sampler, rng } = options;
  const n = batch * dims;
  if (options.xT && options.xT.length !== n)
    throw new Error(`xT has ${options.xT.length} values; ${batch} examples of ${dims} need ${n}`);
  if (!options.xT && !rng) throw new Error('sample: give either xT or a random generator to draw it');
  if (isStochastic(sampler) && !rng)
    throw new Error(`the ${describeSampler(sampler)} sampler needs a random generator`);
  const timesteps = samplerTimesteps(schedule.T, sampler);
  const xT = options.xT ? Float64Array.from(options.xT) : rng!.fillNormal(new Float64Array(n));

  const trajectory = new Map<number, Float64Array>();
  const denoised = new Map<number, Float64Array>();
  // Each wanted timestep w gets the first state the chain reaches with t ≤ w (the samplers skip most timesteps),
  // and the x̂0 of the network call made at that state.
  const wanted = [...new Set(options.recordAt ?? [])].filter((w) => w >= 0).sort((a, b) => b - a);
  const pendingX = [...wanted];
  const pendingX0 = [...wanted];
  const record = (t: number, x: Float64Array) => {
    while (pendingX.length > 0 && t <= pendingX[0]) trajectory.set(pendingX.shift()!, x.slice());
  };
  const recordDenoised = (t: number, x0: Float64Array) => {
    while (pendingX0.length > 0 && t <= pendingX0[0]) denoised.set(pendingX0.shift()!, x0.slice());
  };
  record(schedule.T, xT);
  let nfe = 0;
  const counted: BatchModel = (xt, t) => {
    nfe++;
    return model(xt, t);
  };
  const hooks = {
    record,
    recordDenoised: wanted.length > 0 ? recordDenoised : undefined,
    onStep: options.onStep,
  };
  let x: Float64Array;
  switch (sampler.kind) {
    case 'ancestral':
      x = sampleAncestral(schedule, counted, xT, { ...sampler, timesteps, prediction }, rng!, hooks);
      break;
    case 'ddim':
      x = sampleDdim(schedule, counted, xT, { ...sampler, timesteps, prediction }, rng ?? null, hooks);
      break;
    case 'dpm-solver++':
      if (sampler.singlestep) {
        if (sampler.order !== 2 || sampler.sde)
          throw new Error('the single-step DPM-Solver++ is implemented for order 2 and the ODE only (2S)');
        x = sampleDpmSolverPlusPlusSinglestep(
          schedule,
          counted,
          xT,
          { ...sampler, timesteps, prediction },
          hooks,
        );
        break;
      }
      x = sampleDpmSolverPlusPlus(
        schedule,
        counted,
        xT,
        { ...sampler, timesteps, prediction },
        rng ?? null,
        hooks,
      );
      break;
    case 'unipc':
      x = sampleUniPc(schedule, counted, xT, { ...sampler, timesteps, prediction }, hooks);
      break;
    default:
      return assertNever(sampler, 'sampler');
  }
  if ((options.recordAt ?? []).includes(-1)) trajectory.set(-1, x.slice());
  return { x, trajectory, denoised, nfe, timesteps };
}

/** Options of {@link sampleInBatches}: those of {@link sample} for `n` examples, drawn `batchSize` at a time. */
export interface BatchedSampleOptions extends Omit<SampleOptions, 'batch' | 'xT' | 'onStep'> {
  /** Number of examples in all. */
  n: number;
  /** Examples per network call (default 64). */
  batchSize?: number;
  /** Called after each step of each batch with (steps done, steps in all) over the whole run. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Draws n samples in batches, recording the trajectory of the first batch only. x_T is drawn batch by batch
 * from `rng`, so the same seed and batch size reproduce a run.
 */
export function sampleInBatches(
  schedule: NoiseSchedule,
  model: BatchModel,
  options: BatchedSampleOptions,
): SampleResult {
  const { n, dims } = options;
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a positive integer, got ${n}`);
  if (!options.rng) throw new Error('sampleInBatches: needs a random generator to draw x_T');
  const steps = samplerTimesteps(schedule.T, options.sampler).length;
  const batches = Math.ceil(n / batchSize);
  const x = new Float64Array(n * dims);
  let first: SampleResult | null = null;
  for (let b = 0; b < batches; b++) {
    const batch = Math.min(batchSize, n - b * batchSize);
    const r = sample(schedule, model, {
      ...options,
      batch,
      recordAt: b === 0 ? options.recordAt : [],
      onStep: (done) => options.onProgress?.(b * steps + done, batches * steps),
    });
    x.set(r.x, b * batchSize * dims);
    first ??= r;
  }
  return { ...first!, x };
}

/** A one-line description of a sampler config, for logs and picture titles. */
export function describeSampler(s: SamplerConfig): string {
  const clip = s.clip ? ', x̂0 clipped' : '';
  const steps = (fallback: string) =>
    s.timesteps
      ? `${s.timesteps.length} given timesteps`
      : `${s.steps ?? fallback} steps, ${s.spacing ?? DEFAULT_SPACING}`;
  switch (s.kind) {
    case 'ancestral':
      return `ancestral (${steps('T')}, σ² = ${{ posterior: 'β̃_t', beta: 'β_t', 'learned-range': 'Σ_θ (learned)' }[s.variance]}, mean from ${s.meanFrom}${clip}${s.lastStepNoise ? ', noise on the last step' : ''})`;
    case 'ddim':
      return `DDIM (${steps('?')}, η = ${s.eta}${clip})`;
    case 'dpm-solver++':
      return `${s.sde ? 'SDE-' : ''}DPM-Solver++(${s.order}${s.singlestep ? 'S' : 'M'}) (${steps('?')}${clip})`;
    case 'unipc':
      return `UniPC-${s.order} (${steps('?')}${clip})`;
    default:
      return assertNever(s, 'sampler');
  }
}
