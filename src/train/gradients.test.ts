/** Learning-rate schedules: warm-up and the linear decay to zero, against their closed forms. */
import { describe, expect, it } from 'vitest';
import { ddpmLearningRate, type DdpmConfig, validateDdpmConfig } from './ddpm.js';
import { linearDecayLr, warmupLr } from './gradients.js';

describe('learning-rate schedules', () => {
  it('warm-up: lr·(step + 1)/warmup, then lr', () => {
    expect(warmupLr(1e-3, 0, 100)).toBeCloseTo(1e-5, 15);
    expect(warmupLr(1e-3, 49, 100)).toBeCloseTo(5e-4, 15);
    expect(warmupLr(1e-3, 99, 100)).toBe(1e-3);
    expect(warmupLr(1e-3, 5000, 100)).toBe(1e-3);
    expect(warmupLr(1e-3, 0, 0)).toBe(1e-3);
  });

  it('linear decay: lr before start, (end − step)/(end − start)·lr inside, 0 from end on', () => {
    const decay = { start: 1000, end: 1400 };
    expect(linearDecayLr(2e-3, 0, decay)).toBe(2e-3);
    expect(linearDecayLr(2e-3, 1000, decay)).toBe(2e-3);
    expect(linearDecayLr(2e-3, 1100, decay)).toBeCloseTo(1.5e-3, 15);
    expect(linearDecayLr(2e-3, 1300, decay)).toBeCloseTo(0.5e-3, 15);
    expect(linearDecayLr(2e-3, 1400, decay)).toBe(0);
    expect(linearDecayLr(2e-3, 9000, decay)).toBe(0);
  });

  it('a DDPM config combines them, and rejects a decay that ends before it starts', () => {
    const config = {
      dataset: 'two-moons',
      dataShape: [2],
      model: { kind: 'mlp', mlp: { dims: 2, hidden: 8, layers: 1, timeEmbeddingDim: 4 } },
      schedule: 'linear',
      T: 10,
      prediction: 'eps',
      batchSize: 4,
      lr: 1e-3,
      warmupSteps: 10,
      gradClip: 1,
      emaDecay: 0.9,
      seed: 0,
    } satisfies DdpmConfig;
    expect(ddpmLearningRate(config, 4)).toBeCloseTo(5e-4, 15); // warm-up, no decay configured
    expect(ddpmLearningRate(config, 500)).toBe(1e-3);
    const annealed = { ...config, lrDecay: { start: 100, end: 200 } };
    expect(ddpmLearningRate(annealed, 4)).toBeCloseTo(5e-4, 15);
    expect(ddpmLearningRate(annealed, 150)).toBeCloseTo(5e-4, 15);
    expect(ddpmLearningRate(annealed, 200)).toBe(0);
    expect(() => validateDdpmConfig({ ...config, lrDecay: { start: 200, end: 200 } })).toThrow(/lrDecay/);
  });
});
