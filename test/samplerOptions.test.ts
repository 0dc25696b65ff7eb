/** The command line's sampler names → the library's sampler configs (cli/commands/sample.ts). */
import { describe, expect, it } from 'vitest';
import { SAMPLER_NAMES, samplerFromOptions } from '../cli/commands/sample.js';
import { describeSampler } from '../src/index.js';

const base = { spacing: 'trailing', clip: false };

describe('samplerFromOptions', () => {
  it.each([
    ['dpmpp-2m', { kind: 'dpm-solver++', order: 2, sde: false }, 'DPM-Solver++(2M)'],
    ['dpmpp-3m', { kind: 'dpm-solver++', order: 3, sde: false }, 'DPM-Solver++(3M)'],
    ['dpmpp-2s', { kind: 'dpm-solver++', order: 2, singlestep: true }, 'DPM-Solver++(2S)'],
    ['dpmpp-2m-sde', { kind: 'dpm-solver++', order: 2, sde: true }, 'SDE-DPM-Solver++(2M)'],
    ['dpmpp-3m-sde', { kind: 'dpm-solver++', order: 3, sde: true }, 'SDE-DPM-Solver++(3M)'],
    ['unipc', { kind: 'unipc', order: 2 }, 'UniPC-2'],
    ['ddim', { kind: 'ddim', eta: 0 }, 'DDIM'],
  ] as const)('--sampler %s', (name, expected, description) => {
    const config = samplerFromOptions({ ...base, sampler: name }, 1000);
    expect(config).toMatchObject({ ...expected, steps: name === 'ddim' ? 100 : 20, spacing: 'trailing' });
    expect(describeSampler(config).startsWith(description)).toBe(true);
  });

  it('every name is mapped', () => {
    for (const name of SAMPLER_NAMES)
      expect(() => samplerFromOptions({ ...base, sampler: name }, 1000)).not.toThrow();
  });

  it('--last-step-noise reaches the ancestral config and is refused elsewhere', () => {
    expect(samplerFromOptions({ ...base, sampler: 'ancestral', lastStepNoise: true }, 1000)).toMatchObject({
      kind: 'ancestral',
      lastStepNoise: true,
    });
    expect(() => samplerFromOptions({ ...base, sampler: 'dpmpp-2m-sde', lastStepNoise: true }, 1000)).toThrow(
      /--last-step-noise does not apply to --sampler dpmpp-2m-sde/,
    );
  });
});
