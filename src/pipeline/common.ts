/** What the pipeline's loaders and models share: which weights to load, and seeds that may continue a stream. */
import { Rng } from '../random/rng.js';
import type { WeightsCopy } from '../train/emaWeights.js';

/** Options of {@link loadDiffusionModel} and {@link loadVae}. */
export interface LoadOptions {
  /** An elbo checkpoint's EMA weights (default) or its raw weights; a diffusers folder has one set only. */
  weights?: WeightsCopy;
}

/**
 * A seed, or a generator to draw from (it advances, so that successive calls — a bound, then samples — continue
 * one stream).
 */
export type SeedOrRng = number | Rng;

/** The generator a {@link SeedOrRng} stands for: a fresh one from a seed, or the given one. */
export function rngOf(s: SeedOrRng): Rng {
  return typeof s === 'number' ? Rng.fromSeed(s) : s;
}
