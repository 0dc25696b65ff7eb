/**
 * elbo's samplers step for step against diffusers' own schedulers (DDIM, DPM-Solver++ 1/2/3M, UniPC-2/3; ε, x0
 * and v prediction; 10 and 20 steps; linspace, leading with steps_offset 1, trailing). The reference states were
 * written by test/fixtures/diffusers-samplers/make_fixture.py, which runs diffusers' scheduler code (commit in the
 * JSON) in float64 on a stand-in network; this test reads the JSON only.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { noiseSchedule } from '../src/diffusion/schedule.js';
import type { Prediction } from '../src/diffusion/parameterization.js';
import { sample, spacedTimesteps, type BatchModel, type SamplerConfig, type Spacing } from '../src/index.js';

interface Case {
  sampler: 'ddim' | 'dpm-solver++' | 'unipc';
  order: 1 | 2 | 3;
  prediction: Prediction;
  steps: number;
  spacing: Spacing;
  steps_offset: number;
  clip: boolean;
  timesteps: number[];
  states: number[][];
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/diffusers-samplers/diffusers-samplers.json', import.meta.url), 'utf8'),
) as { source: string; T: number; batch: number; dims: number; x_T: number[]; cases: Case[] };

const schedule = noiseSchedule('linear', fixture.T);

/** The script's stand-in network: f(x, t) = tanh(0.9 x)(0.5 + t/2000) + 0.05 sin(2x + t/100). */
const standIn: BatchModel = (xt, t) =>
  xt.map((x) => Math.tanh(0.9 * x) * (0.5 + t / 2000) + 0.05 * Math.sin(2 * x + t / 100));

function config(c: Case): SamplerConfig {
  const timing = { steps: c.steps, spacing: c.spacing, stepsOffset: c.steps_offset };
  if (c.sampler === 'ddim') return { kind: 'ddim', ...timing, eta: 0, clip: c.clip };
  return { kind: c.sampler, order: c.order, ...timing, clip: c.clip };
}

describe(`samplers against ${fixture.source}`, () => {
  it.each(
    fixture.cases.map(
      (c) =>
        [
          `${c.sampler}-${c.order} ${c.prediction} ${c.steps} ${c.spacing}${c.clip ? ' clip' : ''}`,
          c,
        ] as const,
    ),
  )('%s', (_name, c) => {
    // The spacing: diffusers' timesteps exactly.
    expect(spacedTimesteps(fixture.T, c.steps, c.spacing, c.steps_offset)).toEqual(c.timesteps);
    // Every state of the chain, to 1e-6 (absolute; the values are of order 1). The state each network call
    // sees is the state after the previous step (for UniPC: after the predictor; its corrector runs inside the
    // next step, as in diffusers), and the last state is the sample.
    const seen: Float64Array[] = [];
    const recording: BatchModel = (xt, t) => {
      seen.push(xt.slice());
      return standIn(xt, t);
    };
    const r = sample(schedule, recording, {
      batch: fixture.batch,
      dims: fixture.dims,
      prediction: c.prediction,
      sampler: config(c),
      xT: Float64Array.from(fixture.x_T),
    });
    expect(r.nfe).toBe(c.steps);
    expect(r.timesteps).toEqual(c.timesteps);
    const states = [...seen.slice(1), r.x];
    expect(states).toHaveLength(c.states.length);
    let worst = 0;
    c.states.forEach((ref, i) => {
      ref.forEach((v, j) => (worst = Math.max(worst, Math.abs(states[i][j] - v))));
    });
    expect(worst).toBeLessThan(1e-6);
  });
});
