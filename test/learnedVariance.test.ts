/**
 * Learned variances in the trainer ([ND21] §3): a fixed-variance checkpoint grows into a learned-variance network
 * whose mean output is the old one bit for bit; L_hybrid and L_vlb runs (with the importance sampler's state)
 * resume bit for bit; an explicit 'simple' objective is the L_simple path unchanged.
 */
import { describe, expect, it } from 'vitest';
import { toy2d } from '../src/data/toy2d.js';
import { meanOutputs } from '../src/diffusion/learnedVariance.js';
import { estimateNegativeElbo } from '../src/diffusion/vlb.js';
import { diffusersConfigForImages } from '../src/interop/diffusers/export.js';
import { GROWN_VARIANCE_V } from '../src/train/warmStart.js';
import { Rng } from '../src/random/rng.js';
import { decodeTrainingState, encodeTrainingState } from '../src/train/checkpoint.js';
import { type DdpmConfig, DdpmTrainer } from '../src/train/ddpm.js';
import { SeededBatches } from './helpers/batchSources.js';
import { relativeL2, startTestEngine } from './helpers/engine.js';
import { MOONS_MLP_DDPM } from './helpers/tinyDdpm.js';

const { ctx } = await startTestEngine({ threads: 2 });

const moons = () => new SeededBatches(9, (n, rng) => toy2d('two-moons', n, rng));
/** 8-bit 8×8 images in [−1, 1]. */
const pixels = () =>
  new SeededBatches(10, (n, rng) => Float32Array.from({ length: n * 64 }, () => rng.int(256) / 127.5 - 1));
/** x0 ~ N(μ, s²) in one dimension. */
const gaussianPoints = (mu: number, s: number, seed = 21) =>
  new SeededBatches(seed, (n, rng) => Float32Array.from(rng.fillNormal(new Float64Array(n), mu, s)));

const MLP: DdpmConfig = { ...MOONS_MLP_DDPM, T: 20 };

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
    const fixed = new DdpmTrainer(ctx, UNET, pixels());
    for (let i = 0; i < 3; i++) fixed.trainStep();
    const tensors = fixed.exportState().tensors;
    const grown = new DdpmTrainer(ctx, { ...UNET, ...HYBRID, seed: 5 }, pixels());
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

  it("warm start of diffusers' UNet2DModel: conv_out grows from C to 2C, the same means, v = −1", () => {
    const arch = (learnedVariance: boolean) =>
      diffusersConfigForImages({
        height: 8,
        width: 8,
        imageChannels: 1,
        channels: [8, 16],
        layersPerBlock: 1,
        attentionLevels: [1],
        groups: 4,
        learnedVariance,
      });
    const DIFFUSERS: DdpmConfig = { ...UNET, model: { kind: 'diffusers', diffusers: arch(false) } };
    const fixed = new DdpmTrainer(ctx, DIFFUSERS, pixels());
    for (let i = 0; i < 3; i++) fixed.trainStep();
    const learned = { ...DIFFUSERS, ...HYBRID, model: { kind: 'diffusers', diffusers: arch(true) } } as const;
    const grown = new DdpmTrainer(ctx, { ...learned, seed: 5 }, pixels());
    const report = grown.warmStartFrom(fixed.exportState().tensors);
    expect([report.newBlocks, report.newVarianceOutputs]).toEqual([[], ['conv_out (v channels)']]);
    const xt = Rng.fromSeed(1).fillNormal(new Float64Array(2 * 64));
    const old = fixed.batchModel()(xt, 30);
    const out = grown.batchModel()(xt, 30);
    // The same weights, but the engine's float32 convolution sums a 2C-wide output in another order than a C-wide
    // one: equal to float32 rounding (relative 1e-7), not bit for bit as with elbo's separate conv_out_var.
    expect(relativeL2(Array.from(out).slice(0, old.length), old)).toBeLessThan(1e-6);
    expect(Array.from(out).slice(old.length)).toEqual(new Array(old.length).fill(GROWN_VARIANCE_V));
    for (let i = 0; i < 3; i++) grown.trainStep();
    const v = Array.from(grown.batchModel(false)(xt, 30)).slice(old.length);
    expect(v.some((x) => x !== GROWN_VARIANCE_V)).toBe(true);
    fixed.dispose();
    grown.dispose();
  });

  it('a learned-variance source warm-starts a learned-variance network unchanged', () => {
    const a = new DdpmTrainer(ctx, { ...UNET, ...HYBRID }, pixels());
    a.trainStep();
    const b = new DdpmTrainer(ctx, { ...UNET, ...HYBRID, seed: 9 }, pixels());
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
    const straight = new DdpmTrainer(ctx, config, moons());
    for (let i = 0; i < 2 * N; i++) straight.trainStep();
    const first = new DdpmTrainer(ctx, config, moons());
    for (let i = 0; i < N; i++) first.trainStep();
    const state = first.exportState();
    if (extra.objective.kind === 'vlb') {
      const h = state.meta.timestepSampler!.history;
      expect(h.every((x) => x.length === 10)).toBe(true); // past the uniform phase
    } else {
      expect(state.meta.timestepSampler).toBeUndefined();
    }
    const resumed = DdpmTrainer.restore(
      ctx,
      decodeTrainingState(encodeTrainingState(state), 'ddpm'),
      moons(),
    );
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
    const plain = new DdpmTrainer(ctx, MLP, moons());
    const explicit = new DdpmTrainer(ctx, { ...MLP, objective: { kind: 'simple' } }, moons());
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

describe('L_vlb on Gaussian data', () => {
  it('a small MLP trained on L_vlb closes > 80 % of the gap between the β̃ bound and the true NLL', () => {
    const MU = 0.3;
    const S = 0.5;
    const STEPS_VLB = Number(process.env.STEPS_VLB ?? 300);
    const config: DdpmConfig = {
      ...MLP,
      dataset: 'gaussian',
      dataShape: [1],
      model: { kind: 'mlp', mlp: { dims: 1, hidden: 64, layers: 2, timeEmbeddingDim: 16 } },
      T: 100,
      batchSize: 128,
      lr: 2e-3,
      warmupSteps: 50,
      emaDecay: 0.99,
      ...VLB,
    };
    const trainer = new DdpmTrainer(ctx, config, gaussianPoints(MU, S));
    for (let i = 0; i < STEPS_VLB; i++) trainer.trainStep();
    const n = 1000;
    const x0 = gaussianPoints(MU, S, 99).next(n);
    const points = Float64Array.from(x0);
    const nll =
      points.reduce((a, x) => a + 0.5 * Math.log(2 * Math.PI * S * S) + (x - MU) ** 2 / (2 * S * S), 0) / n;
    const model = trainer.batchModel();
    const bound = (variance: 'learned-range' | 'posterior') =>
      estimateNegativeElbo(
        trainer.schedule,
        variance === 'learned-range' ? model : meanOutputs(model),
        points,
        n,
        1,
        Rng.fromSeed(5),
        { prediction: 'eps', variance, data: 'continuous', terms: 'all' },
      );
    const learned = bound('learned-range');
    const tilde = bound('posterior');
    const closed = (tilde.mean - learned.mean) / (tilde.mean - nll);
    console.info(
      `after ${STEPS_VLB} L_vlb steps: true NLL ${nll.toFixed(4)}, bound with β̃ ${tilde.mean.toFixed(4)} ± ${tilde.se.toFixed(4)}, ` +
        `with learned Σ ${learned.mean.toFixed(4)} ± ${learned.se.toFixed(4)} nats: ${(100 * closed).toFixed(1)} % of the gap closed`,
    );
    expect(learned.mean).toBeGreaterThan(nll - 4 * learned.se); // a bound stays a bound
    // Measured (T = 100, the linear schedule scaled): 91 % after these 300 steps of batch 128, 96 % after 400 of
    // batch 256, 99 % after 1,500. The
    // assertion leaves room for the shorter run's noise; an objective that left v untrained would close ≈ 0 %.
    expect(closed).toBeGreaterThan(0.8);
    trainer.dispose();
  });
});
