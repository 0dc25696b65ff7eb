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

/** A small MLP DDPM on two moons (hidden 32, T = 100, batch 32), as the trainer tests train it for hundreds of steps. */
export const MOONS_MLP_DDPM: DdpmConfig = {
  dataset: 'two-moons',
  dataShape: [2],
  model: { kind: 'mlp', mlp: { dims: 2, hidden: 32, layers: 2, timeEmbeddingDim: 16 } },
  schedule: 'linear',
  T: 100,
  prediction: 'eps',
  batchSize: 32,
  lr: 1e-3,
  warmupSteps: 5,
  gradClip: 1,
  emaDecay: 0.99,
  seed: 4,
};
