/** A tiny DDPM config (an MLP on two moons, T = 20): trains and checkpoints in milliseconds, for tests and fuzzing. */
import type { DdpmConfig } from '../../src/train/ddpm.js';

export const TINY_MOONS_DDPM: DdpmConfig = {
  dataset: 'two-moons',
  dataShape: [2],
  model: { kind: 'mlp', mlp: { dims: 2, hidden: 16, layers: 2, timeEmbeddingDim: 8 } },
  schedule: 'linear',
  T: 20,
  prediction: 'eps',
  batchSize: 8,
  lr: 1e-3,
  warmupSteps: 0,
  gradClip: 1,
  emaDecay: 0.9,
  seed: 1,
};
