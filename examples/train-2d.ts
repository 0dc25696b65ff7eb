// Train a small DDPM on two moons, save and restore it, sample it by DDIM and compare the samples with fresh data.
// Usage: node dist/examples/train-2d.js [training steps, default 3000]
import {
  type BatchSource,
  Context,
  type DdpmConfig,
  DdpmTrainer,
  decodeTrainingState,
  encodeTrainingState,
  Rng,
  sample,
  slicedWasserstein2d,
  toy2d,
} from 'elbo';
import { createNodeEngine } from 'elbo/node';

const steps = Number(process.argv[2] ?? 3000);
const engine = await createNodeEngine();
let rng = Rng.fromSeed(1);
const moons: BatchSource = {
  next: (n) => toy2d('two-moons', n, rng),
  getState: () => rng.state(),
  setState: (s) => (rng = Rng.fromState(s as ReturnType<Rng['state']>)),
};
const config: DdpmConfig = {
  dataset: 'two-moons',
  dataShape: [2],
  prediction: 'eps',
  schedule: 'linear',
  T: 200,
  model: { kind: 'mlp', mlp: { dims: 2, hidden: 128, layers: 3, timeEmbeddingDim: 32 } },
  batchSize: 256,
  lr: 2e-3,
  warmupSteps: 100,
  gradClip: 1,
  emaDecay: 0.999,
  seed: 0,
};
const ctx = new Context(engine);
const trainer = new DdpmTrainer(ctx, config, moons);
for (let i = 0; i < steps; i++) trainer.trainStep(); // L_simple, Adam, clipping, EMA; throws on NaN

// A checkpoint is safetensors bytes (what `elbo train` writes); the restored trainer samples the same points.
const bytes = encodeTrainingState(trainer.exportState());
const restored = DdpmTrainer.restore(ctx, decodeTrainingState(bytes, 'ddpm'), null);
const draw = (t: DdpmTrainer) =>
  sample(t.schedule, t.batchModel(), {
    batch: 2000,
    dims: 2,
    rng: Rng.fromSeed(7),
    prediction: 'eps',
    sampler: { kind: 'ddim', steps: 50, eta: 0, clip: false },
  }).x;
const points = draw(trainer);
const same = draw(restored).every((v, i) => v === points[i]);
console.log(`checkpoint: ${bytes.length} bytes; restored samples ${same ? 'identical' : 'DIFFERENT'}`);

// Distance to fresh data, and between two fresh sets (the noise floor), each averaged over 8 draws.
const data = Rng.fromSeed(11);
const fresh = () => toy2d('two-moons', 2000, data);
const mean = (f: () => number) => Array.from({ length: 8 }, f).reduce((a, b) => a + b) / 8;
const distance = mean(() => slicedWasserstein2d(points, fresh(), data));
const floor = mean(() => slicedWasserstein2d(fresh(), fresh(), data));
console.log(
  `sliced Wasserstein distance to fresh data ${distance.toFixed(3)} (noise floor ${floor.toFixed(3)})`,
);
engine.dispose();
