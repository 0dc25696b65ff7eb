/**
 * Learned variances in the trainer ([ND21] §3): a fixed-variance checkpoint grows into a learned-variance network
 * whose mean output is the old one bit for bit; L_hybrid and L_vlb runs (with the importance sampler's state)
 * resume bit for bit; an explicit 'simple' objective is the L_simple path unchanged.
 */
import { describe, expect, it } from 'vitest';
import { toy2d } from '../src/data/toy2d.js';
import { GROWN_VARIANCE_V } from '../src/train/warmStart.js';
import { Rng, type RngState } from '../src/random/rng.js';
import { decodeTrainingState, encodeTrainingState } from '../src/train/checkpoint.js';
import { type BatchSource, type DdpmConfig, DdpmTrainer } from '../src/train/ddpm.js';
import { startTestEngine } from './helpers/engine.js';

const { ctx } = await startTestEngine({ threads: 2 });

class Moons implements BatchSource {
  rng = Rng.fromSeed(9);
  next(n: number) {
    return toy2d('two-moons', n, this.rng);
  }
  getState() {
    return this.rng.state();
  }
  setState(s: unknown) {
    this.rng = Rng.fromState(s as RngState);
  }
}

/** 8-bit 8×8 images in [−1, 1]. */
class Pixels implements BatchSource {
  rng = Rng.fromSeed(10);
  next(n: number) {
    return Float32Array.from({ length: n * 64 }, () => this.rng.int(256) / 127.5 - 1);
  }
  getState() {
    return this.rng.state();
  }
  setState(s: unknown) {
    this.rng = Rng.fromState(s as RngState);
  }
}

const MLP: DdpmConfig = {
  dataset: 'two-moons',
  dataShape: [2],
  model: { kind: 'mlp', mlp: { dims: 2, hidden: 32, layers: 2, timeEmbeddingDim: 16 } },
  schedule: 'linear',
  T: 20,
  prediction: 'eps',
  batchSize: 32,
  lr: 1e-3,
  warmupSteps: 5,
  gradClip: 1,
  emaDecay: 0.99,
  seed: 4,
};

const UNET: DdpmConfig = {
  ...MLP,
  dataset: 'pixels',
  dataShape: [8, 8, 1],
  model: {
    kind: 'unet',
    unet: { imageChannels: 1, channels: [8, 16], timeEmbeddingDim: 16, timeHiddenDim: 32, groups: 4 },
  },
  T: 100,
  batchSize: 4,
};

const HYBRID = { variance: 'learned-range', objective: { kind: 'hybrid', vlbWeight: 0.001 } } as const;
const VLB = { variance: 'learned-range', objective: { kind: 'vlb' } } as const;
const params = (t: DdpmTrainer) => t.exportState().tensors;

describe('learned variances in DdpmTrainer', () => {
  it('warm start: the grown UNet outputs the old mean bit for bit and v = −1 (Σ = β̃) everywhere', () => {
    const fixed = new DdpmTrainer(ctx, UNET, new Pixels());
    for (let i = 0; i < 3; i++) fixed.trainStep();
    const tensors = fixed.exportState().tensors;
    const grown = new DdpmTrainer(ctx, { ...UNET, ...HYBRID, seed: 5 }, new Pixels());
    const xt = Rng.fromSeed(1).fillNormal(new Float64Array(2 * 64));
    const before = grown.batchModel()(xt, 30);
    const report = grown.warmStartFrom(tensors);
    expect(report.newBlocks).toEqual([]);
    const old = fixed.batchModel()(xt, 30);
    for (const ema of [true, false]) {
      const out = grown.batchModel(ema)(xt, 30);
      expect(out.length).toBe(2 * old.length);
      expect(Array.from(out).slice(0, old.length)).toEqual(Array.from(old));
      expect(Array.from(out).slice(old.length)).toEqual(new Array(old.length).fill(GROWN_VARIANCE_V));
    }
    // Before the warm start the same network differs (so the checks above can fail).
    expect(Array.from(before).slice(0, old.length)).not.toEqual(Array.from(old));
    // Training moves v: the new channels learn.
    for (let i = 0; i < 3; i++) grown.trainStep();
    const v = Array.from(grown.batchModel(false)(xt, 30)).slice(old.length);
    expect(v.some((x) => x !== GROWN_VARIANCE_V)).toBe(true);
    fixed.dispose();
    grown.dispose();
  });

  it('a learned-variance source warm-starts a learned-variance network unchanged', () => {
    const a = new DdpmTrainer(ctx, { ...UNET, ...HYBRID }, new Pixels());
    a.trainStep();
    const b = new DdpmTrainer(ctx, { ...UNET, ...HYBRID, seed: 9 }, new Pixels());
    b.warmStartFrom(a.exportState().tensors);
    const xt = Rng.fromSeed(2).fillNormal(new Float64Array(64));
    expect(Array.from(b.batchModel()(xt, 7))).toEqual(Array.from(a.batchModel()(xt, 7)));
    a.dispose();
    b.dispose();
  });

  it.each([
    ['hybrid', HYBRID],
    ['vlb', VLB],
  ] as const)('%s: 2N steps equal N steps, checkpoint, restore, N steps — bit for bit', (_, extra) => {
    const config = { ...MLP, ...extra };
    const N = 20; // T = 20, 32 draws a step: the importance sampler's histories fill within N steps
    const straight = new DdpmTrainer(ctx, config, new Moons());
    for (let i = 0; i < 2 * N; i++) straight.trainStep();
    const first = new DdpmTrainer(ctx, config, new Moons());
    for (let i = 0; i < N; i++) first.trainStep();
    const state = first.exportState();
    if (extra.objective.kind === 'vlb') {
      const h = state.meta.timestepSampler!.history;
      expect(h.every((x) => x.length === 10)).toBe(true); // past the uniform phase
    } else {
      expect(state.meta.timestepSampler).toBeUndefined();
    }
    const resumed = DdpmTrainer.restore(ctx, decodeTrainingState(encodeTrainingState(state)), new Moons());
    first.dispose();
    for (let i = 0; i < N; i++) resumed.trainStep();
    const a = params(straight);
    const b = params(resumed);
    for (const [name, t] of a) expect(b.get(name)!.data, name).toEqual(t.data);
    expect(resumed.exportState().meta.timestepSampler).toEqual(straight.exportState().meta.timestepSampler);
    straight.dispose();
    resumed.dispose();
  });

  it("objective 'simple' given explicitly is the L_simple path: the same weights bit for bit", () => {
    const plain = new DdpmTrainer(ctx, MLP, new Moons());
    const explicit = new DdpmTrainer(ctx, { ...MLP, objective: { kind: 'simple' } }, new Moons());
    for (let i = 0; i < 5; i++) expect(explicit.trainStep().loss).toBe(plain.trainStep().loss);
    for (const [name, v] of params(plain)) expect(params(explicit).get(name)!.data, name).toEqual(v.data);
    plain.dispose();
    explicit.dispose();
  });

  it('rejects inconsistent configs', () => {
    const make = (c: Partial<DdpmConfig>) => () => new DdpmTrainer(ctx, { ...MLP, ...c }, null);
    expect(make({ objective: { kind: 'hybrid', vlbWeight: 0.001 } })).toThrow(
      /needs variance 'learned-range'/,
    );
    expect(make({ variance: 'learned-range' })).toThrow(/no gradient from L_simple/);
    expect(make({ ...HYBRID, objective: { kind: 'hybrid', vlbWeight: 0 } })).toThrow(/vlbWeight/);
    expect(make({ ...VLB, lossWeighting: { kind: 'min-snr', gamma: 5 } })).toThrow(/no loss weighting/);
    expect(make({ variance: 'learned' as never })).toThrow(/variance must be one of/);
  });
});
