/**
 * The VAE branch of `elbo eval`: on the first n test images (binarised once with --seed when the model was
 * trained on dynamically binarised data), the ELBO and the importance-weighted bound L_k (the NLL estimate,
 * k = 5000 as in Burda et al.), each averaged over examples with its standard error, and the reconstruction and
 * KL parts of the ELBO, through loadVae's bound() (src/pipeline), no trainer.
 */
import { existsSync } from 'node:fs';
import { summarizeVaeEvaluation } from '../../src/vae/evaluate.js';
import type { VaeTrainingState } from '../../src/vae/trainer.js';
import { loadDataset } from '../data.js';
import { withEngine } from '../engine.js';
import { loadVaeAt } from '../modelSource.js';
import { parseIntOption } from '../options.js';
import { startProgress } from '../progress.js';
import { UserError } from '../userError.js';

export interface VaeEvalOptions {
  checkpoint: string;
  k: string;
  n?: string;
  rows: string;
  seed: string;
  threads?: string;
}

/** The first n held-out images (all when n is absent) of a checkpoint's data set, in [−1, 1]. */
export function heldOutImages(dataset: string, n: number | undefined, why = `--n ${n}`): Float32Array {
  if (!existsSync(dataset) && !['mnist', 'fashion-mnist'].includes(dataset)) {
    throw new UserError(`the checkpoint was trained on "${dataset}", which cannot be found here`);
  }
  const { test } = loadDataset(dataset);
  const count = n ?? test.count;
  if (count > test.count)
    throw new UserError(`${why} is more than the ${test.count} held-out images of "${dataset}"`);
  const dims = test.height * test.width * test.channels;
  return test.images.subarray(0, count * dims);
}

export async function evaluateVaeCheckpoint(
  o: VaeEvalOptions,
  state: VaeTrainingState,
): Promise<Record<string, unknown>> {
  const k = parseIntOption('--k', o.k, { min: 1, max: 1_000_000 });
  const n = o.n === undefined ? undefined : parseIntOption('--n', o.n, { min: 1, max: 1_000_000 });
  const rows = parseIntOption('--rows', o.rows, { min: 1, max: 100_000 });
  const seed = parseIntOption('--seed', o.seed);
  const threads =
    o.threads === undefined ? undefined : parseIntOption('--threads', o.threads, { min: 1, max: 64 });
  const config = state.meta.config;
  const images = heldOutImages(config.dataset, n);
  return withEngine(threads, (ctx) => {
    const vae = loadVaeAt(ctx, o.checkpoint, state);
    const count = images.length / vae.dims;
    const total = count * k;
    const progress = startProgress('iwae', total, 0, Math.max(rows, Math.ceil(total / 20)));
    const t0 = performance.now();
    const ev = vae.bound({ images, seed, k, rowsPerPass: rows, onProgress: (done) => progress.update(done) });
    progress.stop();
    const seconds = (performance.now() - t0) / 1000;
    const s = summarizeVaeEvaluation(ev);
    vae.dispose();
    return {
      checkpoint: o.checkpoint,
      model: 'vae',
      dataset: config.dataset,
      step: state.meta.step,
      weights: 'ema',
      binarization:
        config.binarize === 'dynamic' ? `test images binarised once (Bernoulli draw, seed ${seed})` : 'none',
      elbo_nats: s.elbo.mean,
      elbo_se: s.elbo.stdError,
      nll_nats: s.nll.mean,
      nll_se: s.nll.stdError,
      reconstruction_nats: s.reconstruction.mean,
      reconstruction_se: s.reconstruction.stdError,
      kl_nats: s.kl.mean,
      kl_se: s.kl.stdError,
      k,
      n: count,
      seconds,
    };
  });
}
