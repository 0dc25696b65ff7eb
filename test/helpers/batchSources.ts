/** Seeded training-data sources for trainer tests: a generator of batches whose RNG state is checkpointed. */
import { Rng, type RngState } from '../../src/random/rng.js';
import type { BatchSource } from '../../src/train/ddpm.js';

/** Batches from `draw(n, rng)` with one seeded generator, its state saved and restored with the trainer's. */
export class SeededBatches implements BatchSource {
  rng: Rng;
  constructor(
    seed: number,
    readonly draw: (n: number, rng: Rng) => Float32Array,
  ) {
    this.rng = Rng.fromSeed(seed);
  }
  next(n: number): Float32Array {
    return this.draw(n, this.rng);
  }
  getState(): RngState {
    return this.rng.state();
  }
  setState(s: unknown): void {
    this.rng = Rng.fromState(s as RngState);
  }
}
