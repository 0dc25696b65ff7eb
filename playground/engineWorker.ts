/**
 * The engine worker: owns the engine and runs the playground's numbered jobs, reporting
 * through postMessage. It must be a worker, not the page: parallel kernel calls block in Atomics.wait, which the
 * page's main thread may not do. Two threads (this worker + one nested kernel worker) when the page is
 * cross-origin isolated; one thread, without SharedArrayBuffer, when it is not.
 */
import { toy2d, slicedWasserstein2d, type Toy2dName } from '../src/data/toy2d.js';
import { createBrowserEngine } from '../src/engine/browser.js';
import type { Engine } from '../src/engine/engine.js';
import { natsToBitsPerDim } from '../src/math/units.js';
import { type DiffusionModel, loadDiffusionModel, loadVae, type Vae } from '../src/pipeline/index.js';
import { Rng, type RngState } from '../src/random/rng.js';
import { sample, samplerTimesteps } from '../src/samplers/index.js';
import { Context } from '../src/tensor/tensor.js';
import { type BatchSource, type DdpmConfig, DdpmTrainer } from '../src/train/ddpm.js';
import simdUrl from '../build/kernels.wasm?url';
import relaxedUrl from '../build/kernels-relaxed.wasm?url';
import kernelWorkerUrl from './kernelWorker.ts?worker&url';
import type {
  ElboResult,
  FromWorker,
  Job,
  SampleResult,
  ToWorker,
  Train2dResult,
  Train2dSettings,
  VaeResult,
} from './protocol.js';

/** Threads of the engine when the page is cross-origin isolated, this worker included. */
const ISOLATED_THREADS = 2;
/** Cache API bucket of the weight files: fetched once per browser, not once per click. */
const WEIGHTS_CACHE = 'elbo-playground-weights-v1';

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

/** The bytes of a weights file, from the Cache API when this browser fetched it before. */
async function fetchWeights(url: string): Promise<Uint8Array> {
  const cache = typeof caches === 'undefined' ? null : await caches.open(WEIGHTS_CACHE).catch(() => null);
  const hit = await cache?.match(url);
  if (hit) return new Uint8Array(await hit.arrayBuffer());
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(
      `${url}: HTTP ${response.status} ${response.statusText} — no weights file at this address; ` +
        '`node scripts/playground-assets.mjs` writes them to playground/assets/',
    );
  }
  const bytes = new Uint8Array(await response.clone().arrayBuffer());
  await cache?.put(url, response).catch(() => {}); // a full or refused cache only costs a refetch
  return bytes;
}

async function startEngine(): Promise<Engine> {
  const t0 = performance.now();
  const [simd, relaxed] = await Promise.all([fetchBytes(simdUrl), fetchBytes(relaxedUrl)]);
  const isolated = globalThis.crossOriginIsolated === true;
  const engine = await createBrowserEngine({
    simd,
    relaxed,
    threads: isolated ? ISOLATED_THREADS : 1,
    workerUrl: kernelWorkerUrl,
    heapBytes: 256 * 2 ** 20, // grows on demand
  });
  post({
    type: 'ready',
    engine: {
      crossOriginIsolated: isolated,
      threads: engine.threads,
      relaxedSimd: engine.relaxedSimd,
      startMs: performance.now() - t0,
    },
  });
  return engine;
}

/** An endless stream of fresh points of a toy set; its state is the RNG state. */
class ToyBatches implements BatchSource {
  private rng: Rng;
  constructor(
    private readonly name: Toy2dName,
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

/** The 2-D DDPM every live run trains: [Ho20]'s linear schedule, T = 1000, an MLP ε-predictor. */
function toyConfig(s: Train2dSettings): DdpmConfig {
  return {
    dataset: s.dataset,
    dataShape: [2],
    model: { kind: 'mlp', mlp: { dims: 2, hidden: 128, layers: 3, timeEmbeddingDim: 32 } },
    schedule: 'linear',
    T: 1000,
    prediction: 'eps',
    batchSize: s.batchSize,
    lr: s.lr,
    warmupSteps: 50,
    gradClip: 1,
    emaDecay: 0.995,
    seed: s.seed,
  };
}

/** Everything the worker holds between jobs (one instance; no module-level mutable state). */
class JobRunner {
  private readonly ddpms = new Map<string, Promise<DiffusionModel>>();
  private readonly vaes = new Map<string, Promise<Vae>>();
  private toy: { trainer: DdpmTrainer; settings: Train2dSettings } | null = null;
  readonly stopRequests = new Set<number>();

  constructor(private readonly ctx: Context) {}

  /** A DDPM from a weights file, loaded once per session (its EMA weights; loadDiffusionModel, no trainer). */
  private ddpm(url: string): Promise<DiffusionModel> {
    let model = this.ddpms.get(url);
    if (!model) {
      model = cachedBytes(url).then((bytes) => named(url, () => loadDiffusionModel(this.ctx, bytes)));
      model.catch(() => this.ddpms.delete(url)); // a failed load is retried next time
      this.ddpms.set(url, model);
    }
    return model;
  }

  /** A VAE from a weights file, loaded once per session (its EMA weights; loadVae, no trainer). */
  private vae(url: string): Promise<Vae> {
    let model = this.vaes.get(url);
    if (!model) {
      model = cachedBytes(url).then((bytes) => named(url, () => loadVae(this.ctx, bytes)));
      model.catch(() => this.vaes.delete(url));
      this.vaes.set(url, model);
    }
    return model;
  }

  async run(id: number, job: Job): Promise<{ result: unknown; transfer: Transferable[] }> {
    switch (job.kind) {
      case 'sample':
        return this.sample(id, job);
      case 'elbo':
        return this.elbo(id, job);
      case 'train2d':
        return this.train2d(id, job.settings, job.resume);
      case 'vae-decode':
        return this.vaeDecode(job.url, job.z);
      case 'vae-encode':
        return this.vaeEncode(job.url, job.x);
    }
  }

  private async sample(id: number, job: Extract<Job, { kind: 'sample' }>) {
    post({ type: 'progress', id, done: 0, total: 1, what: 'loading the weights' });
    const tLoad = performance.now();
    const model = await this.ddpm(job.url);
    const loadMs = performance.now() - tLoad;
    const visited = samplerTimesteps(model.schedule.T, job.sampler);
    const stride = Math.max(1, Math.ceil(visited.length / job.frames));
    const recordAt = visited.filter((_, i) => i % stride === 0);
    const t0 = performance.now();
    const r = model.sample({
      n: job.count,
      batchSize: job.count, // one batch: the trajectory frames show every sample
      seed: job.seed,
      sampler: job.sampler,
      recordTrajectory: recordAt,
      onProgress: (done, total) => post({ type: 'progress', id, done, total, what: 'sampling' }),
    });
    const sampleMs = performance.now() - t0;
    const frameTimesteps = recordAt.filter((t) => r.trajectory.has(t) && r.denoised.has(t));
    const result: SampleResult = {
      pixels: Float32Array.from(r.x),
      frameTimesteps,
      frames: frameTimesteps.map((t) => Float32Array.from(r.trajectory.get(t)!)),
      denoised: frameTimesteps.map((t) => Float32Array.from(r.denoised.get(t)!)),
      count: job.count,
      nfe: r.nfe,
      sampleMs,
      loadMs,
      trainedSteps: model.trainingSteps ?? 0,
    };
    return {
      result,
      transfer: [result.pixels, ...result.frames, ...result.denoised].map((a) => a.buffer),
    };
  }

  private async elbo(id: number, job: Extract<Job, { kind: 'elbo' }>) {
    post({ type: 'progress', id, done: 0, total: 1, what: 'loading the weights' });
    const model = await this.ddpm(job.url);
    const t0 = performance.now();
    const r = model.bound({
      images: job.x0,
      seed: job.seed,
      terms: { strata: job.strata },
      onTerm: (done, total) => post({ type: 'progress', id, done, total, what: 'terms' }),
    });
    const result: ElboResult = {
      prior: r.prior[0],
      decoder: r.decoder[0],
      terms: [...r.terms].map(([t, { nats, weight }]) => ({ t, nats: nats[0], weight })),
      totalNats: r.total[0],
      bitsPerDim: natsToBitsPerDim(r.total[0], job.x0.length),
      ms: performance.now() - t0,
    };
    return { result, transfer: [] };
  }

  private drawToy(trainer: DdpmTrainer, s: Train2dSettings, seed: number): Float32Array {
    const { x } = sample(trainer.schedule, trainer.batchModel(true), {
      batch: s.samples,
      dims: 2,
      rng: Rng.fromSeed(seed),
      prediction: 'eps',
      sampler: { kind: 'ddim', steps: 50, eta: 0, clip: false },
    });
    return Float32Array.from(x);
  }

  private async train2d(id: number, settings: Train2dSettings, resume: boolean) {
    if (!resume || !this.toy || this.toy.settings.dataset !== settings.dataset) {
      this.toy?.trainer.dispose();
      this.toy = null;
      const trainer = new DdpmTrainer(
        this.ctx,
        toyConfig(settings),
        new ToyBatches(settings.dataset, settings.seed + 0x5eed),
      );
      this.toy = { trainer, settings };
    }
    const { trainer } = this.toy;
    trainer.opt.lr = settings.lr;
    (trainer.config as { lr: number }).lr = settings.lr; // the learning rate may change on continue
    this.toy.settings = settings;
    let losses: number[] = [];
    let t0 = performance.now();
    let stepsSince = 0;
    let stopped = false;
    while (trainer.step < settings.steps) {
      losses.push(trainer.trainStep().loss);
      stepsSince++;
      const step = trainer.step;
      const picture = step % settings.sampleEvery === 0 || step === settings.steps;
      if (step % 25 === 0 || picture) {
        const msPerStep = (performance.now() - t0) / stepsSince;
        const samples = picture ? this.drawToy(trainer, settings, settings.seed + 1) : undefined;
        post({
          type: 'progress',
          id,
          done: step,
          total: settings.steps,
          what: 'training',
          update: { step, losses, samples, msPerStep },
        });
        losses = [];
        // Let a 'stop' message in: it arrives as an event, between two macrotasks.
        await new Promise((resolve) => setTimeout(resolve, 0));
        t0 = performance.now();
        stepsSince = 0;
        if (this.stopRequests.delete(id)) {
          stopped = true;
          break;
        }
      }
    }
    const samples = this.drawToy(trainer, settings, settings.seed + 1);
    const data = toy2d(settings.dataset, settings.samples, Rng.fromSeed(settings.seed + 2));
    const fresh = toy2d(settings.dataset, settings.samples, Rng.fromSeed(settings.seed + 3));
    const result: Train2dResult = {
      step: trainer.step,
      stopped,
      samples,
      data,
      swd: slicedWasserstein2d(samples, data, Rng.fromSeed(7)),
      swdFloor: slicedWasserstein2d(fresh, data, Rng.fromSeed(7)),
    };
    return { result, transfer: [samples.buffer, data.buffer] };
  }

  private async vaeDecode(url: string, z: Float64Array) {
    const vae = await this.vae(url);
    // The decoder's mean images in [−1, 1] (Bernoulli: 2σ(logit) − 1), shown in [0, 1].
    const pixels = vae.decode(Float32Array.from(z)).map((v) => Math.min(1, Math.max(0, (v + 1) / 2)));
    const result: VaeResult = { pixels, latentDim: vae.latentDim };
    return { result, transfer: [pixels.buffer] };
  }

  private async vaeEncode(url: string, x: Float32Array) {
    const vae = await this.vae(url);
    const q = vae.encode(x);
    const result: VaeResult = {
      mean: Float64Array.from(q.mean),
      logVar: Float64Array.from(q.logVar),
      latentDim: vae.latentDim,
    };
    return { result, transfer: [] };
  }
}

/** Runs a loader, its error naming the weights file. */
function named<T>(url: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    throw new Error(`${url}: ${(err as Error).message}`);
  }
}

/**
 * Weight files by URL, fetched once per session: a job's download starts when the job arrives, while the engine
 * may still be starting.
 */
const downloads = new Map<string, Promise<Uint8Array>>();
function cachedBytes(url: string): Promise<Uint8Array> {
  let bytes = downloads.get(url);
  if (!bytes) {
    bytes = fetchWeights(url);
    bytes.catch(() => downloads.delete(url)); // a failed download is retried next time
    downloads.set(url, bytes);
  }
  return bytes;
}

const ready = startEngine();
ready.catch((err: unknown) => post({ type: 'error', id: null, message: `engine: ${String(err)}` }));
const runner = ready.then((engine) => new JobRunner(new Context(engine)));

// Jobs run as they arrive, not queued: each network call is synchronous, so two jobs interleave only where one
// awaits (loading weights, or the live training's pauses every 25 steps) — a sampling request need not wait
// for a long training run to end. The page lets one training run at a time.
globalThis.addEventListener('message', (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  if (m.type === 'stop') {
    void runner.then((r) => r.stopRequests.add(m.id));
    return;
  }
  if ('url' in m.job) cachedBytes(m.job.url).catch(() => {}); // the job reports the error
  runner
    .then((r) => r.run(m.id, m.job))
    .then(({ result, transfer }) => post({ type: 'result', id: m.id, result }, transfer))
    .catch((err: unknown) =>
      post({ type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) }),
    );
});
