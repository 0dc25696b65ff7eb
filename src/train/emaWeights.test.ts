import { describe, expect, it } from 'vitest';
import { startTestEngine } from '../../test/helpers/engine.js';
import { toy2d } from '../data/toy2d.js';
import { Rng } from '../random/rng.js';
import { decodeTrainingState, encodeTrainingState } from './checkpoint.js';
import { type BatchSource, type DdpmConfig, DdpmTrainer } from './ddpm.js';
import { emaOnlyState, loadEmaWeights } from './emaWeights.js';

const { ctx } = await startTestEngine({ threads: 1 });

const config: DdpmConfig = {
  dataset: 'two-moons',
  dataShape: [2],
  model: { kind: 'mlp', mlp: { dims: 2, hidden: 16, layers: 2, timeEmbeddingDim: 8 } },
  schedule: 'linear',
  T: 50,
  prediction: 'eps',
  batchSize: 16,
  lr: 1e-3,
  warmupSteps: 0,
  gradClip: 1,
  emaDecay: 0.9,
  seed: 3,
};
const moons = (): BatchSource => {
  const rng = Rng.fromSeed(1);
  return { next: (n) => toy2d('two-moons', n, rng), getState: () => null, setState: () => {} };
};

describe('EMA-only weight files', () => {
  it('keep the ema.* tensors only (a quarter of the file) and give the same EMA network back', () => {
    const trained = new DdpmTrainer(ctx, config, moons());
    const fresh = new DdpmTrainer(ctx, { ...config, seed: 99 }, null);
    try {
      for (let i = 0; i < 5; i++) trained.trainStep();
      const floats = (m: Map<string, { data: Float32Array }>) =>
        [...m.values()].reduce((n, t) => n + t.data.length, 0);
      const small = encodeTrainingState(emaOnlyState(trained.exportState()));
      const decoded = decodeTrainingState(small);
      // model, ema, adam.m, adam.v: four copies of the weights in a training checkpoint, one here.
      expect(4 * floats(decoded.tensors)).toBe(floats(trained.exportState().tensors));
      expect([...decoded.tensors.keys()].every((k) => k.startsWith('ema.'))).toBe(true);
      expect((decoded.meta as unknown as { weights: string }).weights).toBe('ema');

      const x = Float64Array.from([0.5, -1, 2, 0.25]);
      const want = Array.from(trained.batchModel(true)(x, 7));
      expect(Array.from(fresh.batchModel(true)(x, 7))).not.toEqual(want);
      loadEmaWeights(fresh.ema, decoded.tensors);
      expect(Array.from(fresh.batchModel(true)(x, 7))).toEqual(want);
    } finally {
      trained.dispose();
      fresh.dispose();
    }
  });

  it('refuse a file without a tensor the model needs, naming it', () => {
    const t = new DdpmTrainer(ctx, config, null);
    try {
      const tensors = emaOnlyState(t.exportState()).tensors;
      const [first] = tensors.keys();
      tensors.delete(first);
      expect(() => loadEmaWeights(t.ema, tensors)).toThrow(`no tensor "${first}"`);
    } finally {
      t.dispose();
    }
  });
});
