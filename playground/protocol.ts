/** Messages between the page (main.ts) and the engine worker (engineWorker.ts). */
import type { ScheduleName } from '../src/diffusion/schedule.js';

/** Settings of the two-moons run (the page shows them; the worker trains with them). */
export interface MoonsSettings {
  steps: number;
  batchSize: number;
  lr: number;
  schedule: ScheduleName;
  /** Diffusion steps T. */
  T: number;
  /** DDIM steps for sampling, and how many points to draw. */
  ddimSteps: number;
  samples: number;
  seed: number;
}

export type ToWorker =
  | { type: 'train-moons'; settings: MoonsSettings }
  | { type: 'sample-mnist'; url: string; count: number; ddimSteps: number; seed: number };

export interface EngineInfo {
  crossOriginIsolated: boolean;
  threads: number;
  relaxedSimd: boolean;
  /** Milliseconds from the worker's start to a ready engine (fetch + compile + kernel workers). */
  startMs: number;
}

export type FromWorker =
  | { type: 'ready'; engine: EngineInfo }
  | { type: 'progress'; step: number; loss: number }
  | { type: 'sampling'; done: number; total: number }
  | {
      type: 'moons-done';
      /** Interleaved [x0, y0, x1, y1, …] DDIM samples and as many fresh data points. */
      samples: Float32Array;
      data: Float32Array;
      trainMs: number;
      sampleMs: number;
      /** Sliced Wasserstein-2 distance samples ↔ data, and data ↔ fresh data (the noise floor). */
      swd: number;
      swdFloor: number;
    }
  | {
      type: 'mnist-done';
      /** count × 28 × 28 pixels in [−1, 1]. */
      pixels: Float32Array;
      count: number;
      step: number;
      sampleMs: number;
    }
  | { type: 'error'; message: string };
