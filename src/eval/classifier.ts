/**
 * A small CNN classifier for MNIST-like images (28×28×1, values in [−1, 1], NHWC), built from elbo's own
 * layers. It serves evaluation: its class probabilities say whether generated samples are recognisable
 * digits (or garments) and cover all classes, and its penultimate features feed the Fréchet distance
 * (src/eval/frechet.ts) the way Inception's pool features feed the FID of [Heu17].
 *
 * Architecture (per resolution level c ∈ channels): conv3×3(→c) SiLU, conv3×3 stride 2 (c→c) SiLU; then
 * flatten, Linear(→hidden) SiLU (= the features), Linear(hidden→classes) (= the logits). With the default
 * channels [32, 64]: 28×28 → 14×14 → 7×7, 7·7·64 = 3136 inputs to a 128-unit feature layer. SiLU rather than
 * ReLU because the engine has SIMD kernels for it; the convolutions subsample by stride (no pooling op).
 *
 * [Heu17] Heusel et al. 2017, arXiv:1706.08500v6 (FID) · [KB15] Kingma & Ba 2015, arXiv:1412.6980v9 (Adam) ·
 * [LH17] Loshchilov & Hutter 2017, arXiv:1608.03983v5 (cosine learning-rate decay) ·
 * [SSP03] Simard, Steinkraus, Platt 2003, "Best practices for convolutional neural networks applied to
 * visual document analysis", ICDAR (small-translation data augmentation for MNIST)
 */
import { FormatError } from '../checkpoint/formatError.js';
import { parseJsonBounded } from '../checkpoint/json.js';
import { decodeSafetensors, encodeSafetensors } from '../checkpoint/safetensors.js';
import { describeSafetensorsContents } from '../train/checkpoint.js';
import { classifierConfigSchema, parseWithSchema } from '../train/checkpointSchema.js';
import { BatchSampler, type ImageDataset } from '../data/images.js';
import { Conv2d, Linear } from '../nn/layers.js';
import { collectParameters, disposeModule, type Module } from '../nn/module.js';
import { Rng } from '../random/rng.js';
import { silu } from '../tensor/ops/elementwise.js';
import { crossEntropy } from '../tensor/ops/pointwise.js';
import type { Context, Tensor } from '../tensor/tensor.js';
import { Adam } from '../train/optim.js';

/** The classifier's shape; stored in its checkpoint. */
export interface ClassifierConfig {
  /** Input image height, width and channels (28, 28, 1 for MNIST). */
  height: number;
  width: number;
  imageChannels: number;
  /** Channels of each resolution level; each level halves the resolution (stride-2 conv). */
  channels: number[];
  /** Width of the penultimate (feature) layer. */
  hidden: number;
  /** Number of classes. */
  classes: number;
}

/** The shipped classifiers' architecture (MNIST and Fashion-MNIST). */
export const MNIST_CLASSIFIER: ClassifierConfig = {
  height: 28,
  width: 28,
  imageChannels: 1,
  channels: [32, 64],
  hidden: 128,
  classes: 10,
};

/** Spatial size after `levels` stride-2, padding-1, 3×3 convolutions: ⌊(s − 1)/2⌋ + 1 each. */
function downsampled(size: number, levels: number): number {
  let s = size;
  for (let i = 0; i < levels; i++) s = Math.floor((s - 1) / 2) + 1;
  return s;
}

/** Throws, naming the field, unless every size is a positive integer and there are at least two classes. */
export function validateClassifierConfig(c: ClassifierConfig): void {
  const positiveInt = (name: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new Error(`classifier config: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  };
  positiveInt('height', c.height);
  positiveInt('width', c.width);
  positiveInt('imageChannels', c.imageChannels);
  positiveInt('hidden', c.hidden);
  positiveInt('classes', c.classes);
  if (!Array.isArray(c.channels) || c.channels.length === 0)
    throw new Error(
      `classifier config: channels must be a non-empty list, got ${JSON.stringify(c.channels)}`,
    );
  c.channels.forEach((ch, i) => positiveInt(`channels[${i}]`, ch));
  if (c.classes < 2) throw new Error(`classifier config: classes must be ≥ 2, got ${c.classes}`);
}

/** The evaluation CNN (see the file header): images [N, H, W, C] → features → logits. */
export class Classifier implements Module {
  /** conv0, conv1, …: two per level (stride 1, then stride 2). */
  readonly convs: Conv2d[] = [];
  readonly fc: Linear;
  readonly head: Linear;
  /** Flattened size h·w·c entering fc. */
  readonly flatSize: number;

  constructor(
    readonly ctx: Context,
    readonly config: ClassifierConfig,
    rng: Rng,
  ) {
    validateClassifierConfig(config);
    let cin = config.imageChannels;
    for (const c of config.channels) {
      this.convs.push(new Conv2d(ctx, cin, c, 3, rng, 1, 1));
      this.convs.push(new Conv2d(ctx, c, c, 3, rng, 2, 1));
      cin = c;
    }
    const levels = config.channels.length;
    this.flatSize = downsampled(config.height, levels) * downsampled(config.width, levels) * cin;
    this.fc = new Linear(ctx, this.flatSize, config.hidden, rng);
    this.head = new Linear(ctx, config.hidden, config.classes, rng);
  }

  /** x [N, H, W, C] → the penultimate features [N, hidden] (after the SiLU). */
  features(x: Tensor): Tensor {
    const { height, width, imageChannels } = this.config;
    const [, h, w, c] = x.shape;
    if (x.shape.length !== 4 || h !== height || w !== width || c !== imageChannels) {
      throw new Error(
        `classifier: expected images [N, ${height}, ${width}, ${imageChannels}], got [${x.shape.join(', ')}]`,
      );
    }
    let y = x;
    for (const conv of this.convs) y = silu(conv.forward(y));
    return silu(this.fc.forward(this.ctx.reshape(y, [x.shape[0], this.flatSize])));
  }

  /** x [N, H, W, C] → logits [N, classes]. */
  logits(x: Tensor): Tensor {
    return this.head.forward(this.features(x));
  }

  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ...this.convs.map((conv, i) => [`conv${i}`, conv] as const),
      ['fc', this.fc],
      ['head', this.head],
    ]);
  }
}

// ————————————————————————————————————————— training —————————————————————————————————————————

/** Options of {@link trainClassifier}. */
export interface ClassifierTrainOptions {
  /** Passes over the training set. */
  epochs: number;
  /** Minibatch size (default 128). */
  batchSize?: number;
  /** Adam's peak learning rate (default 1e-3). */
  lr?: number;
  /** 'cosine' (default): lr·½(1 + cos(π·step/total)) [LH17] without restarts; 'constant': lr throughout. */
  lrSchedule?: 'cosine' | 'constant';
  /** Random translation of each training image by up to this many pixels in x and y (default 2; 0: off). */
  maxShift?: number;
  /** Seed of the initialisation, data order and augmentation (default 0). */
  seed?: number;
  /** Architecture (default {@link MNIST_CLASSIFIER}). */
  config?: ClassifierConfig;
}

/** Reported by {@link trainClassifier} after every step. */
export interface ClassifierProgress {
  /** Steps done (1-based) and planned. */
  step: number;
  totalSteps: number;
  /** 0-based epoch of this step. */
  epoch: number;
  /** Cross-entropy of this batch (nats). */
  loss: number;
  /** Fraction of this batch classified correctly (before the update). */
  batchAccuracy: number;
  lr: number;
  /** True on the last step of an epoch (a good moment to evaluate `model`). */
  epochDone: boolean;
  /** The model being trained (read-only use between steps: evaluation, snapshots). */
  model: Classifier;
}

/** What {@link trainClassifier} returns: the trained model and its training summary. */
export interface ClassifierTrainResult {
  model: Classifier;
  steps: number;
  /** Mean batch loss over the last epoch (nats). */
  lastEpochLoss: number;
}

/**
 * Copies `src` [n, H, W, C] into `dst` with each image translated by (dy, dx) ∈ [−maxShift, maxShift]²
 * drawn uniformly; uncovered pixels get `fill` (−1 = background of MNIST-like data in [−1, 1]).
 */
export function randomShift(
  src: Float32Array,
  dst: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
  maxShift: number,
  rng: Rng,
  fill = -1,
): void {
  const per = h * w * c;
  for (let i = 0; i < n; i++) {
    const dy = rng.int(2 * maxShift + 1) - maxShift;
    const dx = rng.int(2 * maxShift + 1) - maxShift;
    const base = i * per;
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      for (let x = 0; x < w; x++) {
        const sx = x - dx;
        const o = base + (y * w + x) * c;
        if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
          for (let k = 0; k < c; k++) dst[o + k] = fill;
        } else {
          const s = base + (sy * w + sx) * c;
          for (let k = 0; k < c; k++) dst[o + k] = src[s + k];
        }
      }
    }
  }
}

function assertLabelled(data: ImageDataset, config: ClassifierConfig): Int32Array {
  if (data.labels === undefined)
    throw new Error(`${data.name} has no labels: a classifier needs labelled images`);
  if (
    data.height !== config.height ||
    data.width !== config.width ||
    data.channels !== config.imageChannels
  ) {
    throw new Error(
      `${data.name} has ${data.height}×${data.width}×${data.channels} images; the classifier expects ` +
        `${config.height}×${config.width}×${config.imageChannels}`,
    );
  }
  for (const l of data.labels) {
    if (l < 0 || l >= config.classes)
      throw new Error(`${data.name}: label ${l} is outside [0, ${config.classes - 1}]`);
  }
  return data.labels;
}

/**
 * Trains a {@link Classifier} with cross-entropy and Adam ([KB15], lr 1e-3, batch 128), cosine learning-rate
 * decay and random ±2-pixel shifts ([SSP03]). Deterministic for a seed (and thread count: parallel sums may
 * round differently). Progress goes to `onProgress` after every step.
 */
export function trainClassifier(
  ctx: Context,
  data: ImageDataset,
  options: ClassifierTrainOptions,
  onProgress: (p: ClassifierProgress) => void = () => {},
): ClassifierTrainResult {
  const config = options.config ?? MNIST_CLASSIFIER;
  const labels = assertLabelled(data, config);
  const batchSize = options.batchSize ?? 128;
  const peakLr = options.lr ?? 1e-3;
  const schedule = options.lrSchedule ?? 'cosine';
  const maxShift = options.maxShift ?? 2;
  if (!Number.isInteger(options.epochs) || options.epochs < 1)
    throw new Error(`epochs must be a positive integer, got ${options.epochs}`);
  if (!Number.isInteger(maxShift) || maxShift < 0)
    throw new Error(`maxShift must be an integer ≥ 0, got ${maxShift}`);
  const rng = Rng.fromSeed(options.seed ?? 0);
  const model = new Classifier(ctx, config, rng.split());
  const sampler = new BatchSampler(data.count, batchSize, rng.split());
  const augment = rng.split();
  const opt = new Adam(ctx, model, { lr: peakLr });
  const { height: h, width: w, imageChannels: c, classes } = config;
  const per = h * w * c;
  const totalSteps = options.epochs * sampler.batchesPerEpoch;
  const raw = new Float32Array(batchSize * per);
  const shifted = new Float32Array(batchSize * per);
  const batchLabels = new Int32Array(batchSize);
  let epochLossSum = 0;
  let epochSteps = 0;
  let lastEpochLoss = Number.NaN;
  try {
    for (let step = 0; step < totalSteps; step++) {
      const { indices, epoch } = sampler.next();
      for (let b = 0; b < batchSize; b++) {
        const i = indices[b];
        raw.set(data.images.subarray(i * per, (i + 1) * per), b * per);
        batchLabels[b] = labels[i];
      }
      const input = maxShift > 0 ? shifted : raw;
      if (maxShift > 0) randomShift(raw, shifted, batchSize, h, w, c, maxShift, augment);
      opt.zeroGrad();
      const { loss, correct } = ctx.scope(() => {
        const z = model.logits(ctx.fromArray(input, [batchSize, h, w, c]));
        const l = crossEntropy(z, batchLabels);
        ctx.backward(l);
        return { loss: l.item(), correct: countCorrect(z.view(), batchLabels, classes) };
      });
      if (!Number.isFinite(loss))
        throw new Error(`classifier training diverged at step ${step + 1}: loss ${loss}`);
      const lr =
        schedule === 'cosine' ? 0.5 * peakLr * (1 + Math.cos((Math.PI * step) / totalSteps)) : peakLr;
      opt.lr = lr;
      opt.update();
      epochLossSum += loss;
      epochSteps++;
      const nextIsNewEpoch = (step + 1) % sampler.batchesPerEpoch === 0;
      if (nextIsNewEpoch) {
        lastEpochLoss = epochLossSum / epochSteps;
        epochLossSum = 0;
        epochSteps = 0;
      }
      onProgress({
        step: step + 1,
        totalSteps,
        epoch,
        loss,
        batchAccuracy: correct / batchSize,
        lr,
        epochDone: nextIsNewEpoch,
        model,
      });
    }
  } catch (err) {
    disposeModule(model);
    throw err;
  } finally {
    opt.dispose();
    for (const [, p] of model.namedParameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }
  return { model, steps: totalSteps, lastEpochLoss };
}

function countCorrect(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  let correct = 0;
  for (let r = 0; r < labels.length; r++) if (argmaxRow(logits, r, classes) === labels[r]) correct++;
  return correct;
}

function argmaxRow(values: ArrayLike<number>, row: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (values[row * k + j] > values[row * k + best]) best = j;
  return best;
}

// ————————————————————————————————————————— inference —————————————————————————————————————————

/** Number of images in a flat NHWC array for this classifier; throws if it is not a whole number. */
function imageCount(model: Classifier, images: Float32Array): number {
  const { height, width, imageChannels } = model.config;
  const per = height * width * imageChannels;
  if (images.length % per !== 0) {
    throw new Error(
      `classifier: ${images.length} values are not a whole number of ${height}×${width}×${imageChannels} images`,
    );
  }
  return images.length / per;
}

/** Runs `f` on batches of at most `batchSize` images without recording gradients; f copies what it needs. */
function forEachBatch(
  ctx: Context,
  model: Classifier,
  images: Float32Array,
  batchSize: number,
  f: (x: Tensor, start: number, count: number) => void,
): void {
  const n = imageCount(model, images);
  const { height, width, imageChannels } = model.config;
  const per = height * width * imageChannels;
  ctx.noGrad(() => {
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      ctx.scope(() => {
        const x = ctx.fromArray(images.subarray(start * per, (start + count) * per), [
          count,
          height,
          width,
          imageChannels,
        ]);
        f(x, start, count);
      });
    }
  });
}

/** What {@link classify} returns: class probabilities, predictions and the penultimate features. */
export interface Classification {
  /** Softmax probabilities [n, classes], row-major (computed in float64 from the logits). */
  probs: Float64Array;
  /** argmax class of each image. */
  predicted: Int32Array;
  /** The largest probability of each image. */
  confidence: Float64Array;
  /** The penultimate features [n, hidden] (row-major) the logits were computed from: the Fréchet distance's input. */
  features: Float64Array;
}

/**
 * Class probabilities, predicted class, confidence and penultimate features of each image (NHWC, values in
 * [−1, 1]), in one pass over the images.
 */
export function classify(
  ctx: Context,
  model: Classifier,
  images: Float32Array,
  batchSize = 256,
): Classification {
  const n = imageCount(model, images);
  const k = model.config.classes;
  const probs = new Float64Array(n * k);
  const predicted = new Int32Array(n);
  const confidence = new Float64Array(n);
  const features = new Float64Array(n * model.config.hidden);
  forEachBatch(ctx, model, images, batchSize, (x, start, count) => {
    const f = model.features(x);
    features.set(f.view(), start * model.config.hidden);
    const z = model.head.forward(f).view();
    for (let r = 0; r < count; r++) {
      let m = -Infinity;
      for (let j = 0; j < k; j++) m = Math.max(m, z[r * k + j]);
      let s = 0;
      for (let j = 0; j < k; j++) s += Math.exp(z[r * k + j] - m);
      const row = (start + r) * k;
      let best = 0;
      for (let j = 0; j < k; j++) {
        probs[row + j] = Math.exp(z[r * k + j] - m) / s;
        if (probs[row + j] > probs[row + best]) best = j;
      }
      predicted[start + r] = best;
      confidence[start + r] = probs[row + best];
    }
  });
  return { probs, predicted, confidence, features };
}

/** The penultimate features [n, hidden] (row-major, float64) of each image: the input of the Fréchet distance. */
export function featuresOf(
  ctx: Context,
  model: Classifier,
  images: Float32Array,
  batchSize = 256,
): Float64Array {
  const n = imageCount(model, images);
  const d = model.config.hidden;
  const out = new Float64Array(n * d);
  forEachBatch(ctx, model, images, batchSize, (x, start) => {
    out.set(model.features(x).view(), start * d);
  });
  return out;
}

/** Fraction of images whose predicted class equals the label. */
export function evaluateClassifier(
  ctx: Context,
  model: Classifier,
  images: Float32Array,
  labels: ArrayLike<number>,
  batchSize = 256,
): number {
  const n = imageCount(model, images);
  if (labels.length !== n) throw new Error(`evaluateClassifier: ${labels.length} labels for ${n} images`);
  if (n === 0) throw new Error('evaluateClassifier: no images');
  const k = model.config.classes;
  let correct = 0;
  forEachBatch(ctx, model, images, batchSize, (x, start, count) => {
    const z = model.logits(x).view();
    for (let r = 0; r < count; r++) if (argmaxRow(z, r, k) === labels[start + r]) correct++;
  });
  return correct / n;
}

// —————————————————————————————————————— recognition report ——————————————————————————————————————

/**
 * What {@link recognitionReport} returns: the recognised share, the class histogram and its smallest share.
 */
export interface RecognitionReport {
  /** Number of images. */
  n: number;
  /** Share of images whose largest class probability is ≥ the threshold (0.9): "recognisable". */
  recognised: number;
  /** Count of images per predicted (argmax) class, over all images. */
  classHistogram: number[];
  /** The rarest predicted class's share of all images (1/classes when balanced; 0 when a class is missing). */
  classMinShare: number;
}

/** The confidence (largest class probability) from which an image counts as recognised. */
export const RECOGNITION_THRESHOLD = 0.9;

/**
 * Summarises the classifier's probabilities [n, classes] for generated samples: how many look like a
 * confident member of some class, and whether every class is produced (mode coverage).
 */
export function recognitionReport(
  probs: ArrayLike<number>,
  classes = 10,
  threshold = RECOGNITION_THRESHOLD,
): RecognitionReport {
  if (!Number.isInteger(classes) || classes < 1)
    throw new Error(`recognitionReport: bad class count ${classes}`);
  if (probs.length === 0 || probs.length % classes !== 0)
    throw new Error(
      `recognitionReport: ${probs.length} probabilities are not rows of ${classes} (and at least one row)`,
    );
  const n = probs.length / classes;
  const classHistogram = new Array<number>(classes).fill(0);
  let recognised = 0;
  for (let r = 0; r < n; r++) {
    const best = argmaxRow(probs, r, classes);
    classHistogram[best]++;
    if (probs[r * classes + best] >= threshold) recognised++;
  }
  return { n, recognised: recognised / n, classHistogram, classMinShare: Math.min(...classHistogram) / n };
}

// ——————————————————————————————————————————— checkpoint ———————————————————————————————————————————

/** The `format` entry of a classifier checkpoint's safetensors metadata. */
export const CLASSIFIER_FORMAT = 'elbo-classifier-v1';

/** What a classifier checkpoint says about itself (safetensors __metadata__, one string per key). */
export interface ClassifierMeta {
  config: ClassifierConfig;
  /** Accuracy on the data set's test split, in [0, 1]. */
  testAccuracy: number;
  /** Data set it was trained on, e.g. "mnist". */
  dataset: string;
  /** The command line that trained it. */
  command: string;
  /** Wall-clock training time in seconds. */
  seconds: number;
  /** Free-form extra facts (epochs, seed, …), stored as JSON. */
  training?: Record<string, unknown>;
}

/** The classifier's weights (F32, elbo layouts) and its metadata as safetensors bytes. */
export function encodeClassifier(model: Classifier, meta: Omit<ClassifierMeta, 'config'>): Uint8Array {
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  for (const [name, p] of model.namedParameters())
    tensors[name] = { dtype: 'F32', shape: [...p.shape], data: p.toFloat32Array() };
  return encodeSafetensors(tensors, {
    format: CLASSIFIER_FORMAT,
    config: JSON.stringify(model.config),
    test_accuracy: String(meta.testAccuracy),
    dataset: meta.dataset,
    command: meta.command,
    seconds: String(meta.seconds),
    training: JSON.stringify(meta.training ?? {}),
  });
}

/**
 * Rebuilds a classifier from {@link encodeClassifier}'s bytes. Checks the format tag, the config, and that
 * the tensors are exactly the architecture's parameters with their shapes; errors name what differs.
 */
export function decodeClassifier(
  ctx: Context,
  bytes: Uint8Array,
): { model: Classifier; meta: ClassifierMeta } {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== CLASSIFIER_FORMAT)
    throw new FormatError(
      `expected an elbo classifier checkpoint, but this is ${describeSafetensorsContents(metadata)}`,
    );
  const field = (key: string): string => {
    const v = metadata[key];
    if (typeof v !== 'string') throw new FormatError(`classifier checkpoint: metadata "${key}" is missing`);
    return v;
  };
  const config = parseWithSchema<ClassifierConfig>(
    classifierConfigSchema,
    parseJsonBounded(field('config'), 2, 'classifier checkpoint: metadata "config"'),
    'config',
  );
  const training = parseJsonBounded(
    metadata.training ?? '{}',
    8,
    'classifier checkpoint: metadata "training"',
  );
  if (typeof training !== 'object' || training === null || Array.isArray(training))
    throw new FormatError('classifier checkpoint: metadata "training" must be a JSON object');
  const testAccuracy = Number(field('test_accuracy'));
  const seconds = Number(field('seconds'));
  if (!(testAccuracy >= 0 && testAccuracy <= 1))
    throw new FormatError(
      `classifier checkpoint: test_accuracy must be in [0, 1], found "${field('test_accuracy')}"`,
    );
  if (!(seconds >= 0 && Number.isFinite(seconds)))
    throw new FormatError(
      `classifier checkpoint: seconds must be a finite number ≥ 0, found "${field('seconds')}"`,
    );
  // Refuse a config that asks for far more weights than the file holds, before building it: every level has a
  // c×c 3×3 convolution and the head is hidden×classes.
  const needed = config.channels.reduce((n, c) => n + 9 * c * c, 0) + config.hidden * config.classes;
  const held = Object.values(tensors).reduce((n, t) => n + t.data.length, 0);
  if (held < needed)
    throw new FormatError(
      `classifier checkpoint: the config describes at least ${needed} weights, the file holds ${held} values`,
    );
  try {
    validateClassifierConfig(config);
  } catch (err) {
    throw new FormatError((err as Error).message);
  }
  const model = new Classifier(ctx, config, Rng.fromSeed(0));
  try {
    const expected = model.namedParameters();
    const expectedNames = new Set(expected.map(([name]) => name));
    const unexpected = Object.keys(tensors).filter((name) => !expectedNames.has(name));
    if (unexpected.length > 0)
      throw new FormatError(
        `classifier checkpoint: unexpected tensors ${unexpected.map((s) => `"${s}"`).join(', ')}`,
      );
    for (const [name, p] of expected) {
      const t = tensors[name];
      if (t === undefined) throw new FormatError(`classifier checkpoint: tensor "${name}" is missing`);
      if (!(t.data instanceof Float32Array))
        throw new FormatError(`classifier checkpoint: tensor "${name}" is ${t.dtype}, expected F32`);
      if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
        throw new FormatError(
          `classifier checkpoint: tensor "${name}" has shape [${t.shape.join(', ')}], the config needs [${p.shape.join(', ')}]`,
        );
      }
      const bad = t.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new FormatError(
          `classifier checkpoint: tensor "${name}" holds ${t.data[bad]} at element ${bad}`,
        );
      p.view().set(t.data);
    }
  } catch (err) {
    disposeModule(model);
    throw err;
  }
  return {
    model,
    meta: {
      config,
      testAccuracy,
      dataset: field('dataset'),
      command: field('command'),
      seconds,
      training: training as Record<string, unknown>,
    },
  };
}
