/**
 * The playground page: UI only. All numerical work runs in the engine worker (engineWorker.ts); this file
 * sends it jobs and draws what comes back. `window.elboPlayground` mirrors the page's state for tests and
 * for the curious (read it in the console).
 */
import { lineChartSvg } from '../src/plot/lineChart.js';
import type { EngineInfo, FromWorker, MoonsSettings, ToWorker } from './protocol.js';

/**
 * [Ho20]'s linear schedule with T = 1000 (ᾱ_T ≈ 4e-5, so x_T is close to the N(0, I) sampling starts from).
 * Not cosine: with ε-prediction its last ᾱ (≈ 6e-8 at T = 200, β clipped at 0.999) makes DDIM's first x̂0 =
 * (x_t − √(1−ᾱ_t) ε̂)/√ᾱ_t blow up the network's error (measured: sliced W2 3.9 against 0.17 here after 400
 * steps). Not linear with T = 200 either: unscaled, it ends at ᾱ_T ≈ 0.13.
 */
/** The run's settings; the page lets the user choose `steps` (500 by default). */
const MOONS: MoonsSettings = {
  steps: 500,
  batchSize: 256,
  lr: 2e-3,
  schedule: 'linear',
  T: 1000,
  ddimSteps: 50,
  samples: 1000,
  seed: 0,
};

interface PlaygroundState {
  engine: EngineInfo | null;
  /** Main-thread view of isolation (the worker reports its own in engine). */
  pageCrossOriginIsolated: boolean;
  moons: {
    settings: MoonsSettings;
    running: boolean;
    done: boolean;
    losses: number[];
    samples: number;
    trainMs: number;
    sampleMs: number;
    swd: number;
    swdFloor: number;
  };
  mnist: { done: boolean; count: number; step: number; sampleMs: number };
  errors: string[];
}

const state: PlaygroundState = {
  engine: null,
  pageCrossOriginIsolated: globalThis.crossOriginIsolated,
  moons: {
    settings: MOONS,
    running: false,
    done: false,
    losses: [],
    samples: 0,
    trainMs: 0,
    sampleMs: 0,
    swd: NaN,
    swdFloor: NaN,
  },
  mnist: { done: false, count: 0, step: 0, sampleMs: 0 },
  errors: [],
};
(globalThis as unknown as { elboPlayground: PlaygroundState }).elboPlayground = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const engineLine = $('engine-line');
const moonsStart = $<HTMLButtonElement>('moons-start');
const moonsStatus = $('moons-status');
const mnistStart = $<HTMLButtonElement>('mnist-start');
const mnistStatus = $('mnist-status');
const moonsSteps = $<HTMLSelectElement>('moons-steps');
$('moons-settings').textContent =
  `${MOONS.batchSize} points (${MOONS.schedule} schedule, T = ${MOONS.T}, learning rate ${MOONS.lr})`;

/** Which job the worker's 'sampling' and 'error' messages belong to. */
let current: 'moons' | 'mnist' | null = null;

function showError(where: HTMLElement, message: string): void {
  state.errors.push(message);
  where.textContent = message;
  where.className = 'error';
}

if (!globalThis.crossOriginIsolated) {
  showError(
    engineLine,
    'This page is not cross-origin isolated, so the engine cannot share memory between threads. Serve it with ' +
      'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (npx vite playground does).',
  );
}

const worker = new Worker(new URL('./engineWorker.ts', import.meta.url), {
  type: 'module',
  name: 'elbo-engine',
});
const send = (message: ToWorker) => worker.postMessage(message);
worker.addEventListener('error', (e) =>
  showError(engineLine, `engine worker failed: ${e.message || 'could not load'}`),
);

// Loss chart: redrawn at most once per animation frame.
let lossFramePending = false;
function drawLoss(): void {
  if (lossFramePending) return;
  lossFramePending = true;
  requestAnimationFrame(() => {
    lossFramePending = false;
    const y = state.moons.losses;
    const x = y.map((_, i) => i + 1);
    const smooth: number[] = [];
    y.forEach((v, i) => smooth.push(i === 0 ? v : 0.95 * smooth[i - 1] + 0.05 * v));
    $('moons-loss').innerHTML = lineChartSvg(
      [
        { name: 'L_simple (batch)', x, y, color: '#9ecae1' },
        { name: 'moving average', x, y: smooth, color: '#0072B2' },
      ],
      {
        title: 'Training loss',
        xLabel: 'step',
        yLabel: 'mean squared error of ε̂',
        logY: true,
        width: 480,
        height: 340,
      },
    );
  });
}

function drawScatter(samples: Float32Array, data: Float32Array): void {
  const xs = (a: Float32Array) => a.filter((_, i) => i % 2 === 0);
  const ys = (a: Float32Array) => a.filter((_, i) => i % 2 === 1);
  $('moons-scatter').innerHTML = lineChartSvg(
    [
      { name: 'data', x: xs(data), y: ys(data), color: '#bbbbbb', points: true },
      { name: 'DDIM samples', x: xs(samples), y: ys(samples), color: '#D55E00', points: true },
    ],
    // Wider than tall like the data (x spans about twice y), so the moons keep their shape.
    { title: 'Two moons: data and samples', xLabel: 'x₁', yLabel: 'x₂', width: 480, height: 340 },
  );
}

function drawDigits(pixels: Float32Array, count: number): void {
  const canvas = $<HTMLCanvasElement>('mnist-grid');
  const side = Math.ceil(Math.sqrt(count));
  canvas.width = canvas.height = side * 28;
  const g = canvas.getContext('2d')!;
  const image = g.createImageData(side * 28, side * 28);
  for (let n = 0; n < count; n++) {
    const ox = (n % side) * 28;
    const oy = Math.floor(n / side) * 28;
    for (let p = 0; p < 784; p++) {
      const v = Math.round(((Math.max(-1, Math.min(1, pixels[n * 784 + p])) + 1) / 2) * 255);
      const at = 4 * ((oy + Math.floor(p / 28)) * side * 28 + ox + (p % 28));
      image.data.set([v, v, v, 255], at);
    }
  }
  g.putImageData(image, 0, 0);
  canvas.hidden = false;
}

worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case 'ready': {
      state.engine = m.engine;
      engineLine.textContent =
        `engine: ${m.engine.relaxedSimd ? 'relaxed-SIMD kernels (fused multiply-add)' : 'plain-SIMD kernels (no relaxed SIMD here)'}` +
        ` · ${m.engine.threads} threads` +
        ` · cross-origin isolated: ${m.engine.crossOriginIsolated ? 'yes' : 'no'}` +
        ` · ready in ${m.engine.startMs.toFixed(0)} ms`;
      moonsStart.disabled = false;
      mnistStart.disabled = false;
      break;
    }
    case 'progress': {
      state.moons.losses.push(m.loss);
      moonsStatus.textContent = `step ${m.step}/${state.moons.settings.steps} · loss ${m.loss.toFixed(4)}`;
      drawLoss();
      break;
    }
    case 'sampling': {
      const where = current === 'mnist' ? mnistStatus : moonsStatus;
      where.textContent = `sampling: DDIM step ${m.done}/${m.total}`;
      break;
    }
    case 'moons-done': {
      Object.assign(state.moons, {
        running: false,
        done: true,
        samples: m.samples.length / 2,
        trainMs: m.trainMs,
        sampleMs: m.sampleMs,
        swd: m.swd,
        swdFloor: m.swdFloor,
      });
      drawScatter(m.samples, m.data);
      const steps = state.moons.settings.steps;
      const perStep = m.trainMs / steps;
      moonsStatus.textContent =
        `trained ${steps} steps in ${(m.trainMs / 1000).toFixed(1)} s (${perStep.toFixed(1)} ms/step), ` +
        `sampled ${m.samples.length / 2} points in ${(m.sampleMs / 1000).toFixed(1)} s · sliced Wasserstein-2 to fresh data ` +
        `${m.swd.toFixed(3)} (two fresh data sets: ${m.swdFloor.toFixed(3)})`;
      moonsStart.disabled = mnistStart.disabled = false;
      current = null;
      break;
    }
    case 'mnist-done': {
      Object.assign(state.mnist, { done: true, count: m.count, step: m.step, sampleMs: m.sampleMs });
      drawDigits(m.pixels, m.count);
      mnistStatus.textContent = `${m.count} digits in ${(m.sampleMs / 1000).toFixed(1)} s (model trained ${m.step} steps)`;
      moonsStart.disabled = mnistStart.disabled = false;
      current = null;
      break;
    }
    case 'error': {
      showError(
        current === 'mnist' ? mnistStatus : current === 'moons' ? moonsStatus : engineLine,
        m.message,
      );
      if (current === 'moons') state.moons.running = false;
      moonsStart.disabled = mnistStart.disabled = state.engine === null;
      current = null;
      break;
    }
  }
});

moonsStart.addEventListener('click', () => {
  moonsStart.disabled = mnistStart.disabled = true;
  current = 'moons';
  const settings = { ...MOONS, steps: Number(moonsSteps.value) };
  Object.assign(state.moons, { settings, running: true, done: false, losses: [], samples: 0 });
  moonsStatus.className = 'status';
  moonsStatus.textContent = 'starting…';
  send({ type: 'train-moons', settings });
});

mnistStart.addEventListener('click', () => {
  moonsStart.disabled = mnistStart.disabled = true;
  current = 'mnist';
  mnistStatus.className = 'status';
  mnistStatus.textContent = 'loading the checkpoint…';
  send({
    type: 'sample-mnist',
    url: new URL('checkpoints/mnist-ddpm.safetensors', document.baseURI).href,
    count: 16,
    ddimSteps: 50,
    seed: 0,
  });
});
