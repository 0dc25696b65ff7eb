// Three digits from the shipped MNIST diffusion model, printed as text.
// Usage: node dist/examples/sample-mnist.js [network calls, default 20]
import { readFileSync } from 'node:fs';
import { Context, loadDiffusionModel } from 'elbo';
import { createNodeEngine } from 'elbo/node';

const steps = Number(process.argv[2] ?? 20);
const file = new URL('../../checkpoints/mnist-ddpm.safetensors', import.meta.resolve('elbo'));
const engine = await createNodeEngine();
// An elbo checkpoint's bytes, or a diffusers UNet2DModel folder's files (a Map of name → bytes).
const model = loadDiffusionModel(new Context(engine), readFileSync(file));
const { x, nfe } = model.sample({
  n: 3,
  sampler: { kind: 'dpm-solver++', order: 2, sde: true, steps, clip: false }, // SDE-DPM-Solver++(2M)
  seed: 0, // draws x_T and each step's noise
});
const ink = (v: number) => (v > 0 ? '#' : '.'); // pixels are in [−1, 1]
for (let row = 0; row < 28; row += 2) {
  const line = (i: number) =>
    Array.from(x.subarray(i * 784 + row * 28, i * 784 + row * 28 + 28), ink).join('');
  console.log([line(0), line(1), line(2)].join('   '));
}
console.log(`${model.trainingSteps} training steps, ${nfe} network calls per digit`);
engine.dispose();
