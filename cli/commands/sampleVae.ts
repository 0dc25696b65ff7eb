/**
 * The VAE branch of `elbo sample`: PNG grids of samples from the prior (decoder means of z ~ N(0, I)), test
 * images next to their reconstructions (decoder mean at the posterior mean), straight-line interpolations
 * between the posterior means of pairs of test images, and, for a 2-D latent, the decoded manifold. The VAE is
 * loaded with loadVae (src/pipeline), no trainer.
 */
import { join } from 'node:path';
import type { WeightsCopy } from '../../src/train/emaWeights.js';
import { interpolateLatents, latentGrid2d } from '../../src/vae/pictures.js';
import type { VaeTrainingState } from '../../src/vae/trainer.js';
import { withEngine } from '../engine.js';
import { writeFileAtomic } from '../io.js';
import { loadVaeAt } from '../modelSource.js';
import { imageGridPng } from '../png.js';
import { heldOutImages } from './evalVae.js';

export interface VaePictureOptions {
  checkpoint: string;
  n: number;
  seed: number;
  out: string;
  threads: number | undefined;
  weights: WeightsCopy;
}

const INTERPOLATION_STEPS = 10;
const MANIFOLD_STEPS = 20;

/** Writes the pictures through loadVae (src/pipeline); returns the files written. */
export async function writeVaePictures(o: VaePictureOptions, state: VaeTrainingState): Promise<string[]> {
  const config = state.meta.config;
  const [h, w, c] = config.dataShape;
  const dims = h * w * c;
  const L = config.latentDim;
  const pairs = 16;
  const rowsInterp = 8;
  const needed = Math.max(pairs, 2 * rowsInterp);
  const images = heldOutImages(
    config.dataset,
    needed,
    `the reconstructions and interpolations need ${needed}, which`,
  );
  return withEngine(o.threads, (ctx) => {
    const vae = loadVaeAt(ctx, o.checkpoint, state, o.weights);
    const targets = vae.decoderTargets(images, o.seed);
    // Targets → images in [−1, 1] for display (Bernoulli targets are in [0, 1]).
    const shown = config.likelihood.kind === 'bernoulli' ? targets.map((v) => 2 * v - 1) : targets;
    const files: string[] = [];
    const write = (
      name: string,
      pictures: Float32Array,
      count: number,
      columns: number,
      pad = 2,
      scale = 2,
    ) => {
      const path = join(o.out, name);
      writeFileAtomic(path, imageGridPng(pictures, count, h, w, c, columns, pad, scale));
      files.push(path);
    };

    write('samples.png', vae.sample({ n: o.n, seed: o.seed }), o.n, Math.ceil(Math.sqrt(o.n)));

    const mu = vae.encode(targets).mean;
    const recon = vae.decode(mu.subarray(0, pairs * L));
    const side = new Float32Array(2 * pairs * dims);
    for (let i = 0; i < pairs; i++) {
      side.set(shown.subarray(i * dims, (i + 1) * dims), 2 * i * dims);
      side.set(recon.subarray(i * dims, (i + 1) * dims), (2 * i + 1) * dims);
    }
    write('reconstructions.png', side, 2 * pairs, 8);

    const cols = INTERPOLATION_STEPS + 2;
    const strip = new Float32Array(rowsInterp * cols * dims);
    for (let r = 0; r < rowsInterp; r++) {
      const [a, b] = [2 * r, 2 * r + 1];
      const path = interpolateLatents(
        mu.subarray(a * L, (a + 1) * L),
        mu.subarray(b * L, (b + 1) * L),
        INTERPOLATION_STEPS,
      );
      strip.set(shown.subarray(a * dims, (a + 1) * dims), r * cols * dims);
      strip.set(vae.decode(path), (r * cols + 1) * dims);
      strip.set(shown.subarray(b * dims, (b + 1) * dims), (r * cols + cols - 1) * dims);
    }
    write('interpolations.png', strip, rowsInterp * cols, cols);

    if (L === 2)
      write(
        'manifold.png',
        vae.decode(latentGrid2d(MANIFOLD_STEPS)),
        MANIFOLD_STEPS ** 2,
        MANIFOLD_STEPS,
        0,
        1,
      );
    vae.dispose();
    return files;
  });
}
