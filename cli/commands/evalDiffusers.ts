/**
 * `elbo eval --checkpoint DIR --data NAME|DIR` for a diffusers UNet2DModel folder: the negative ELBO in bits per
 * dimension on the first --nll-n held-out images of the data (the full chain: prior KL, every L_{t−1}, the
 * discretized decoder L_0), through loadDiffusionModel's bound() — a number diffusers itself does not compute.
 * Sample-quality metrics need elbo's classifier for the data set and are left to elbo checkpoints.
 */
import { natsToBitsPerDim } from '../../src/math/units.js';
import { loadDiffusionModel } from '../../src/pipeline/index.js';
import { loadDataset } from '../data.js';
import { withEngine } from '../engine.js';
import { readDiffusersFolder } from '../modelSource.js';
import { parseIntOption } from '../options.js';
import { startProgress } from '../progress.js';
import { UserError } from '../userError.js';

export interface DiffusersEvalOptions {
  checkpoint: string;
  data?: string;
  nllN: string;
  nllTerms: string;
  seed: string;
  threads?: string;
}

export async function evaluateDiffusersFolder(o: DiffusersEvalOptions): Promise<Record<string, unknown>> {
  if (!o.data)
    throw new UserError(
      `${o.checkpoint} is a diffusers folder: give the held-out data with --data (mnist, fashion-mnist or a PNG folder)`,
    );
  const folder = readDiffusersFolder(o.checkpoint);
  const seed = parseIntOption('--seed', o.seed);
  const nllN = parseIntOption('--nll-n', o.nllN, { min: 1, max: 100000 });
  const threads =
    o.threads === undefined ? undefined : parseIntOption('--threads', o.threads, { min: 1, max: 64 });
  const { test } = loadDataset(o.data);
  return withEngine(threads, (ctx) => {
    let model;
    try {
      model = loadDiffusionModel(ctx, folder);
    } catch (err) {
      throw new UserError(`${o.checkpoint}: ${(err as Error).message}`);
    }
    const T = model.schedule.T;
    const terms =
      o.nllTerms === 'all'
        ? ('all' as const)
        : { strata: parseIntOption('--nll-terms', o.nllTerms, { min: 1, max: T - 1 }) };
    const shape = [test.height, test.width, test.channels];
    if (shape.join() !== model.dataShape.join())
      throw new UserError(
        `--data ${o.data} has ${shape.join('×')} images; the model takes ${model.dataShape.join('×')}`,
      );
    if (nllN > test.count)
      throw new UserError(`--nll-n ${nllN} is more than the ${test.count} held-out images`);
    const dims = model.dims;
    const progress = startProgress('bound', T, 0, Math.max(1, Math.floor(T / 20)));
    let r;
    try {
      r = model.bound({
        images: Float64Array.from(test.images.subarray(0, nllN * dims)),
        seed,
        terms,
        onTerm: (done) => progress.update(Math.min(done, T)),
      });
    } catch (err) {
      throw new UserError(`${o.checkpoint}: ${(err as Error).message}`);
    } finally {
      progress.stop();
    }
    const mean = r.total.reduce((a, v) => a + v, 0) / nllN;
    const se = Math.sqrt(r.total.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, nllN - 1) / nllN);
    const bpd = (nats: number) => natsToBitsPerDim(nats, dims);
    const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
    model.dispose();
    return {
      checkpoint: o.checkpoint,
      dataset: o.data,
      nll_bpd: bpd(mean),
      nll_se: bpd(se),
      nll_n: nllN,
      nll_terms: terms === 'all' ? 'all' : `${terms.strata} stratified`,
      prior_bpd: bpd(sum(r.prior) / nllN),
      decoder_bpd: bpd(sum(r.decoder) / nllN),
      variance: model.variance === 'beta' ? 'β_t (fixed_large)' : 'posterior (β̃_t, fixed_small)',
    };
  });
}
