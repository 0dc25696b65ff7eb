/**
 * The VAE trainer as a library, on small synthetic images (8×8 bars, so no data files are needed): exact resume
 * through a safetensors checkpoint, the ELBO improving for the MLP and the convolutional variants, KL warm-up and
 * learning-rate schedule, the NaN guard, and clear errors for bad configs and foreign checkpoints.
 */
import { describe, expect, it } from 'vitest';
import { Rng, type RngState } from '../src/random/rng.js';
import { decodeTrainingState, encodeTrainingState } from '../src/train/checkpoint.js';
import type { BatchSource } from '../src/train/ddpm.js';
import { NonFiniteError } from '../src/train/gradients.js';
import { type VaeConfig, validateVaeConfig } from '../src/vae/config.js';
import { evaluateVae } from '../src/vae/evaluate.js';
import { klWeightAt, vaeLearningRate, VaeTrainer, type VaeTrainingState } from '../src/vae/trainer.js';
import { startTestEngine } from './helpers/engine.js';

const { ctx } = await startTestEngine({ threads: 1 });

/** 8×8 images in [−1, 1]: one bright horizontal or vertical bar at a random position, on black. */
class Bars implements BatchSource {
  rng = Rng.fromSeed(9);
  next(n: number): Float32Array {
    const out = new Float32Array(n * 64).fill(-1);
    for (let b = 0; b < n; b++) {
      const pos = this.rng.int(8);
      const vertical = this.rng.uniform() < 0.5;
      for (let k = 0; k < 8; k++) out[b * 64 + (vertical ? k * 8 + pos : pos * 8 + k)] = 0.9;
    }
    return out;
  }
  getState() {
    return this.rng.state();
  }
  setState(s: unknown) {
    this.rng = Rng.fromState(s as RngState);
  }
}

const config: VaeConfig = {
  dataset: 'bars',
  dataShape: [8, 8, 1],
  latentDim: 4,
  architecture: { kind: 'mlp', hidden: [32, 32], activation: 'tanh' },
  likelihood: { kind: 'bernoulli' },
  binarize: 'dynamic',
  batchSize: 32,
  lr: 3e-3,
  warmupSteps: 5,
  lrHalfLife: 0,
  klWarmupSteps: 20,
  gradClip: 0,
  emaDecay: 0.99,
  seed: 4,
};

const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

describe('VaeTrainer', () => {
  it('2N steps equal N steps, checkpoint, restore, N steps — bit for bit', () => {
    const straight = new VaeTrainer(ctx, config, new Bars());
    for (let i = 0; i < 20; i++) straight.trainStep();
    const first = new VaeTrainer(ctx, config, new Bars());
    for (let i = 0; i < 10; i++) first.trainStep();
    const bytes = encodeTrainingState(first.exportState());
    first.dispose();
    const state = decodeTrainingState(bytes, 'vae');
    expect(state.meta.kind).toBe('vae');
    const resumed = VaeTrainer.restore(ctx, state, new Bars());
    expect(resumed.step).toBe(10);
    for (let i = 0; i < 10; i++) resumed.trainStep();
    const a = straight.exportState().tensors;
    const b = resumed.exportState().tensors;
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, t] of a) expect(b.get(name)!.data, name).toEqual(t.data);
    expect(resumed.exportState().meta.rng).toEqual(straight.exportState().meta.rng);
    straight.dispose();
    resumed.dispose();
  });

  it.each([
    ['mlp', config],
    [
      'conv',
      {
        ...config,
        architecture: { kind: 'conv', channels: [8, 8], hidden: 32, activation: 'relu' },
        lr: 2e-3,
      } satisfies VaeConfig,
    ],
    [
      'mlp, Gaussian decoder on grey levels',
      {
        ...config,
        likelihood: { kind: 'gaussian', logVar: Math.log(0.1) },
        binarize: 'none',
      } satisfies VaeConfig,
    ],
  ] as const)('the ELBO improves in 300 steps (%s)', (_name, c) => {
    const t = new VaeTrainer(ctx, c, new Bars());
    const elbos: number[] = [];
    for (let i = 0; i < 300; i++) {
      const r = t.trainStep();
      elbos.push(r.elbo);
      expect(r.elbo).toBeCloseTo(r.reconstruction - r.kl, 3);
    }
    const early = mean(elbos.slice(0, 20));
    const late = mean(elbos.slice(-50));
    console.info(`${_name}: ELBO first 20 steps ${early.toFixed(2)}, last 50 ${late.toFixed(2)} nats`);
    // Bars carry at most log2(16) = 4 bits of information: a trained model gains tens of nats per image.
    expect(late).toBeGreaterThan(early + 10);
    t.dispose();
  });

  it('frees every temporary: live heap bytes stay flat from step to step (training and evaluation)', () => {
    const t = new VaeTrainer(ctx, config, new Bars());
    t.trainStep();
    const before = ctx.liveBytes;
    for (let i = 0; i < 5; i++) t.trainStep();
    expect(ctx.liveBytes).toBe(before);
    evaluateVae(
      t.net(),
      new Bars().next(4).map((v) => (v > 0 ? 1 : 0)),
      4,
      30,
      Rng.fromSeed(1),
      { rowsPerPass: 16 },
    );
    expect(ctx.liveBytes).toBe(before);
    t.dispose();
  });

  it('KL warm-up and the learning-rate schedule', () => {
    expect(klWeightAt(0, 0)).toBe(1);
    expect(klWeightAt(0, 10)).toBe(0.1);
    expect(klWeightAt(9, 10)).toBe(1);
    expect(klWeightAt(50, 10)).toBe(1);
    const c = { ...config, warmupSteps: 0, lrHalfLife: 100 };
    expect(vaeLearningRate(c, 0)).toBe(3e-3);
    expect(vaeLearningRate(c, 100)).toBeCloseTo(1.5e-3, 15);
    expect(vaeLearningRate({ ...config, lrHalfLife: 0 }, 0)).toBeCloseTo(3e-3 / 5, 15);
  });

  it('stops with the step named when the loss becomes NaN, before touching the weights', () => {
    const bad: BatchSource = {
      next: (n) => new Float32Array(64 * n).fill(Number.NaN),
      getState: () => null,
      setState: () => {},
    };
    const t = new VaeTrainer(
      ctx,
      { ...config, likelihood: { kind: 'gaussian', logVar: 0 }, binarize: 'none' },
      bad,
    );
    const before = t.exportState().tensors;
    expect(() => t.trainStep()).toThrow(NonFiniteError);
    expect(() => t.trainStep()).toThrow(/step 1/);
    for (const [name, v] of t.exportState().tensors) expect(v.data, name).toEqual(before.get(name)!.data);
    t.dispose();
  });

  it('refuses bad configs and checkpoints of another architecture with clear messages', () => {
    expect(() => validateVaeConfig({ ...config, latentDim: 0 })).toThrow(
      /latentDim must be a positive integer/,
    );
    expect(() => validateVaeConfig({ ...config, likelihood: { kind: 'gaussian', logVar: 0 } })).toThrow(
      /dynamic binarisation goes with the Bernoulli decoder/,
    );
    expect(() =>
      validateVaeConfig({
        ...config,
        dataShape: [6, 6, 1],
        architecture: { kind: 'conv', channels: [4, 4], hidden: 8, activation: 'tanh' },
      }),
    ).toThrow(/divisible by 4/);
    const t = new VaeTrainer(ctx, config, null);
    expect(() => t.trainStep()).toThrow(/no data source/);
    const state = t.exportState();
    t.dispose();
    state.meta.config = { ...config, architecture: { kind: 'mlp', hidden: [32, 16], activation: 'tanh' } };
    expect(() => VaeTrainer.restore(ctx, state, null)).toThrow(/shape \[.*\], the model needs/);
    const ddpmLike = { ...state, meta: { ...state.meta, kind: 'ddpm' } } as unknown as VaeTrainingState;
    expect(() => VaeTrainer.restore(ctx, ddpmLike, null)).toThrow(/expected a VAE checkpoint/);
  });
});
