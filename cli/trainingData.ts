/**
 * Training data for the trainers, as a BatchSource whose state (position in a seeded epoch order, RNG state)
 * goes into checkpoints: images from a dataset (MNIST, Fashion-MNIST, a PNG folder), or an endless stream of
 * fresh points from a 2-D toy distribution.
 */
import { BatchSampler, type BatchSamplerState, batchOf, type ImageDataset } from '../src/data/images.js';
import { Rng, type RngState } from '../src/random/rng.js';
import type { BatchSource } from '../src/train/ddpm.js';
import { isToy2dName, toy2d } from '../src/data/toy2d.js';
import { loadDataset } from './data.js';

export interface TrainingData {
  source: BatchSource;
  /** Shape of one example: [H, W, C] or [2]. */
  shape: number[];
}

/** Epochs over seeded permutations of a dataset's images (src/data BatchSampler, resumable exactly). */
class ImageBatches implements BatchSource {
  private sampler: BatchSampler | null = null;
  constructor(
    private readonly dataset: ImageDataset,
    private readonly seed: number,
  ) {}
  next(batchSize: number): Float32Array {
    this.sampler ??= new BatchSampler(this.dataset.count, batchSize, Rng.fromSeed(this.seed));
    return batchOf(this.dataset, this.sampler.next().indices);
  }
  getState(): unknown {
    return this.sampler?.state() ?? null;
  }
  setState(state: unknown): void {
    this.sampler = state === null ? null : BatchSampler.fromState(state as BatchSamplerState);
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
    this.rng = Rng.fromState((state as { rng: RngState }).rng);
  }
}

/** Opens a dataset by name for training; `seed` fixes the data order. */
export function openTrainingData(name: string, seed: number): TrainingData {
  const dataSeed = seed + 0x5eed;
  if (isToy2dName(name)) return { source: new ToyBatches(name, dataSeed), shape: [2] };
  const { train } = loadDataset(name);
  return {
    source: new ImageBatches(train, dataSeed),
    shape: [train.height, train.width, train.channels],
  };
}
