/** Samplers of the reverse process: one algorithm per file, a common entry point here. */
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { assertNever } from '../math/checks.js';
import type { Rng } from '../random/rng.js';
import { sampleAncestral } from './ancestral.js';
import { sampleDdim } from './ddim.js';
import type { BatchModel, SampleOptions, SampleResult } from './types.js';

export * from './ancestral.js';
export * from './ddim.js';
export * from './types.js';

/**
 * Draws `batch` samples of `dims` values each: x_T ~ N(0, I), then the chosen reverse chain. States at the
 * timesteps in `recordAt` are copied into the trajectory (the final x0 under key −1).
 */
export function sample(
  schedule: NoiseSchedule,
  model: BatchModel,
  batch: number,
  dims: number,
  rng: Rng,
  options: SampleOptions,
): SampleResult {
  const trajectory = new Map<number, Float64Array>();
  // Each wanted timestep w gets the first state the chain reaches with t ≤ w (DDIM skips most timesteps).
  const pending = [...new Set(options.recordAt ?? [])].filter((w) => w >= 0).sort((a, b) => b - a);
  const record = (t: number, x: Float64Array) => {
    while (pending.length > 0 && t <= pending[0]) trajectory.set(pending.shift()!, x.slice());
  };
  const want = new Set(options.recordAt ?? []);
  const s = options.sampler;
  let x: Float64Array;
  switch (s.kind) {
    case 'ancestral':
      x = sampleAncestral(schedule, model, batch * dims, rng, options.prediction, s, record, options.onStep);
      break;
    case 'ddim':
      x = sampleDdim(schedule, model, batch * dims, rng, options.prediction, s, record, options.onStep);
      break;
    default:
      return assertNever(s, 'sampler');
  }
  if (want.has(-1)) trajectory.set(-1, x.slice());
  return { x, trajectory };
}
