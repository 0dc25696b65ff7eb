/** Messages between the page (main.ts) and the engine worker (engineWorker.ts): numbered jobs and their replies. */
import type { Toy2dName } from '../src/data/toy2d.js';
import type { SamplerConfig } from '../src/samplers/types.js';

/** Settings of a live 2-D DDPM run (the page shows them; the worker trains with them). */
export interface Train2dSettings {
  dataset: Toy2dName;
  /** Total optimisation steps to reach (a continued run goes on to this many). */
  steps: number;
  lr: number;
  seed: number;
  batchSize: number;
  /** Points drawn for each live picture of the samples. */
  samples: number;
  /** Steps between live pictures of the samples. */
  sampleEvery: number;
}

export type Job =
  | {
      kind: 'sample';
      /** URL of an elbo weights file (EMA-only or a full training checkpoint). */
      url: string;
      count: number;
      sampler: SamplerConfig;
      seed: number;
      /** At most this many trajectory frames (x_t and x̂0), spread over the visited timesteps. */
      frames: number;
    }
  | { kind: 'elbo'; url: string; x0: Float64Array; strata: number; seed: number }
  /** Trains from scratch (`resume` false) or goes on with the worker's current run up to `settings.steps`. */
  | { kind: 'train2d'; settings: Train2dSettings; resume: boolean }
  | { kind: 'vae-decode'; url: string; z: Float64Array }
  | { kind: 'vae-encode'; url: string; x: Float32Array };

export interface SampleResult {
  /** count × 784 values in [−1, 1]. */
  pixels: Float32Array;
  /** Frames of the trajectory: timesteps, and count × 784 values of x_t and of x̂0 per frame. */
  frameTimesteps: number[];
  frames: Float32Array[];
  denoised: Float32Array[];
  count: number;
  nfe: number;
  sampleMs: number;
  /** Waiting for the weights (download or cache, decoding, building the network); ~0 once loaded. */
  loadMs: number;
  /** Optimiser steps behind the model, warm start included. */
  trainedSteps: number;
}

export interface ElboResult {
  /** Nats: the prior term L_T and the decoder term L_0. */
  prior: number;
  decoder: number;
  /** The evaluated L_{t−1} terms: code timestep, nats, and the weight the term enters the sum with. */
  terms: { t: number; nats: number; weight: number }[];
  totalNats: number;
  bitsPerDim: number;
  ms: number;
}

export interface Train2dUpdate {
  step: number;
  /** Losses of the steps since the last update. */
  losses: number[];
  /** Interleaved [x0, y0, …] DDIM samples of the EMA model, when drawn at this update. */
  samples?: Float32Array;
  msPerStep: number;
}

export interface Train2dResult {
  step: number;
  stopped: boolean;
  samples: Float32Array;
  data: Float32Array;
  /** Sliced Wasserstein-2 samples ↔ data, and two data sets against each other (the noise floor). */
  swd: number;
  swdFloor: number;
}

export interface VaeResult {
  /** Decoded means in [0, 1], n × 784 (decode); or the encoder's μ and log σ², n × 2 each (encode). */
  pixels?: Float32Array;
  mean?: Float64Array;
  logVar?: Float64Array;
  latentDim: number;
}

export type ToWorker = { type: 'job'; id: number; job: Job } | { type: 'stop'; id: number };

export interface EngineInfo {
  crossOriginIsolated: boolean;
  threads: number;
  relaxedSimd: boolean;
  /** Milliseconds from the worker's start to a ready engine (fetch + compile + kernel workers). */
  startMs: number;
}

export type FromWorker =
  | { type: 'ready'; engine: EngineInfo }
  | { type: 'progress'; id: number; done: number; total: number; what: string; update?: Train2dUpdate }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number | null; message: string };
