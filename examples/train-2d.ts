// Train a small DDPM on two moons, sample it by DDIM and compare the samples with fresh data.
// Usage: node dist/examples/train-2d.js [training steps, default 3000]
import {
  type BatchSource,
  Context,
  type DdpmConfig,
  DdpmTrainer,
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
const trainer = new DdpmTrainer(new Context(engine), config, moons);
for (let i = 0; i < steps; i++) trainer.trainStep(); // L_simple, Adam, clipping, EMA; throws on NaN
const { x } = sample(trainer.schedule, trainer.batchModel(), 2000, 2, Rng.fromSeed(7), {
  prediction: 'eps',
  sampler: { kind: 'ddim', steps: 50, eta: 0, clip: false },
});
const fresh = () => toy2d('two-moons', 2000, rng);
const distance = slicedWasserstein2d(x, fresh(), Rng.fromSeed(3));
const floor = slicedWasserstein2d(fresh(), fresh(), Rng.fromSeed(3)); // two fresh sets: the noise floor
console.log(
  `sliced Wasserstein distance to fresh data ${distance.toFixed(3)} (noise floor ${floor.toFixed(3)})`,
);
engine.dispose();
