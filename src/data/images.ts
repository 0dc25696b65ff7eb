/**
 * Image data sets in memory, minibatches, the seeded batch sampler and dynamic binarization.
 *
 * Images are NHWC float32 scaled to [−1, 1] by x/127.5 − 1 (the DDPM convention, [Ho20] §3.3), so
 * pixel value 0 ↦ −1 and 255 ↦ +1 exactly. The VAE's Bernoulli decoder uses {@link dynamicBinarize}.
 *
 * @see [Ho20] Ho, Jain, Abbeel 2020, arXiv:2006.11239v2 §3.3 (data scaled to [−1, 1])
 * @see [SM08] Salakhutdinov & Murray 2008, "On the quantitative analysis of deep belief networks"
 *   (stochastic binarization of MNIST)
 */
import { Rng, type RngState } from '../random/rng.js';

/** A labelled or unlabelled set of equally sized images, in memory. */
export interface ImageDataset {
  /** A short name for messages and file names, e.g. "mnist-train". */
  readonly name: string;
  /** N·H·W·C values in [−1, 1] (x/127.5 − 1 of the 8-bit pixel values), NHWC, row-major. */
  readonly images: Float32Array;
  /** One class index per image, in [0, classNames.length), when the data set has labels. */
  readonly labels?: Int32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Names of the classes, indexed by label. */
  readonly classNames?: readonly string[];
}

/** The shape and labels of a data set built from raw pixels. */
export interface ImageDatasetSpec {
  name: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  labels?: Int32Array | Uint8Array | readonly number[];
  classNames?: readonly string[];
}

/** Pixel value 0..255 → [−1, 1]: x/127.5 − 1. */
export function pixelToUnit(x: number): number {
  return x / 127.5 - 1;
}

/** [−1, 1] → pixel value 0..255, rounded and clamped (NaN ↦ 0): round((x + 1)·127.5). */
export function unitToPixel(x: number): number {
  const v = Math.round((x + 1) * 127.5);
  return v > 255 ? 255 : v >= 0 ? v : 0;
}

function assertPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, got ${v}`);
}

/** Builds a data set from 8-bit NHWC pixels (length count·height·width·channels), checking labels. */
export function imageDatasetFromBytes(bytesNHWC: Uint8Array, spec: ImageDatasetSpec): ImageDataset {
  const { name, count, height, width, channels } = spec;
  if (!Number.isInteger(count) || count < 0) throw new Error(`count must be an integer ≥ 0, got ${count}`);
  assertPositiveInt('height', height);
  assertPositiveInt('width', width);
  assertPositiveInt('channels', channels);
  const size = count * height * width * channels;
  if (bytesNHWC.length !== size) {
    throw new Error(
      `${name}: ${count} images of ${height}×${width}×${channels} need ${size} bytes, got ${bytesNHWC.length}`,
    );
  }
  const images = new Float32Array(size);
  for (let i = 0; i < size; i++) images[i] = bytesNHWC[i] / 127.5 - 1;
  let labels: Int32Array | undefined;
  if (spec.labels !== undefined) {
    if (spec.labels.length !== count) {
      throw new Error(`${name}: ${spec.labels.length} labels for ${count} images`);
    }
    labels = Int32Array.from(spec.labels);
    const classes = spec.classNames?.length;
    for (let i = 0; i < count; i++) {
      const l = labels[i];
      if (l < 0 || (classes !== undefined && l >= classes)) {
        throw new Error(
          `${name}: label ${l} of image ${i} is outside [0, ${classes === undefined ? '∞' : classes - 1}]`,
        );
      }
    }
  }
  return {
    name,
    images,
    count,
    height,
    width,
    channels,
    ...(labels === undefined ? {} : { labels }),
    ...(spec.classNames === undefined ? {} : { classNames: [...spec.classNames] }),
  };
}

/** The images at `indices` (any order, repeats allowed) as a new data set named `name`. */
export function subsetOf(
  dataset: ImageDataset,
  indices: ArrayLike<number>,
  name = dataset.name,
): ImageDataset {
  const images = batchOf(dataset, indices);
  const labels = dataset.labels === undefined ? undefined : labelsOf(dataset, indices);
  return {
    name,
    images,
    count: indices.length,
    height: dataset.height,
    width: dataset.width,
    channels: dataset.channels,
    ...(labels === undefined ? {} : { labels }),
    ...(dataset.classNames === undefined ? {} : { classNames: dataset.classNames }),
  };
}

/**
 * Copies the images at `indices` into one NHWC batch [indices.length, H, W, C]. `out`, when given, is
 * reused (it must have exactly that length): training loops allocate the batch once.
 */
export function batchOf(dataset: ImageDataset, indices: ArrayLike<number>, out?: Float32Array): Float32Array {
  const per = dataset.height * dataset.width * dataset.channels;
  const n = indices.length;
  const batch = out ?? new Float32Array(n * per);
  if (batch.length !== n * per) {
    throw new Error(`batch buffer has length ${batch.length}, ${n} images of ${per} values need ${n * per}`);
  }
  for (let b = 0; b < n; b++) {
    const i = indices[b];
    if (!Number.isInteger(i) || i < 0 || i >= dataset.count) {
      throw new Error(`${dataset.name}: index ${i} is outside [0, ${dataset.count - 1}]`);
    }
    batch.set(dataset.images.subarray(i * per, (i + 1) * per), b * per);
  }
  return batch;
}

/** The labels at `indices`; throws if the data set has none. */
export function labelsOf(dataset: ImageDataset, indices: ArrayLike<number>): Int32Array {
  const labels = dataset.labels;
  if (labels === undefined) throw new Error(`${dataset.name} has no labels`);
  const out = new Int32Array(indices.length);
  for (let b = 0; b < indices.length; b++) {
    const i = indices[b];
    if (!Number.isInteger(i) || i < 0 || i >= dataset.count) {
      throw new Error(`${dataset.name}: index ${i} is outside [0, ${dataset.count - 1}]`);
    }
    out[b] = labels[i];
  }
  return out;
}

/** Counts of each label in [0, classes): the class histogram. */
export function labelHistogram(labels: ArrayLike<number>, classes: number): number[] {
  const h = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= classes)
      throw new Error(`label ${l} is outside [0, ${classes - 1}]`);
    h[l]++;
  }
  return h;
}

/**
 * Dynamic (stochastic) binarization: each value x ∈ [−1, 1] becomes 1 with probability p = (x + 1)/2
 * (the pixel intensity) and 0 otherwise, freshly for every batch. Values outside [−1, 1] are clamped.
 * Output values are exactly 0 or 1, the support of the VAE's Bernoulli decoder.
 *
 * @see [SM08] — binarized MNIST drawn with the intensities as probabilities
 */
export function dynamicBinarize(images: Float32Array, rng: Rng, out?: Float32Array): Float32Array {
  const res = out ?? new Float32Array(images.length);
  if (res.length !== images.length) {
    throw new Error(`output has length ${res.length}, expected ${images.length}`);
  }
  const INV_2_32 = 1 / 4294967296;
  for (let i = 0; i < images.length; i++) {
    const p = (images[i] + 1) * 0.5;
    // u ∈ [0, 1) with 32 random bits: u < p is Bernoulli(p); p = 0 never fires, p = 1 always does.
    res[i] = rng.nextUint32() * INV_2_32 < p ? 1 : 0;
  }
  return res;
}

/** Everything needed to resume a {@link BatchSampler} exactly: `BatchSampler.fromState(state)`. */
export interface BatchSamplerState {
  /** Size of the data set the sampler walks over. */
  count: number;
  batchSize: number;
  dropLast: boolean;
  /** 0-based epoch of the next batch. */
  epoch: number;
  /** Position in the current epoch's permutation of the next batch's first index. */
  position: number;
  /** The generator's state at the start of the current epoch (before its permutation was drawn). */
  rng: RngState;
}

/** Options of a {@link BatchSampler}. */
export interface BatchSamplerOptions {
  /**
   * Skip the last, smaller batch of an epoch (default true: every batch has `batchSize` images, so
   * compiled shapes and per-batch statistics stay the same).
   */
  dropLast?: boolean;
}

/** One minibatch: data-set indices and the epoch they belong to. */
export interface SampledBatch {
  indices: Int32Array;
  epoch: number;
}

/**
 * Minibatches over a seeded random permutation, a new permutation each epoch; batches never span two
 * epochs. The sampler owns the generator it is given: pass it a stream of its own (`rng.split()`).
 *
 * Resume: {@link state} records the epoch, the position in the epoch and the generator's state at the
 * start of the epoch; {@link fromState} redraws that epoch's permutation and continues exactly.
 */
export class BatchSampler {
  readonly count: number;
  readonly batchSize: number;
  readonly dropLast: boolean;
  private epochValue = 0;
  private position = 0;
  private epochStart: RngState;
  private order: Int32Array;

  constructor(
    count: number,
    batchSize: number,
    private readonly rng: Rng,
    options: BatchSamplerOptions = {},
  ) {
    assertPositiveInt('count', count);
    assertPositiveInt('batchSize', batchSize);
    this.count = count;
    this.batchSize = batchSize;
    this.dropLast = options.dropLast ?? true;
    if (this.dropLast && batchSize > count) {
      throw new Error(
        `batch size ${batchSize} is larger than the data set (${count} images), so every batch would be dropped`,
      );
    }
    this.epochStart = rng.state();
    this.order = rng.permutation(count);
  }

  /** A sampler that continues exactly where the one that produced `state` stopped. */
  static fromState(state: BatchSamplerState): BatchSampler {
    const sampler = new BatchSampler(state.count, state.batchSize, Rng.fromState(state.rng), {
      dropLast: state.dropLast,
    });
    if (!Number.isInteger(state.epoch) || state.epoch < 0)
      throw new Error(`bad sampler epoch ${state.epoch}`);
    if (!Number.isInteger(state.position) || state.position < 0 || state.position >= state.count) {
      throw new Error(`bad sampler position ${state.position} for ${state.count} items`);
    }
    sampler.epochValue = state.epoch;
    sampler.position = state.position;
    return sampler;
  }

  /** Number of batches in one epoch. */
  get batchesPerEpoch(): number {
    return this.dropLast ? Math.floor(this.count / this.batchSize) : Math.ceil(this.count / this.batchSize);
  }

  /** The epoch the next batch belongs to (0-based). */
  get epoch(): number {
    return this.epochValue;
  }

  /** The next minibatch of data-set indices. */
  next(): SampledBatch {
    const remaining = this.count - this.position;
    if (remaining === 0 || (this.dropLast && remaining < this.batchSize)) this.startEpoch();
    const size = Math.min(this.batchSize, this.count - this.position);
    const indices = this.order.slice(this.position, this.position + size);
    const epoch = this.epochValue;
    this.position += size;
    return { indices, epoch };
  }

  /** The state to store in a checkpoint. */
  state(): BatchSamplerState {
    // A finished epoch is recorded as the start of the next one, so `position` stays < count.
    const remaining = this.count - this.position;
    if (remaining === 0 || (this.dropLast && remaining < this.batchSize)) this.startEpoch();
    return {
      count: this.count,
      batchSize: this.batchSize,
      dropLast: this.dropLast,
      epoch: this.epochValue,
      position: this.position,
      rng: this.epochStart,
    };
  }

  private startEpoch(): void {
    this.epochValue++;
    this.position = 0;
    this.epochStart = this.rng.state();
    this.order = this.rng.permutation(this.count);
  }
}
