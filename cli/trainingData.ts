/**
 * Training data for the trainers, as a BatchSource whose state (position in a seeded epoch order, RNG state)
 * goes into checkpoints: images from a dataset (MNIST, Fashion-MNIST, a PNG folder), or an endless stream of
 * fresh points from a 2-D toy distribution.
 */
import { BatchSampler, type BatchSamplerState, batchOf, type ImageDataset } from '../src/data/images.js';
import { Rng } from '../src/random/rng.js';
import {
  batchSamplerStateSchema,
  parseWithSchema,
  toyStreamStateSchema,
} from '../src/train/checkpointSchema.js';
import type { BatchSource } from '../src/train/ddpm.js';
import { isToy2dName, toy2d } from '../src/data/toy2d.js';
import { loadDataset } from './data.js';
import { UserError } from './userError.js';

export interface TrainingData {
  source: BatchSource;
  /** Shape of one example: [H, W, C] or [2]. */
  shape: number[];
  /** Number of training examples (null: an endless stream of fresh 2-D points). */
  count: number | null;
}

/** Epochs over seeded permutations of a dataset's images (src/data BatchSampler, resumable exactly). */
class ImageBatches implements BatchSource {
  private sampler: BatchSampler | null = null;
  constructor(
    private readonly dataset: ImageDataset,
    private readonly seed: number,
    private readonly batchSize?: number,
  ) {}
  next(batchSize: number): Float32Array {
    this.sampler ??= new BatchSampler(this.dataset.count, batchSize, Rng.fromSeed(this.seed));
    return batchOf(this.dataset, this.sampler.next().indices);
  }
  getState(): unknown {
    return this.sampler?.state() ?? null;
  }
  setState(state: unknown): void {
    if (state === null) {
      this.sampler = null;
      return;
    }
    const s: BatchSamplerState = parseWithSchema(batchSamplerStateSchema, state, 'meta.data');
    if (s.count !== this.dataset.count)
      throw new Error(
        `the checkpoint's data order is over ${s.count} images, but "${this.dataset.name}" now has ${this.dataset.count}`,
      );
    if (this.batchSize !== undefined && s.batchSize !== this.batchSize)
      throw new Error(
        `meta.data.batchSize ${s.batchSize} differs from the config's batch size ${this.batchSize}`,
      );
    this.sampler = BatchSampler.fromState(s);
  }
}

/** Fresh samples of a 2-D toy distribution; the state is the RNG state. */
class ToyBatches implements BatchSource {
  private rng: Rng;
  constructor(
    private readonly name: Parameters<typeof toy2d>[0],
    seed: number,
  ) {
    this.rng = Rng.fromSeed(seed);
  }
  next(batchSize: number): Float32Array {
    return toy2d(this.name, batchSize, this.rng);
  }
  getState(): unknown {
    return { rng: this.rng.state() };
  }
  setState(state: unknown): void {
    this.rng = Rng.fromState(parseWithSchema(toyStreamStateSchema, state, 'meta.data').rng);
  }
}

/**
 * Opens a dataset by name for training; `seed` fixes the data order. `batchSize`, when resuming: the batch size
 * a restored data order must have.
 */
export function openTrainingData(name: string, seed: number, batchSize?: number): TrainingData {
  const dataSeed = seed + 0x5eed;
  if (isToy2dName(name)) return { source: new ToyBatches(name, dataSeed), shape: [2], count: null };
  const { train } = loadDataset(name);
  return {
    source: new ImageBatches(train, dataSeed, batchSize),
    shape: [train.height, train.width, train.channels],
    count: train.count,
  };
}

/**
 * UserError if a batch is larger than the training set. An error rather than a silent clamp: the batch size
 * is recorded in the checkpoint and sets the learning dynamics, so the user should choose it.
 */
export function checkBatchFits(data: TrainingData, batchSize: number, name: string, resumed: boolean): void {
  if (data.count === null || batchSize <= data.count) return;
  throw new UserError(
    resumed
      ? `the checkpoint's batch size ${batchSize} is larger than the ${data.count} training images of "${name}" now`
      : `--batch ${batchSize} is larger than the ${data.count} training images of "${name}"; pass --batch ${data.count} or less`,
  );
}

/** UserError if a resumed run's data set no longer has the examples' shape the checkpoint was trained on. */
export function checkDataShape(data: TrainingData, dataShape: readonly number[], name: string): void {
  if (data.shape.join() === dataShape.join()) return;
  throw new UserError(
    `the checkpoint was trained on [${dataShape.join(', ')}] examples, but "${name}" now has [${data.shape.join(', ')}]`,
  );
}

/**
 * The training data of a resumed run: the checkpoint's data set, in its seeded order, checked against the
 * checkpoint (the examples' shape, the batch size) before anything is restored.
 */
export function openResumeData(config: {
  dataset: string;
  seed: number;
  batchSize: number;
  dataShape: readonly number[];
}): TrainingData {
  const data = openTrainingData(config.dataset, config.seed, config.batchSize);
  checkDataShape(data, config.dataShape, config.dataset);
  checkBatchFits(data, config.batchSize, config.dataset, true);
  return data;
}
