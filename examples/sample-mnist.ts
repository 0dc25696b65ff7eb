// Three digits from the shipped MNIST diffusion model, printed as text.
// Usage: node dist/examples/sample-mnist.js [DDIM steps, default 50]
import { readFileSync } from 'node:fs';
import { Context, DdpmTrainer, decodeTrainingState, Rng, sample } from 'elbo';
import { createNodeEngine } from 'elbo/node';

const steps = Number(process.argv[2] ?? 50);
const file = new URL('../../checkpoints/mnist-ddpm.safetensors', import.meta.resolve('elbo'));
const engine = await createNodeEngine();
const trainer = DdpmTrainer.restore(new Context(engine), decodeTrainingState(readFileSync(file)), null);
const { x } = sample(trainer.schedule, trainer.batchModel(), 3, 28 * 28, Rng.fromSeed(0), {
  prediction: trainer.config.prediction,
  sampler: { kind: 'ddim', steps, eta: 1, clip: false }, // η = 1: stochastic steps, like npm start
});
const ink = (v: number) => (v > 0 ? '#' : '.'); // pixels are in [−1, 1]
for (let row = 0; row < 28; row += 2) {
  const line = (i: number) =>
    Array.from(x.subarray(i * 784 + row * 28, i * 784 + row * 28 + 28), ink).join('');
  console.log([line(0), line(1), line(2)].join('   '));
}
engine.dispose();
