/**
 * The engine worker: owns the engine (2 threads: this worker + one nested kernel worker) and runs the
 * playground's jobs one after another, reporting through postMessage. It must be a worker, not the page:
 * parallel kernel calls block in Atomics.wait, which the page's main thread may not do.
 */
import { meanOutputs } from '../src/diffusion/learnedVariance.js';
import { toy2d, slicedWasserstein2d } from '../src/data/toy2d.js';
import { createBrowserEngine } from '../src/engine/browser.js';
import type { Engine } from '../src/engine/engine.js';
import { Rng, type RngState } from '../src/random/rng.js';
import { sample } from '../src/samplers/index.js';
import { Context } from '../src/tensor/tensor.js';
import { decodeTrainingState } from '../src/train/checkpoint.js';
import { type BatchSource, type DdpmConfig, DdpmTrainer } from '../src/train/ddpm.js';
import simdUrl from '../build/kernels.wasm?url';
import relaxedUrl from '../build/kernels-relaxed.wasm?url';
import kernelWorkerUrl from './kernelWorker.ts?worker&url';
import type { FromWorker, MoonsSettings, ToWorker } from './protocol.js';

/** Threads of the engine, including this worker. */
const THREADS = 2;

const post = (message: FromWorker, transfer: Transferable[] = []) =>
  (globalThis as unknown as { postMessage(m: FromWorker, t: Transferable[]): void }).postMessage(
    message,
    transfer,
  );

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  return response.arrayBuffer();
}

async function startEngine(): Promise<Engine> {
  const t0 = performance.now();
  const [simd, relaxed] = await Promise.all([fetchBytes(simdUrl), fetchBytes(relaxedUrl)]);
  const engine = await createBrowserEngine({
    simd,
    relaxed,
    threads: THREADS,
    workerUrl: kernelWorkerUrl,
    heapBytes: 256 * 2 ** 20, // grows on demand; the MNIST sampler needs far less than this
  });
  post({
    type: 'ready',
    engine: {
      crossOriginIsolated: globalThis.crossOriginIsolated,
      threads: engine.threads,
      relaxedSimd: engine.relaxedSimd,
      startMs: performance.now() - t0,
    },
  });
  return engine;
}

/** An endless stream of fresh two-moons points; its state is the RNG state (as the CLI's toy data). */
class MoonsBatches implements BatchSource {
  private rng: Rng;
  constructor(seed: number) {
    this.rng = Rng.fromSeed(seed);
  }
  next(batchSize: number): Float32Array {
    return toy2d('two-moons', batchSize, this.rng);
  }
  getState(): unknown {
    return { rng: this.rng.state() };
  }
  setState(state: unknown): void {
    this.rng = Rng.fromState((state as { rng: RngState }).rng);
  }
}

function trainMoons(ctx: Context, s: MoonsSettings): void {
  const config: DdpmConfig = {
    dataset: 'two-moons',
    dataShape: [2],
    model: { kind: 'mlp', mlp: { dims: 2, hidden: 128, layers: 3, timeEmbeddingDim: 32 } },
    schedule: s.schedule,
    T: s.T,
    prediction: 'eps',
    batchSize: s.batchSize,
    lr: s.lr,
    warmupSteps: Math.min(50, Math.floor(s.steps / 10)),
    gradClip: 1,
    emaDecay: 0.99, // a few hundred steps: a short average
    seed: s.seed,
  };
  const trainer = new DdpmTrainer(ctx, config, new MoonsBatches(s.seed + 0x5eed));
  try {
    const t0 = performance.now();
    while (trainer.step < s.steps) {
      const r = trainer.trainStep();
      post({ type: 'progress', step: r.step, loss: r.loss });
    }
    const trainMs = performance.now() - t0;
    const t1 = performance.now();
    const { x } = sample(trainer.schedule, trainer.batchModel(true), s.samples, 2, Rng.fromSeed(s.seed + 1), {
      prediction: config.prediction,
      sampler: { kind: 'ddim', steps: s.ddimSteps, eta: 0, clip: false },
      onStep: (done, total) => post({ type: 'sampling', done, total }),
    });
    const sampleMs = performance.now() - t1;
    const samples = Float32Array.from(x);
    const data = toy2d('two-moons', s.samples, Rng.fromSeed(s.seed + 2));
    const fresh = toy2d('two-moons', s.samples, Rng.fromSeed(s.seed + 3));
    const swd = slicedWasserstein2d(samples, data, Rng.fromSeed(7));
    const swdFloor = slicedWasserstein2d(fresh, data, Rng.fromSeed(7));
    post({ type: 'moons-done', samples, data, trainMs, sampleMs, swd, swdFloor }, [
      samples.buffer,
      data.buffer,
    ]);
  } finally {
    trainer.dispose();
  }
}

async function sampleMnist(ctx: Context, url: string, count: number, ddimSteps: number, seed: number) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(
      `${url}: HTTP ${response.status} — the MNIST checkpoint is not shipped yet ` +
        '(it is `elbo train ddpm --data mnist` copied to checkpoints/mnist-ddpm.safetensors)',
    );
  }
  const state = decodeTrainingState(new Uint8Array(await response.arrayBuffer()));
  if (state.meta.kind !== 'ddpm') throw new Error(`${url} is a ${String(state.meta.kind)} checkpoint`);
  const trainer = DdpmTrainer.restore(ctx, state, null);
  try {
    const dims = state.meta.config.dataShape.reduce((a, b) => a * b, 1);
    const t0 = performance.now();
    // DDIM ignores Σ_θ: a learned-variance model is seen through its mean outputs.
    const model =
      state.meta.config.variance === 'learned-range'
        ? meanOutputs(trainer.batchModel(true))
        : trainer.batchModel(true);
    const { x } = sample(trainer.schedule, model, count, dims, Rng.fromSeed(seed), {
      prediction: state.meta.config.prediction,
      sampler: { kind: 'ddim', steps: ddimSteps, eta: 0, clip: true },
      onStep: (done, total) => post({ type: 'sampling', done, total }),
    });
    const pixels = Float32Array.from(x);
    post({ type: 'mnist-done', pixels, count, step: trainer.step, sampleMs: performance.now() - t0 }, [
      pixels.buffer,
    ]);
  } finally {
    trainer.dispose();
  }
}

const ready = startEngine();
ready.catch((err: unknown) => post({ type: 'error', message: `engine: ${String(err)}` }));
const context = ready.then((engine) => new Context(engine));
let queue: Promise<unknown> = context;

globalThis.addEventListener('message', (event: MessageEvent<ToWorker>) => {
  const job = event.data;
  queue = queue.then(async () => {
    const ctx = await context;
    try {
      switch (job.type) {
        case 'train-moons':
          trainMoons(ctx, job.settings);
          break;
        case 'sample-mnist':
          await sampleMnist(ctx, job.url, job.count, job.ddimSteps, job.seed);
          break;
      }
    } catch (err) {
      post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  });
  queue.catch(() => {});
});
