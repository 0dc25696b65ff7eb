/**
 * The pipeline without a trainer agrees with the trainer path it replaces in `elbo sample`/`elbo eval` and the
 * playground, bit for bit: loadDiffusionModel on a learned-variance 2-D checkpoint (network, the ancestral chain with
 * Σ_θ, the bound with Σ_θ and with β̃_t, one random stream shared by bound and samples), its raw weights, and loadVae
 * on the shipped MNIST VAE (samples, q(z|x), decoder means, ELBO and L_k).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toy2d } from '../src/data/toy2d.js';
import { meanOutputs } from '../src/diffusion/learnedVariance.js';
import { estimateNegativeElbo, nllBatches } from '../src/diffusion/vlb.js';
import { loadDiffusionModel, loadVae } from '../src/pipeline/index.js';
import { Rng } from '../src/random/rng.js';
import { sampleInBatches, type SamplerConfig } from '../src/samplers/index.js';
import { decodeTrainingState, encodeTrainingState } from '../src/train/checkpoint.js';
import { type DdpmConfig, DdpmTrainer } from '../src/train/ddpm.js';
import { emaOnlyState } from '../src/train/emaWeights.js';
import { evaluateVae } from '../src/vae/evaluate.js';
import { decoderMeans, posteriorMeans } from '../src/vae/pictures.js';
import { decoderTargets, VaeTrainer } from '../src/vae/trainer.js';
import { SeededBatches } from './helpers/batchSources.js';
import { startTestEngine } from './helpers/engine.js';
import { TINY_MOONS_DDPM } from './helpers/tinyDdpm.js';

const { ctx } = await startTestEngine({ threads: 2 });

const LEARNED_2D: DdpmConfig = {
  ...TINY_MOONS_DDPM,
  variance: 'learned-range',
  objective: { kind: 'hybrid', vlbWeight: 0.001 },
};

/** A learned-variance 2-D trainer after a few steps (raw and EMA weights differ) and its checkpoint bytes. */
function trained() {
  const trainer = new DdpmTrainer(
    ctx,
    LEARNED_2D,
    new SeededBatches(9, (n, rng) => toy2d('two-moons', n, rng)),
  );
  for (let i = 0; i < 6; i++) trainer.trainStep();
  return { trainer, bytes: encodeTrainingState(trainer.exportState()) };
}

describe('loadDiffusionModel on an elbo checkpoint = the trainer path', () => {
  it('learned variances on 2-D data: network, ancestral Σ_θ chain, bound with Σ_θ and with β̃_t', () => {
    const { trainer, bytes } = trained();
    const model = loadDiffusionModel(ctx, bytes);
    try {
      expect([model.variance, model.dataKind, model.dataShape, model.trainingSteps]).toEqual([
        'learnedRange',
        'continuous',
        [2],
        6,
      ]);
      expect(model.training).toEqual({ dataset: 'two-moons', step: 6 });
      const x = Rng.fromSeed(1).fillNormal(new Float64Array(10));
      const out = model.network(x, 7);
      expect(out).toHaveLength(20); // the means, then the learned-range values
      expect(out).toEqual(trainer.batchModel(true)(x, 7));

      const sampler: SamplerConfig = {
        kind: 'ancestral',
        steps: 20,
        variance: 'learned-range',
        meanFrom: 'eps',
        clip: false,
      };
      const mine = model.sample({ n: 70, sampler, seed: 3, batchSize: 64 });
      const theirs = sampleInBatches(trainer.schedule, trainer.batchModel(true), {
        n: 70,
        dims: 2,
        prediction: 'eps',
        sampler,
        rng: Rng.fromSeed(3),
      });
      expect(mine.x).toEqual(theirs.x);

      const images = Float64Array.from(toy2d('two-moons', 5, Rng.fromSeed(8)));
      const terms = { strata: 6, spacing: 'log' } as const;
      const options = { prediction: 'eps', data: 'continuous', terms } as const;
      const bound = (variance: 'learned-range' | 'posterior') =>
        estimateNegativeElbo(
          trainer.schedule,
          variance === 'learned-range' ? trainer.batchModel(true) : meanOutputs(trainer.batchModel(true)),
          images,
          5,
          nllBatches(5, terms),
          Rng.fromSeed(2),
          { ...options, variance },
        );
      const own = model.estimateBound({ images, seed: 2, terms });
      expect(own.variance).toBe('learned-range');
      expect(own.mean).toBe(bound('learned-range').mean);
      expect(own.perT).toEqual(bound('learned-range').perT);
      const fixed = model.estimateBound({ images, seed: 2, terms, variance: 'posterior' });
      expect([fixed.variance, fixed.mean, fixed.se]).toEqual([
        'posterior',
        bound('posterior').mean,
        bound('posterior').se,
      ]);
      expect(fixed.mean).not.toBe(own.mean);
    } finally {
      model.dispose();
      trainer.dispose();
    }
  });

  it('a generator as the seed continues one stream: bound, then samples, as `elbo eval` draws them', () => {
    const { trainer, bytes } = trained();
    const model = loadDiffusionModel(ctx, bytes);
    try {
      const images = Float64Array.from(toy2d('two-moons', 3, Rng.fromSeed(8)));
      const sampler: SamplerConfig = { kind: 'ddim', steps: 5, eta: 1, clip: false };
      const shared = Rng.fromSeed(11);
      model.estimateBound({ images, seed: shared, terms: { strata: 4 } });
      const mine = model.sample({ n: 4, sampler, seed: shared });
      const rng = Rng.fromSeed(11);
      estimateNegativeElbo(
        trainer.schedule,
        trainer.batchModel(true),
        images,
        3,
        nllBatches(3, { strata: 4 }),
        rng,
        {
          prediction: 'eps',
          variance: 'learned-range',
          data: 'continuous',
          terms: { strata: 4 },
        },
      );
      const theirs = sampleInBatches(trainer.schedule, trainer.batchModel(true), {
        n: 4,
        dims: 2,
        prediction: 'eps',
        sampler,
        rng,
      });
      expect(mine.x).toEqual(theirs.x);
      // A number starts afresh: not the continued stream.
      expect(model.sample({ n: 4, sampler, seed: 11 }).x).not.toEqual(mine.x);
    } finally {
      model.dispose();
      trainer.dispose();
    }
  });

  it("raw weights are the trainer's raw network; an EMA-only file has none; a VAE is not a diffusion model", () => {
    const { trainer, bytes } = trained();
    const raw = loadDiffusionModel(ctx, bytes, { weights: 'raw' });
    try {
      const x = Rng.fromSeed(5).fillNormal(new Float64Array(6));
      expect(raw.network(x, 3)).toEqual(trainer.batchModel(false)(x, 3));
      expect(raw.network(x, 3)).not.toEqual(trainer.batchModel(true)(x, 3));
      // A training checkpoint is checked whole, as a trainer's restore checks it: a raw tensor missing is refused
      // even when the EMA weights are read.
      const damaged = decodeTrainingState(bytes, 'ddpm');
      const [raw0] = [...damaged.tensors.keys()].filter((k) => k.startsWith('model.'));
      damaged.tensors.delete(raw0);
      expect(() => loadDiffusionModel(ctx, damaged)).toThrow(`checkpoint has no tensor "${raw0}"`);
      const emaOnly = emaOnlyState(decodeTrainingState(bytes, 'ddpm'));
      expect(() => loadDiffusionModel(ctx, emaOnly, { weights: 'raw' })).toThrow(
        /holds only the EMA weights \(ema\.\*\), not the raw ones/,
      );
      // A tensor of another model under ema.* is refused by name, not ignored.
      emaOnly.tensors.set('ema.extra.weight', { shape: [1], data: Float32Array.of(0) });
      expect(() => loadDiffusionModel(ctx, emaOnly)).toThrow(
        /tensors the model does not: "ema\.extra\.weight"/,
      );
      const vae = new Uint8Array(
        readFileSync(new URL('../checkpoints/mnist-vae.safetensors', import.meta.url)),
      );
      expect(() => loadDiffusionModel(ctx, vae)).toThrow(/this is a vae checkpoint, not a diffusion model/);
    } finally {
      raw.dispose();
      trainer.dispose();
    }
  });
});

describe('loadVae on checkpoints/mnist-vae.safetensors = the trainer path', () => {
  const bytes = new Uint8Array(
    readFileSync(new URL('../checkpoints/mnist-vae.safetensors', import.meta.url)),
  );

  it('samples, q(z|x), decoder means, the ELBO and L_k; raw weights; a DDPM checkpoint is refused', () => {
    const state = decodeTrainingState(bytes, 'vae');
    const trainer = VaeTrainer.restore(ctx, state, null);
    const vae = loadVae(ctx, bytes);
    const raw = loadVae(ctx, state, { weights: 'raw' });
    try {
      expect([vae.latentDim, vae.dataShape, vae.dims, vae.trainingSteps]).toEqual([
        50,
        [28, 28, 1],
        784,
        120000,
      ]);
      const net = trainer.net(true);
      // Samples: z ~ N(0, I) from the seed, decoded, as `elbo sample` drew them through the trainer.
      const z = Rng.fromSeed(6).fillNormal(new Float32Array(5 * 50));
      expect(vae.sample({ n: 5, seed: 6 })).toEqual(decoderMeans(net, z, 5));
      expect(vae.decode(z)).toEqual(decoderMeans(net, z, 5));
      expect(raw.decode(z)).toEqual(decoderMeans(trainer.net(false), z, 5));
      expect(raw.decode(z)).not.toEqual(vae.decode(z));

      const images = Float32Array.from({ length: 3 * 784 }, (_, i) => ((i * 37) % 256) / 127.5 - 1);
      const targets = vae.decoderTargets(images, 4);
      expect(targets).toEqual(decoderTargets(state.meta.config, images, Rng.fromSeed(4)));
      const q = vae.encode(targets);
      expect(q.mean).toEqual(posteriorMeans(net, targets, 3));
      expect(q.logVar).toHaveLength(3 * 50);
      expect(q.logVar.every((v) => Number.isFinite(v))).toBe(true);

      const mine = vae.bound({ images, seed: 4, k: 7 });
      const theirs = evaluateVae(net, targets, 3, 7, Rng.fromSeed(5));
      expect(mine.elbo).toEqual(theirs.elbo);
      expect(mine.iwae).toEqual(theirs.iwae);
      // L_k ≥ the ELBO's k-sample estimate (Jensen), per image.
      for (let i = 0; i < 3; i++) expect(mine.iwae[i]).toBeGreaterThanOrEqual(mine.elbo[i]);

      const ddpm = new Uint8Array(
        readFileSync(new URL('../checkpoints/mnist-ddpm.safetensors', import.meta.url)),
      );
      expect(() => loadVae(ctx, ddpm)).toThrow(/^expected a VAE checkpoint, but this is a DDPM checkpoint$/);
    } finally {
      vae.dispose();
      raw.dispose();
      trainer.dispose();
    }
  });
});
