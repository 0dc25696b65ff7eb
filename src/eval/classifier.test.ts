import { describe, expect, it } from 'vitest';
import { startTestEngine } from '../../test/helpers/engine.js';
import { encodeSafetensors } from '../checkpoint/safetensors.js';
import type { ImageDataset } from '../data/images.js';
import { disposeModule } from '../nn/module.js';
import { Rng } from '../random/rng.js';
import { crossEntropy } from '../tensor/ops/pointwise.js';
import { Adam } from '../train/optim.js';
import {
  Classifier,
  type ClassifierConfig,
  classify,
  decodeClassifier,
  encodeClassifier,
  evaluateClassifier,
  featuresOf,
  MNIST_CLASSIFIER,
  randomShift,
  recognitionReport,
  trainClassifier,
} from './classifier.js';

const { ctx } = await startTestEngine({ threads: 1 });

/** A tiny architecture for fast optimisation tests: 8×8 → 4×4 → 2×2. */
const TINY: ClassifierConfig = {
  height: 8,
  width: 8,
  imageChannels: 1,
  channels: [4, 8],
  hidden: 16,
  classes: 3,
};

/**
 * n 8×8 images of three classes: a bright 3×3 blob near the top-left, the top-right or the bottom centre,
 * on a −1 background with a little noise (seeded).
 */
function blobs(n: number, seed: number): ImageDataset {
  const rng = Rng.fromSeed(seed);
  const images = rng.fillUniform(new Float32Array(n * 64), -1, -0.8);
  const labels = new Int32Array(n);
  const corners = [
    [1, 1],
    [1, 4],
    [4, 2],
  ];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    labels[i] = k;
    const [y0, x0] = corners[k];
    for (let y = y0; y < y0 + 3; y++) for (let x = x0; x < x0 + 3; x++) images[i * 64 + y * 8 + x] = 1;
  }
  return { name: 'blobs', images, labels, count: n, height: 8, width: 8, channels: 1 };
}

describe('Classifier', () => {
  it('has the documented shapes: 28×28×1 → features [N, 128] → logits [N, 10]', () => {
    const model = new Classifier(ctx, MNIST_CLASSIFIER, Rng.fromSeed(0));
    expect(model.flatSize).toBe(7 * 7 * 64);
    ctx.scope(() => {
      const x = ctx.fromArray(Rng.fromSeed(1).fillUniform(new Float32Array(2 * 784), -1, 1), [2, 28, 28, 1]);
      expect(model.features(x).shape).toEqual([2, 128]);
      expect(model.logits(x).shape).toEqual([2, 10]);
      expect(() => model.logits(ctx.zeros([2, 28, 27, 1]))).toThrow(/expected images \[N, 28, 28, 1\]/);
    });
    expect(model.namedParameters().map(([n]) => n)).toEqual([
      ...[0, 1, 2, 3].flatMap((i) => [`conv${i}.weight`, `conv${i}.bias`]),
      'fc.weight',
      'fc.bias',
      'head.weight',
      'head.bias',
    ]);
    disposeModule(model);
  });

  it('gradients reach every parameter and Adam lowers the loss on a fixed batch (20 steps: < ¼ of the start)', () => {
    const model = new Classifier(ctx, TINY, Rng.fromSeed(2));
    const data = blobs(12, 3);
    const opt = new Adam(ctx, model, { lr: 1e-2 });
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      opt.zeroGrad();
      losses.push(
        ctx.scope(() => {
          const l = crossEntropy(model.logits(ctx.fromArray(data.images, [12, 8, 8, 1])), data.labels!);
          ctx.backward(l);
          return l.item();
        }),
      );
      if (step === 0) {
        for (const [name, p] of model.namedParameters()) {
          const g = p.grad?.view() ?? new Float32Array(0);
          expect(
            g.some((v) => v !== 0),
            `gradient of ${name}`,
          ).toBe(true);
        }
      }
      opt.update();
    }
    expect(losses[0]).toBeGreaterThan(0.8); // ≈ ln 3 = 1.10 at initialisation
    expect(losses[19]).toBeLessThan(0.25 * losses[0]);
    opt.dispose();
    disposeModule(model);
  });

  it('trainClassifier learns a separable toy problem (test accuracy 1 on fresh images, seed 4)', () => {
    const progress: number[] = [];
    const { model, steps } = trainClassifier(
      ctx,
      blobs(96, 4),
      { epochs: 4, batchSize: 16, lr: 1e-2, maxShift: 1, seed: 4, config: TINY },
      (p) => progress.push(p.step),
    );
    expect(steps).toBe(24);
    expect(progress).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    const test = blobs(30, 5);
    expect(evaluateClassifier(ctx, model, test.images, test.labels!)).toBe(1);
    // The training step leaves no gradients or optimiser state behind.
    expect(model.namedParameters().every(([, p]) => p.grad === null)).toBe(true);
    disposeModule(model);
  });
});

describe('randomShift', () => {
  it('translates each image by some (dy, dx) ∈ [−s, s]², filling uncovered pixels with −1', () => {
    const n = 20;
    const src = Rng.fromSeed(6).fillUniform(new Float32Array(n * 25), 0, 1);
    const dst = new Float32Array(n * 25);
    randomShift(src, dst, n, 5, 5, 1, 1, Rng.fromSeed(7));
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      let match: string | null = null;
      for (let dy = -1; dy <= 1 && match === null; dy++) {
        for (let dx = -1; dx <= 1 && match === null; dx++) {
          let ok = true;
          for (let y = 0; y < 5 && ok; y++)
            for (let x = 0; x < 5 && ok; x++) {
              const sy = y - dy;
              const sx = x - dx;
              const want = sy < 0 || sy >= 5 || sx < 0 || sx >= 5 ? -1 : src[i * 25 + sy * 5 + sx];
              ok = dst[i * 25 + y * 5 + x] === want;
            }
          if (ok) match = `${dy},${dx}`;
        }
      }
      expect(match, `image ${i}`).not.toBeNull();
      seen.add(match!);
    }
    expect(seen.size).toBeGreaterThan(3); // the shifts vary (9 possible)
  });
});

describe('classify, featuresOf, evaluateClassifier', () => {
  it('are consistent with the logits and independent of the batch size', () => {
    const model = new Classifier(ctx, MNIST_CLASSIFIER, Rng.fromSeed(8));
    const n = 7;
    const images = Rng.fromSeed(9).fillUniform(new Float32Array(n * 784), -1, 1);
    const whole = classify(ctx, model, images);
    const pieces = classify(ctx, model, images, 3);
    const logits = ctx.noGrad(() =>
      ctx.scope(() => Float64Array.from(model.logits(ctx.fromArray(images, [n, 28, 28, 1])).view())),
    );
    for (let r = 0; r < n; r++) {
      const row = Array.from(logits.subarray(r * 10, r * 10 + 10));
      const m = Math.max(...row);
      const s = row.reduce((a, z) => a + Math.exp(z - m), 0);
      for (let j = 0; j < 10; j++) expect(whole.probs[r * 10 + j]).toBeCloseTo(Math.exp(row[j] - m) / s, 6);
      expect(whole.predicted[r]).toBe(row.indexOf(m));
      expect(whole.confidence[r]).toBe(Math.max(...whole.probs.subarray(r * 10, r * 10 + 10)));
    }
    // Batches of 3 (3 + 3 + 1) give the same numbers as one batch, to float32 rounding.
    for (let i = 0; i < whole.probs.length; i++) expect(pieces.probs[i]).toBeCloseTo(whole.probs[i], 6);
    const f = featuresOf(ctx, model, images, 3);
    const f1 = featuresOf(ctx, model, images);
    expect(f.length).toBe(n * 128);
    for (let i = 0; i < f.length; i++) expect(f[i]).toBeCloseTo(f1[i], 6);
    // classify's features are the same features, from the same pass that gave its probabilities.
    for (let i = 0; i < f.length; i++) expect(pieces.features[i]).toBeCloseTo(f1[i], 6);
    expect(evaluateClassifier(ctx, model, images, whole.predicted, 3)).toBe(1);
    const wrong = Int32Array.from(whole.predicted, (c, i) => (i < 2 ? (c + 1) % 10 : c));
    expect(evaluateClassifier(ctx, model, images, wrong)).toBeCloseTo(5 / 7, 12);
    expect(() => classify(ctx, model, images.subarray(0, 100))).toThrow(/whole number/);
    disposeModule(model);
  });
});

describe('recognitionReport', () => {
  it('counts confident rows and the argmax histogram of hand-made probabilities', () => {
    // 4 rows over 3 classes: confident 0; unsure 0 (0.5); exactly-threshold 2 (0.9 counts); confident 2.
    const probs = [0.95, 0.03, 0.02, 0.5, 0.3, 0.2, 0.05, 0.05, 0.9, 0.0, 0.01, 0.99];
    const r = recognitionReport(probs, 3);
    expect(r).toEqual({ n: 4, recognised: 3 / 4, classHistogram: [2, 0, 2], classMinShare: 0 });
    const balanced = recognitionReport([1, 0, 0, 1], 2);
    expect(balanced.classMinShare).toBe(0.5);
    expect(balanced.recognised).toBe(1);
    expect(() => recognitionReport([0.5, 0.5, 0.5], 2)).toThrow(/rows of 2/);
  });
});

describe('classifier checkpoint', () => {
  const meta = { testAccuracy: 0.991, dataset: 'mnist', command: 'elbo train classifier', seconds: 12.5 };

  it('round trip: save → load gives identical logits and the metadata back', () => {
    const model = new Classifier(ctx, MNIST_CLASSIFIER, Rng.fromSeed(10));
    const images = Rng.fromSeed(11).fillUniform(new Float32Array(3 * 784), -1, 1);
    const bytes = encodeClassifier(model, { ...meta, training: { epochs: 5 } });
    const { model: loaded, meta: m } = decodeClassifier(ctx, bytes);
    expect(m).toEqual({ ...meta, config: MNIST_CLASSIFIER, training: { epochs: 5 } });
    const a = classify(ctx, model, images).probs;
    const b = classify(ctx, loaded, images).probs;
    expect(Array.from(b)).toEqual(Array.from(a));
    disposeModule(model);
    disposeModule(loaded);
  });

  it('rejects foreign files, missing or extra tensors and wrong shapes with clear messages', () => {
    const model = new Classifier(ctx, TINY, Rng.fromSeed(12));
    const tensors: Parameters<typeof encodeSafetensors>[0] = {};
    for (const [name, p] of model.namedParameters())
      tensors[name] = { dtype: 'F32', shape: [...p.shape], data: p.toFloat32Array() };
    const good = { format: 'elbo-classifier-v1', config: JSON.stringify(TINY), test_accuracy: '1' };
    const more = { dataset: 'x', command: 'c', seconds: '1' };
    const with_ =
      (t: typeof tensors, md: Record<string, string> = { ...good, ...more }) =>
      () =>
        decodeClassifier(ctx, encodeSafetensors(t, md));
    expect(with_(tensors)).not.toThrow();
    expect(with_(tensors, { ...more, format: 'elbo-checkpoint-v1' })).toThrow(
      /expected an elbo classifier checkpoint, but this is an elbo checkpoint/,
    );
    const { ['fc.bias']: _dropped, ...missing } = tensors;
    expect(with_(missing)).toThrow(/tensor "fc.bias" is missing/);
    expect(with_({ ...tensors, extra: tensors['fc.bias'] })).toThrow(/unexpected tensors "extra"/);
    const wrongShape = {
      ...tensors,
      'head.bias': { dtype: 'F32' as const, shape: [4], data: new Float32Array(4) },
    };
    expect(with_(wrongShape)).toThrow(/"head.bias" has shape \[4\], the config needs \[3\]/);
    const badConfig = { ...good, ...more, config: JSON.stringify({ ...TINY, hidden: 0 }) };
    expect(with_(tensors, badConfig)).toThrow(/config\.hidden: Too small.*\(found 0\)/);
    disposeModule(model);
  });
});
