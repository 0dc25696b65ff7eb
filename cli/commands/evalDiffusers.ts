/**
 * `elbo eval --checkpoint DIR --data NAME|DIR` for a diffusers UNet2DModel folder: the negative ELBO in bits per
 * dimension on the first --nll-n held-out images of the data (the full chain: prior KL, every L_{t−1}, the
 * discretized decoder L_0), through loadDiffusionModel's bound() — a number diffusers itself does not compute.
 * Sample-quality metrics need elbo's classifier for the data set and are left to elbo checkpoints.
 */
import { estimateNegativeElbo, nllBatches, parseStrataSpacing } from '../../src/diffusion/vlb.js';
import { natsToBitsPerDim } from '../../src/math/units.js';
import { reverseVarianceOf } from '../../src/interop/diffusers/scheduler.js';
import { Rng } from '../../src/random/rng.js';
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
  nllSpacing: string;
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
        : {
            strata: parseIntOption('--nll-terms', o.nllTerms, { min: 1, max: T - 1 }),
            spacing: parseStrataSpacing(o.nllSpacing),
          };
    const shape = [test.height, test.width, test.channels];
    if (shape.join() !== model.dataShape.join())
      throw new UserError(
        `--data ${o.data} has ${shape.join('×')} images; the model takes ${model.dataShape.join('×')}`,
      );
    if (nllN > test.count)
      throw new UserError(`--nll-n ${nllN} is more than the ${test.count} held-out images`);
    const dims = model.dims;
    // The same estimator, data and random draws as an elbo checkpoint's bound (cli/commands/eval.ts).
    const batches = nllBatches(nllN, terms);
    const progress = startProgress('bound', batches, 0, 1);
    let r;
    try {
      r = estimateNegativeElbo(
        model.schedule,
        model.network,
        Float64Array.from(test.images.subarray(0, nllN * dims)),
        nllN,
        batches,
        Rng.fromSeed(seed),
        {
          prediction: model.prediction,
          variance: reverseVarianceOf(model.variance),
          data: 'discrete8bit',
          terms,
          onBatch: (done) => progress.update(done),
        },
      );
    } catch (err) {
      throw new UserError(`${o.checkpoint}: ${(err as Error).message}`);
    } finally {
      progress.stop();
    }
    const bpd = (nats: number) => natsToBitsPerDim(nats, dims);
    model.dispose();
    return {
      checkpoint: o.checkpoint,
      dataset: o.data,
      nll_bpd: bpd(r.mean),
      nll_bpd_se: bpd(r.se),
      nll_n: nllN,
      nll_terms: terms === 'all' ? 'all' : `${terms.strata} stratified (${terms.spacing})`,
      prior_bpd: bpd(r.prior),
      decoder_bpd: bpd(r.decoder),
      diffusion_bpd: bpd(r.mean - r.prior - r.decoder),
      variance: {
        beta: 'β_t (fixed_large)',
        posterior: 'posterior (β̃_t, fixed_small)',
        learnedRange: 'Σ_θ (learned_range)',
      }[model.variance],
    };
  });
}
