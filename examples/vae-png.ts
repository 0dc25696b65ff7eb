// Fit a small VAE to a folder of equally sized PNG images and report its bounds on them, in nats per image.
// Usage: node dist/examples/vae-png.js FOLDER [training steps, default 2000]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { batchOf, BatchSampler, BURDA_MNIST_VAE, Context, type DecodedImage, decoderTargets } from 'elbo';
import { evaluateVae, imageDatasetFromDecodedPngs, Rng, type VaeConfig, VaeTrainer } from 'elbo';
import { createNodeEngine } from 'elbo/node';

const [folder, stepsArg] = process.argv.slice(2);
if (folder === undefined) throw new Error('usage: vae-png.js FOLDER [steps]');
const files = readdirSync(folder).filter((f) => f.endsWith('.png'));
const decoded: DecodedImage[] = files.map((f) => {
  const png = PNG.sync.read(readFileSync(join(folder, f))); // RGBA
  return { width: png.width, height: png.height, channels: 4, data: png.data, source: f };
});
const images = imageDatasetFromDecodedPngs(decoded, { name: folder, channels: 1 });
const config: VaeConfig = {
  ...BURDA_MNIST_VAE, // 200-200 tanh MLPs, Bernoulli decoder on dynamically binarised pixels
  dataset: folder,
  dataShape: [images.height, images.width, images.channels],
  latentDim: 8,
  batchSize: Math.min(32, images.count),
};
const engine = await createNodeEngine();
const sampler = new BatchSampler(images.count, config.batchSize, Rng.fromSeed(1));
const data = {
  next: () => batchOf(images, sampler.next().indices),
  getState: () => null,
  setState: () => {},
};
const trainer = new VaeTrainer(new Context(engine), config, data);
const steps = Number(stepsArg ?? 2000);
for (let i = 0; i < steps; i++) trainer.trainStep(); // the reparameterised ELBO, Adam, EMA
const targets = decoderTargets(config, images.images, Rng.fromSeed(2)); // binarised once
const e = evaluateVae(trainer.ema, targets, images.count, 100, Rng.fromSeed(3));
const mean = (a: Float64Array) => (a.reduce((s, v) => s + v, 0) / a.length).toFixed(2);
console.log(`${images.count} images ${images.width}×${images.height}, ${steps} steps`);
console.log(`−ELBO ${mean(e.elbo.map((v) => -v))}, IWAE NLL (k = 100) ${mean(e.iwae.map((v) => -v))}`);
engine.dispose();
