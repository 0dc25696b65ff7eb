/**
 * The playground page. Light math (the forward process, KL fits, the coins) runs here with elbo's library;
 * network work runs in the engine worker (engineWorker.ts) as numbered jobs. `window.elboPlayground` mirrors what
 * each panel shows, for tests and for the curious (read it in the console).
 */
import {
  betaBernoulliPosterior,
  betaBernoulliPredictive,
  betaCredibleInterval,
  type BetaParams,
} from '../src/bayes/conjugate.js';
import { betaLogPdf } from '../src/bayes/distributions.js';
import {
  fitReverseKl,
  forwardKlQuadrature,
  type Gaussian1d,
  gaussianLogPdf,
  linspace,
  type GaussianMixture1d,
  mixtureLogPdf,
  mixtureMoments,
  reverseKlQuadrature,
} from '../src/bayes/klFit.js';
import { decodeSafetensors } from '../src/checkpoint/safetensors.js';
import type { Toy2dName } from '../src/data/toy2d.js';
import { qSample } from '../src/diffusion/forward.js';
import { noiseSchedule, type NoiseSchedule, type ScheduleName } from '../src/diffusion/schedule.js';
import { lineChartSvg, type Series } from '../src/plot/lineChart.js';
import { Rng } from '../src/random/rng.js';
import {
  optimalGaussianDecoderMean,
  reversedEncoderWeights,
  type DiagonalGaussian,
} from '../src/vae/posteriorMean.js';
import type { SamplerConfig } from '../src/samplers/types.js';
import ddpmWeightsUrl from './assets/mnist-ddpm-ema.safetensors?url';
import digitsUrl from './assets/mnist-test-digits.safetensors?url';
import vaeWeightsUrl from './assets/mnist-vae-2d-ema.safetensors?url';
import type {
  ElboResult,
  EngineInfo,
  FromWorker,
  Job,
  SampleResult,
  ToWorker,
  Train2dResult,
  Train2dSettings,
  Train2dUpdate,
  VaeResult,
} from './protocol.js';

const T = 1000;
// Imported as URLs: the build names each file after its content's hash, so a browser's cached copy (Cache API,
// see engineWorker.ts) is never served for changed weights.
const DDPM_WEIGHTS = ddpmWeightsUrl;
const VAE_WEIGHTS = vaeWeightsUrl;
const DIGITS_FILE = digitsUrl;
const TRAJECTORY_FRAMES = 25;
/** The digit menus offer the first 32 test digits; the VAE panel's optimal decoder averages over all 512. */
const SELECTABLE_DIGITS = 32;

/** What each panel shows (window.elboPlayground; the browser test reads it). */
export interface PlaygroundState {
  engine: EngineInfo | null;
  /** Main-thread view of isolation (the worker reports its own in engine). */
  pageCrossOriginIsolated: boolean;
  /** The single-thread note shown when the page could not be isolated, else null. */
  isolationNote: string | null;
  /** performance.now() (ms since this document's navigation) when the first digits were drawn. */
  firstDigitsMs: number | null;
  forward: { digit: number; schedule: ScheduleName; t: number; seed: number; alphaBar: number; snr: number };
  sample: {
    runs: number;
    running: boolean;
    sampler: string;
    count: number;
    seed: number;
    sampleMs: number;
    loadMs: number;
    msPerDigit: number;
    nfe: number;
    trainedSteps: number;
    frames: number;
  };
  elbo: { digit: number; strata: number; seed: number; result: ElboResult | null };
  kl: {
    mixture: GaussianMixture1d;
    forward: Gaussian1d;
    reverse: Gaussian1d;
    forwardKl: number;
    reverseKl: number;
  };
  coins: { prior: BetaParams; heads: number; tails: number; posterior: BetaParams; predictive: number };
  vae: {
    available: boolean;
    clicked: number[] | null;
    encoded: { mean: number[]; std: number[] } | null;
    /** At the clicked z: how many test digits the optimal decoder's average effectively mixes (1/Σw²). */
    optimalMix: number | null;
    /** The two posterior means the interpolation walks between. */
    interpolated: [number[], number[]] | null;
  };
  train2d: {
    settings: Train2dSettings | null;
    running: boolean;
    step: number;
    losses: number[];
    pictures: number;
    result: Train2dResult | null;
  };
  errors: string[];
}

const state: PlaygroundState = {
  engine: null,
  pageCrossOriginIsolated: globalThis.crossOriginIsolated,
  isolationNote: null,
  firstDigitsMs: null,
  forward: { digit: 0, schedule: 'linear', t: 250, seed: 0, alphaBar: NaN, snr: NaN },
  sample: {
    runs: 0,
    running: false,
    sampler: '',
    count: 0,
    seed: 0,
    sampleMs: 0,
    loadMs: 0,
    msPerDigit: 0,
    nfe: 0,
    trainedSteps: 0,
    frames: 0,
  },
  elbo: { digit: 0, strata: 50, seed: 0, result: null },
  kl: {
    mixture: { weights: [], means: [], stds: [] },
    forward: { mean: NaN, std: NaN },
    reverse: { mean: NaN, std: NaN },
    forwardKl: NaN,
    reverseKl: NaN,
  },
  coins: { prior: { a: 1, b: 1 }, heads: 0, tails: 0, posterior: { a: 1, b: 1 }, predictive: 0.5 },
  vae: { available: false, clicked: null, encoded: null, optimalMix: null, interpolated: null },
  train2d: { settings: null, running: false, step: 0, losses: [], pictures: 0, result: null },
  errors: [],
};
(globalThis as unknown as { elboPlayground: PlaygroundState }).elboPlayground = state;

const $ = <E extends HTMLElement>(id: string) => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as E;
};
const input = (id: string) => $<HTMLInputElement>(id);
const num = (id: string) => Number(input(id).value);
const url = (file: string) => new URL(file, document.baseURI).href;

function showError(where: HTMLElement, message: string): void {
  state.errors.push(message);
  where.textContent = message;
  where.className = 'status error';
}

function setStatus(where: HTMLElement, text: string): void {
  where.textContent = text;
  where.className = 'status';
}

/** Progress bar plus "done/total · ≈ N s left", the estimate from the elapsed time. */
function progressReporter(bar: HTMLProgressElement, status: HTMLElement) {
  const t0 = performance.now();
  return (done: number, total: number, what: string) => {
    bar.max = Math.max(1, total);
    bar.value = done;
    const elapsed = (performance.now() - t0) / 1000;
    const left = done > 0 ? (elapsed * (total - done)) / done : NaN;
    setStatus(
      status,
      `${what} ${done}/${total}` +
        (Number.isFinite(left) && done > 0 ? ` · about ${left.toFixed(0)} s left` : ''),
    );
  };
}

// ---- the engine worker: numbered jobs ----

const worker = new Worker(new URL('./engineWorker.ts', import.meta.url), {
  type: 'module',
  name: 'elbo-engine',
});
let nextJobId = 1;
const pending = new Map<
  number,
  {
    resolve: (r: unknown) => void;
    reject: (e: Error) => void;
    onProgress?: (m: Extract<FromWorker, { type: 'progress' }>) => void;
  }
>();

function runJob<R>(
  job: Job,
  onProgress?: (m: Extract<FromWorker, { type: 'progress' }>) => void,
): { id: number; result: Promise<R> } {
  const id = nextJobId++;
  const result = new Promise<R>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (r: unknown) => void, reject, onProgress });
  });
  worker.postMessage({ type: 'job', id, job } satisfies ToWorker);
  return { id, result };
}

const engineLine = $('engine-line');
worker.addEventListener('error', (e) =>
  showError(engineLine, `the engine worker failed to load: ${e.message || 'reload the page'}`),
);
const engineReady = new Promise<EngineInfo>((resolve) => {
  worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
    const m = event.data;
    switch (m.type) {
      case 'ready':
        resolve(m.engine);
        break;
      case 'progress':
        pending.get(m.id)?.onProgress?.(m);
        break;
      case 'result':
        pending.get(m.id)?.resolve(m.result);
        pending.delete(m.id);
        break;
      case 'error':
        if (m.id === null) showError(engineLine, m.message);
        else {
          pending.get(m.id)?.reject(new Error(m.message));
          pending.delete(m.id);
        }
        break;
    }
  });
});

// ---- pictures ----

/** Draws `count` 28×28 images (values mapped from [lo, hi] to black…white) in a grid of `cols` columns. */
function drawImages(
  canvas: HTMLCanvasElement,
  pixels: ArrayLike<number>,
  count: number,
  cols: number,
  lo = -1,
  hi = 1,
): void {
  const rows = Math.ceil(count / cols);
  canvas.width = cols * 28;
  canvas.height = rows * 28;
  const g = canvas.getContext('2d')!;
  const image = g.createImageData(canvas.width, canvas.height);
  for (let n = 0; n < count; n++) {
    const ox = (n % cols) * 28;
    const oy = Math.floor(n / cols) * 28;
    for (let p = 0; p < 784; p++) {
      const v = Math.round(((Math.max(lo, Math.min(hi, pixels[n * 784 + p])) - lo) / (hi - lo)) * 255);
      const at = 4 * ((oy + Math.floor(p / 28)) * canvas.width + ox + (p % 28));
      image.data[at] = image.data[at + 1] = image.data[at + 2] = v;
      image.data[at + 3] = 255;
    }
  }
  g.putImageData(image, 0, 0);
}

function chart(id: string, series: Series[], options: Parameters<typeof lineChartSvg>[1]): void {
  $(id).innerHTML = lineChartSvg(series, { width: 480, height: 320, ...options });
}

// ---- test digits (8-bit MNIST test images, shared by panels 1, 3 and 4) ----

interface Digits {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}
const digitsReady: Promise<Digits> = fetch(url(DIGITS_FILE))
  .then((r) => {
    if (!r.ok) throw new Error(`${DIGITS_FILE}: HTTP ${r.status} (run node scripts/playground-assets.mjs)`);
    return r.arrayBuffer();
  })
  .then((buffer) => {
    const { tensors } = decodeSafetensors(new Uint8Array(buffer));
    const images = tensors.images?.data;
    const labels = tensors.labels?.data;
    if (!(images instanceof Uint8Array) || !(labels instanceof Uint8Array))
      throw new Error(`${DIGITS_FILE} has no U8 "images" and "labels"`);
    return { images, labels, count: labels.length };
  });

/** Digit i as x0 in [−1, 1] (x/127.5 − 1, as the model was trained). */
function digitX0(d: Digits, i: number): Float64Array {
  return Float64Array.from(d.images.subarray(i * 784, (i + 1) * 784), (v) => v / 127.5 - 1);
}

function fillDigitSelect(select: HTMLSelectElement, d: Digits): void {
  select.innerHTML = '';
  for (let i = 0; i < Math.min(d.count, SELECTABLE_DIGITS); i++)
    select.add(new Option(`test #${i} (a ${d.labels[i]})`, String(i)));
}

// ---- 1 · the forward process ----

const schedules: Record<'linear' | 'cosine', NoiseSchedule> = {
  linear: noiseSchedule('linear', T),
  cosine: noiseSchedule('cosine', T),
};
const STRIP_T = [0, 50, 100, 200, 400, 600, 999];

function forwardCharts(t: number): void {
  const ts = Array.from({ length: T }, (_, i) => i);
  const lin = schedules.linear;
  const cos = schedules.cosine;
  const marker = (lo: number, hi: number): Series => ({
    name: `t = ${t}`,
    x: [t, t],
    y: [lo, hi],
    color: '#999',
  });
  chart(
    'fwd-beta',
    [{ name: 'linear', x: ts, y: lin.beta }, { name: 'cosine', x: ts, y: cos.beta }, marker(1e-4, 1)],
    { title: 'β_t', xLabel: 't', yLabel: 'β_t', logY: true },
  );
  chart(
    'fwd-alphabar',
    [{ name: 'linear', x: ts, y: lin.alphaBar }, { name: 'cosine', x: ts, y: cos.alphaBar }, marker(0, 1)],
    { title: 'ᾱ_t = Π (1 − β_s)', xLabel: 't', yLabel: 'ᾱ_t' },
  );
  chart(
    'fwd-snr',
    [{ name: 'linear', x: ts, y: lin.snr }, { name: 'cosine', x: ts, y: cos.snr }, marker(1e-8, 1e4)],
    { title: 'SNR(t) = ᾱ_t / (1 − ᾱ_t)', xLabel: 't', yLabel: 'SNR', logY: true },
  );
}

function forwardPanel(d: Digits): void {
  const digitSelect = $<HTMLSelectElement>('fwd-digit');
  fillDigitSelect(digitSelect, d);
  let eps = new Float64Array(784);
  let epsSeed = -1;
  let chartsAt = -1;
  const update = () => {
    const f = state.forward;
    f.digit = Number(digitSelect.value);
    f.schedule = $<HTMLSelectElement>('fwd-schedule').value as 'linear' | 'cosine';
    f.t = num('fwd-t');
    f.seed = num('fwd-seed');
    if (f.seed !== epsSeed) {
      eps = Rng.fromSeed(f.seed).fillNormal(new Float64Array(784)); // one ε for every t
      epsSeed = f.seed;
    }
    const s = schedules[f.schedule as 'linear' | 'cosine'];
    const x0 = digitX0(d, f.digit);
    const xt = (t: number) => qSample(s, x0, t, eps, new Float64Array(784));
    f.alphaBar = s.alphaBar[f.t];
    f.snr = s.snr[f.t];
    drawImages($('fwd-x0'), x0, 1, 1);
    drawImages($('fwd-xt'), xt(f.t), 1, 1, -3, 3);
    $('fwd-xt-caption').textContent = `x_t at t = ${f.t}`;
    const strip = new Float64Array(784 * STRIP_T.length);
    STRIP_T.forEach((t, i) => strip.set(xt(t), i * 784));
    drawImages($('fwd-strip'), strip, STRIP_T.length, STRIP_T.length, -3, 3);
    $('fwd-values').textContent =
      `t = ${f.t} · β_t = ${s.beta[f.t].toPrecision(4)} · ᾱ_t = ${f.alphaBar.toPrecision(6)} · ` +
      `√ᾱ_t = ${Math.sqrt(f.alphaBar).toPrecision(4)} · √(1−ᾱ_t) = ${Math.sqrt(1 - f.alphaBar).toPrecision(4)} · ` +
      `SNR = ${f.snr.toPrecision(4)} (x_t shown on [−3, 3])`;
    if (chartsAt !== f.t) {
      forwardCharts(f.t);
      chartsAt = f.t;
    }
  };
  for (const id of ['fwd-digit', 'fwd-schedule', 'fwd-t', 'fwd-seed'])
    $(id).addEventListener('input', update);
  update();
}

// ---- 2 · sampling ----

function samplerConfig(kind: string, steps: number, eta: number): SamplerConfig {
  switch (kind) {
    case 'dpm2':
      return { kind: 'dpm-solver++', order: 2, steps, clip: true };
    case 'dpm3':
      return { kind: 'dpm-solver++', order: 3, steps, clip: true };
    case 'dpm2sde':
      return { kind: 'dpm-solver++', order: 2, sde: true, steps, clip: true };
    case 'unipc':
      return { kind: 'unipc', order: 2, steps, clip: true };
    case 'ddim':
      return { kind: 'ddim', steps, eta, clip: true };
    case 'ancestral':
      return { kind: 'ancestral', steps, variance: 'posterior', meanFrom: 'x0', clip: true };
    default:
      throw new Error(`unknown sampler ${kind}`);
  }
}

function samplingPanel(): () => void {
  const run = $<HTMLButtonElement>('s-run');
  const status = $('s-status');
  const bar = $<HTMLProgressElement>('s-progress');
  const samplerSelect = $<HTMLSelectElement>('s-sampler');
  const frameInput = input('s-frame');
  const play = $<HTMLButtonElement>('s-play');
  let last: SampleResult | null = null;
  let cols = 4;
  let timer: ReturnType<typeof setInterval> | null = null;

  const showFrame = (k: number) => {
    if (!last || last.frames.length === 0) return;
    drawImages($('s-xt'), last.frames[k], last.count, cols, -3, 3);
    drawImages($('s-x0'), last.denoised[k], last.count, cols);
    $('s-xt-caption').textContent = `x_t at t = ${last.frameTimesteps[k]} (shown on [−3, 3])`;
  };
  frameInput.addEventListener('input', () => showFrame(Number(frameInput.value)));
  play.addEventListener('click', () => {
    if (!last) return;
    if (timer) clearInterval(timer);
    let k = 0;
    timer = setInterval(() => {
      frameInput.value = String(k);
      showFrame(k);
      if (++k >= last!.frames.length) {
        clearInterval(timer!);
        timer = null;
      }
    }, 120);
  });
  samplerSelect.addEventListener('input', () => {
    input('s-eta').disabled = samplerSelect.value !== 'ddim';
  });
  $('s-reseed').addEventListener('click', () => {
    input('s-seed').value = String(Math.floor(Math.random() * 1e6));
  });

  const start = () => {
    const steps = num('s-steps');
    const eta = num('s-eta');
    const count = Number($<HTMLSelectElement>('s-count').value);
    const seed = num('s-seed');
    if (!Number.isInteger(steps) || steps < 1 || steps > T) {
      showError(status, `steps must be a whole number from 1 to ${T}`);
      return;
    }
    if (!(eta >= 0 && eta <= 1)) {
      showError(status, 'η must be between 0 (deterministic DDIM) and 1 (DDPM-like noise)');
      return;
    }
    let sampler: SamplerConfig;
    try {
      sampler = samplerConfig(samplerSelect.value, steps, eta);
    } catch (err) {
      showError(status, (err as Error).message);
      return;
    }
    run.disabled = true;
    state.sample.running = true;
    const report = progressReporter(bar, status);
    const job = runJob<SampleResult>(
      { kind: 'sample', url: url(DDPM_WEIGHTS), count, sampler, seed, frames: TRAJECTORY_FRAMES },
      (m) => report(m.done, m.total, m.what),
    );
    job.result
      .then((r) => {
        last = r;
        cols = Math.ceil(Math.sqrt(r.count));
        drawImages($('s-grid'), r.pixels, r.count, cols);
        if (state.firstDigitsMs === null) state.firstDigitsMs = performance.now();
        $<HTMLAnchorElement>('s-download').href = $<HTMLCanvasElement>('s-grid').toDataURL('image/png');
        frameInput.max = String(Math.max(0, r.frames.length - 1));
        frameInput.value = String(Math.max(0, r.frames.length - 1));
        frameInput.disabled = play.disabled = r.frames.length === 0;
        showFrame(r.frames.length - 1);
        Object.assign(state.sample, {
          runs: state.sample.runs + 1,
          sampler: samplerSelect.options[samplerSelect.selectedIndex].text,
          count: r.count,
          seed,
          sampleMs: r.sampleMs,
          loadMs: r.loadMs,
          msPerDigit: r.sampleMs / r.count,
          nfe: r.nfe,
          trainedSteps: r.trainedSteps,
          frames: r.frames.length,
        });
        bar.value = bar.max;
        setStatus(
          status,
          `${r.count} digits in ${(r.sampleMs / 1000).toFixed(2)} s (${(r.sampleMs / r.count).toFixed(0)} ms per digit, ` +
            `${r.nfe} network calls) · seed ${seed} · model trained ${r.trainedSteps.toLocaleString('en')} steps`,
        );
      })
      .catch((err: Error) => showError(status, err.message))
      .finally(() => {
        run.disabled = false;
        state.sample.running = false;
      });
  };
  run.addEventListener('click', start);
  return start;
}

// ---- 3 · the ELBO of one digit ----

function elboPanel(d: Digits): void {
  const digitSelect = $<HTMLSelectElement>('e-digit');
  fillDigitSelect(digitSelect, d);
  const run = $<HTMLButtonElement>('e-run');
  const status = $('e-status');
  const bar = $<HTMLProgressElement>('e-progress');
  run.addEventListener('click', () => {
    const digit = Number(digitSelect.value);
    const strata = num('e-strata');
    const seed = num('e-seed');
    if (!Number.isInteger(strata) || strata < 1 || strata > T - 1) {
      showError(status, `strata must be a whole number from 1 to ${T - 1}`);
      return;
    }
    run.disabled = true;
    const report = progressReporter(bar, status);
    runJob<ElboResult>({ kind: 'elbo', url: url(DDPM_WEIGHTS), x0: digitX0(d, digit), strata, seed }, (m) =>
      report(m.done, m.total, m.what),
    )
      .result.then((r) => {
        state.elbo = { digit, strata, seed, result: r };
        const weighted = r.terms.reduce((s, e) => s + e.weight * e.nats, 0);
        const t = r.terms.map((e) => e.t);
        chart(
          'e-chart',
          [{ name: 'L_{t−1} at the drawn t of each stratum', x: t, y: r.terms.map((e) => e.nats) }],
          { title: `Terms of the bound, test digit #${digit}`, xLabel: 't', yLabel: 'nats', logY: true },
        );
        let acc = r.decoder;
        const cumulative = [acc];
        for (const e of r.terms) cumulative.push((acc += e.weight * e.nats));
        chart('e-cumulative', [{ name: 'L_0 + Σ_{s≤t} weight·L_{s−1}', x: [0, ...t], y: cumulative }], {
          title: 'The bound summed up to t',
          xLabel: 't',
          yLabel: 'nats',
        });
        $('e-values').textContent =
          `L_T (prior) = ${r.prior.toExponential(2)} nats · Σ weight·L_{t−1} = ${weighted.toFixed(1)} nats ` +
          `(${r.terms.length} strata) · L_0 = ${r.decoder.toFixed(1)} nats · total ${r.totalNats.toFixed(1)} nats = ` +
          `${r.bitsPerDim.toFixed(3)} bits/dim`;
        bar.value = bar.max;
        setStatus(status, `computed in ${(r.ms / 1000).toFixed(1)} s (${r.terms.length + 1} network calls)`);
      })
      .catch((err: Error) => showError(status, err.message))
      .finally(() => {
        run.disabled = false;
      });
  });
}

// ---- 5 · KL both ways, and coins ----

function klPanel(): void {
  const xs = linspace(-7, 7, 281);
  const update = () => {
    const sep = num('kl-sep');
    const w = num('kl-weight');
    const seed = num('kl-seed');
    const p: GaussianMixture1d = { weights: [w, 1 - w], means: [-sep / 2, sep / 2], stds: [0.7, 0.7] };
    const forward = mixtureMoments(p); // argmin_q KL(p‖q) over Gaussians: match the mean and variance
    const rng = Rng.fromSeed(seed);
    // A narrow start away from the symmetric saddle between the modes, on a side the seed picks.
    const init = { mean: (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + rng.uniform()), std: 0.5 };
    const reverse = fitReverseKl(p, { init, steps: 400, samples: 32, lr: 0.05 }, rng);
    const forwardKl = forwardKlQuadrature(p, forward);
    const reverseKl = reverseKlQuadrature(reverse, p);
    state.kl = {
      mixture: p,
      forward,
      reverse: { mean: reverse.mean, std: reverse.std },
      forwardKl,
      reverseKl,
    };
    const density = (f: (x: number) => number) => Array.from(xs, (x) => Math.exp(f(x)));
    chart(
      'kl-chart',
      [
        { name: 'p (mixture)', x: xs, y: density((x) => mixtureLogPdf(x, p)), color: '#000000' },
        {
          name: 'argmin KL(p‖q): covers',
          x: xs,
          y: density((x) => gaussianLogPdf(x, forward)),
          color: '#0072B2',
        },
        {
          name: 'argmin KL(q‖p): seeks',
          x: xs,
          y: density((x) => gaussianLogPdf(x, reverse)),
          color: '#D55E00',
        },
      ],
      { title: 'One Gaussian fitted to two modes', xLabel: 'x', yLabel: 'density' },
    );
    $('kl-values').textContent =
      `forward fit N(${forward.mean.toFixed(2)}, ${forward.std.toFixed(2)}²), KL(p‖q) = ${forwardKl.toFixed(3)} nats · ` +
      `reverse fit N(${reverse.mean.toFixed(2)}, ${reverse.std.toFixed(2)}²) from μ = ${init.mean.toFixed(2)}, ` +
      `KL(q‖p) = ${reverseKl.toFixed(3)} nats`;
  };
  for (const id of ['kl-sep', 'kl-weight', 'kl-seed']) $(id).addEventListener('input', update);
  update();
}

function coinsPanel(): void {
  const thetas = linspace(0.0025, 0.9975, 200);
  let flipRng = Rng.fromSeed(0);
  let flipSeed = 0;
  const update = () => {
    const c = state.coins;
    const a = num('c-a');
    const b = num('c-b');
    if (!(a > 0 && b > 0)) {
      showError($('c-values'), 'the prior needs a > 0 and b > 0');
      return;
    }
    c.prior = { a, b };
    c.posterior = betaBernoulliPosterior(c.prior, c.heads, c.heads + c.tails);
    c.predictive = betaBernoulliPredictive(c.posterior);
    const interval = betaCredibleInterval(c.posterior, 0.95);
    const pdf = (p: BetaParams) => Array.from(thetas, (t) => Math.exp(betaLogPdf(t, p.a, p.b)));
    chart(
      'c-chart',
      [
        { name: `prior Beta(${a}, ${b})`, x: thetas, y: pdf(c.prior), color: '#999999' },
        {
          name: `posterior Beta(${c.posterior.a}, ${c.posterior.b})`,
          x: thetas,
          y: pdf(c.posterior),
          color: '#D55E00',
        },
      ],
      { title: `${c.heads} heads, ${c.tails} tails`, xLabel: 'θ = P(heads)', yLabel: 'density' },
    );
    setStatus(
      $('c-values'),
      `posterior Beta(${c.posterior.a}, ${c.posterior.b}) · 95% interval [${interval.lower.toFixed(3)}, ` +
        `${interval.upper.toFixed(3)}] · P(next flip is heads) = ${c.predictive.toFixed(4)}`,
    );
  };
  $('c-heads').addEventListener('click', () => {
    state.coins.heads++;
    update();
  });
  $('c-tails').addEventListener('click', () => {
    state.coins.tails++;
    update();
  });
  $('c-flip').addEventListener('click', () => {
    const bias = num('c-bias');
    if (!(bias >= 0 && bias <= 1)) {
      showError($('c-values'), 'the bias is a probability: between 0 and 1');
      return;
    }
    if (num('c-seed') !== flipSeed) {
      flipSeed = num('c-seed');
      flipRng = Rng.fromSeed(flipSeed);
    }
    for (let i = 0; i < 10; i++) {
      if (flipRng.uniform() < bias) state.coins.heads++;
      else state.coins.tails++;
    }
    update();
  });
  $('c-reset').addEventListener('click', () => {
    state.coins.heads = state.coins.tails = 0;
    flipRng = Rng.fromSeed(flipSeed);
    update();
  });
  for (const id of ['c-a', 'c-b']) $(id).addEventListener('input', update);
  update();
}

// ---- 4 · the 2-D VAE ----

const MANIFOLD = 15;
const Z_RANGE = 3;

async function vaePanel(d: Digits): Promise<void> {
  state.vae.available = true;
  const status = $('v-status');
  const manifold = $<HTMLCanvasElement>('v-manifold');
  const zs = new Float64Array(2 * MANIFOLD * MANIFOLD);
  for (let r = 0; r < MANIFOLD; r++)
    for (let c = 0; c < MANIFOLD; c++) {
      zs[2 * (r * MANIFOLD + c)] = -Z_RANGE + (2 * Z_RANGE * c) / (MANIFOLD - 1);
      zs[2 * (r * MANIFOLD + c) + 1] = Z_RANGE - (2 * Z_RANGE * r) / (MANIFOLD - 1);
    }
  setStatus(status, 'decoding the manifold…');
  let grid: Float32Array;
  try {
    grid = (await runJob<VaeResult>({ kind: 'vae-decode', url: url(VAE_WEIGHTS), z: zs }).result).pixels!;
  } catch (err) {
    showError(status, (err as Error).message);
    return;
  }
  let ellipse: { mean: number[]; std: number[] } | null = null;
  const toPx = (z: number, axis: 0 | 1) => {
    const side = manifold.width;
    const u = (z + Z_RANGE) / (2 * Z_RANGE); // 0..1
    const cell = side / MANIFOLD;
    return cell / 2 + (axis === 0 ? u : 1 - u) * (side - cell);
  };
  const redraw = () => {
    drawImages(manifold, grid, MANIFOLD * MANIFOLD, MANIFOLD, 0, 1);
    if (!ellipse) return;
    const g = manifold.getContext('2d')!;
    const scale = (manifold.width - manifold.width / MANIFOLD) / (2 * Z_RANGE);
    g.strokeStyle = '#e69f00';
    g.lineWidth = 3;
    g.beginPath();
    g.ellipse(
      toPx(ellipse.mean[0], 0),
      toPx(ellipse.mean[1], 1),
      2 * ellipse.std[0] * scale,
      2 * ellipse.std[1] * scale,
      0,
      0,
      2 * Math.PI,
    );
    g.stroke();
  };
  redraw();
  setStatus(status, `latent dimension 2 · ${MANIFOLD}×${MANIFOLD} decoded means`);
  // The encoder's posteriors of every shipped test digit, for the optimal decoder μ*(z) (see below).
  const pool = Array.from({ length: d.count }, (_, i) =>
    Float64Array.from(d.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255),
  );
  const poolX = new Float32Array(d.count * 784);
  pool.forEach((x, i) => poolX.set(x, i * 784));
  const posteriors: Promise<DiagonalGaussian[]> = runJob<VaeResult>({
    kind: 'vae-encode',
    url: url(VAE_WEIGHTS),
    x: poolX,
  }).result.then(({ mean, logVar }) =>
    pool.map((_, i) => ({
      mean: mean!.subarray(2 * i, 2 * i + 2),
      logVar: logVar!.subarray(2 * i, 2 * i + 2),
    })),
  );
  const showOptimal = async (z: number[]) => {
    const qs = await posteriors;
    // For this encoder and these digits, the decoder that maximises the ELBO outputs the average of the digits
    // weighted by q(z|x_i) (the Gaussian decoder's least squares; a Bernoulli decoder's cross-entropy too).
    const mu = optimalGaussianDecoderMean(z, qs, pool);
    const w = reversedEncoderWeights(z, qs);
    const mix = 1 / w.reduce((s, v) => s + v * v, 0);
    state.vae.optimalMix = mix;
    drawImages($('v-optimal'), mu, 1, 1, 0, 1);
    $('v-optimal-caption').textContent = `μ*(z): ≈ ${mix.toFixed(1)} of ${qs.length} test digits averaged`;
  };
  manifold.addEventListener('click', (e) => {
    const rect = manifold.getBoundingClientRect();
    const u = (e.clientX - rect.left) / rect.width;
    const v = (e.clientY - rect.top) / rect.height;
    const z = [-Z_RANGE + 2 * Z_RANGE * u, Z_RANGE - 2 * Z_RANGE * v];
    state.vae.clicked = z;
    showOptimal(z).catch((err: Error) => showError(status, err.message));
    runJob<VaeResult>({ kind: 'vae-decode', url: url(VAE_WEIGHTS), z: Float64Array.from(z) })
      .result.then((r) => {
        drawImages($('v-decoded'), r.pixels!, 1, 1, 0, 1);
        $('v-decoded-caption').textContent = `z = (${z[0].toFixed(2)}, ${z[1].toFixed(2)})`;
      })
      .catch((err: Error) => showError(status, err.message));
  });
  // Drawing: a 168×168 canvas read back at 28×28.
  const pad = $<HTMLCanvasElement>('v-draw');
  const pg = pad.getContext('2d', { willReadFrequently: true })!;
  const clear = () => {
    pg.fillStyle = '#000';
    pg.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  let drawing = false;
  const at = (e: PointerEvent) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * pad.width, ((e.clientY - r.top) / r.height) * pad.height];
  };
  const encodeDrawing = () => {
    const small = document.createElement('canvas');
    small.width = small.height = 28;
    const sg = small.getContext('2d')!;
    sg.drawImage(pad, 0, 0, 28, 28);
    const rgba = sg.getImageData(0, 0, 28, 28).data;
    const x = new Float32Array(784);
    for (let p = 0; p < 784; p++) x[p] = rgba[4 * p] / 255; // the VAE sees binarised-MNIST values in [0, 1]
    runJob<VaeResult>({ kind: 'vae-encode', url: url(VAE_WEIGHTS), x })
      .result.then((r) => {
        ellipse = {
          mean: Array.from(r.mean!),
          std: Array.from(r.logVar!, (v) => Math.exp(0.5 * v)),
        };
        state.vae.encoded = ellipse;
        redraw();
        setStatus(
          status,
          `q(z|x) = N((${ellipse.mean.map((v) => v.toFixed(2)).join(', ')}), diag(${ellipse.std
            .map((v) => v.toFixed(2) + '²')
            .join(', ')})) — the ellipse is 2σ`,
        );
      })
      .catch((err: Error) => showError(status, err.message));
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    const [x, y] = at(e);
    pg.beginPath();
    pg.moveTo(x, y);
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const [x, y] = at(e);
    pg.strokeStyle = '#fff';
    pg.lineWidth = 14;
    pg.lineCap = 'round';
    pg.lineTo(x, y);
    pg.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    encodeDrawing();
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointerleave', end);
  $('v-clear').addEventListener('click', () => {
    clear();
    ellipse = null;
    redraw();
  });
  // Interpolation between the posterior means of two test digits.
  const from = $<HTMLSelectElement>('v-from');
  const to = $<HTMLSelectElement>('v-to');
  fillDigitSelect(from, d);
  fillDigitSelect(to, d);
  to.value = '1';
  const STRIP = 10;
  $('v-interpolate').addEventListener('click', () => {
    const pair = [Number(from.value), Number(to.value)];
    const x = new Float32Array(2 * 784);
    pair.forEach((i, k) =>
      x.set(
        Float32Array.from(d.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255),
        k * 784,
      ),
    );
    runJob<VaeResult>({ kind: 'vae-encode', url: url(VAE_WEIGHTS), x })
      .result.then(({ mean }) => {
        const a = [mean![0], mean![1]];
        const b = [mean![2], mean![3]];
        state.vae.interpolated = [a, b];
        const z = new Float64Array(2 * STRIP);
        for (let k = 0; k < STRIP; k++) {
          const w = k / (STRIP - 1);
          z[2 * k] = (1 - w) * a[0] + w * b[0];
          z[2 * k + 1] = (1 - w) * a[1] + w * b[1];
        }
        return runJob<VaeResult>({ kind: 'vae-decode', url: url(VAE_WEIGHTS), z }).result;
      })
      .then((r) => drawImages($('v-strip'), r.pixels!, STRIP, STRIP, 0, 1))
      .catch((err: Error) => showError(status, err.message));
  });
  $('v-interpolate').click();

  // A test digit as the first drawing, so the ellipse is there from the start.
  const x0 = d.images.subarray(0, 784);
  const img = pg.createImageData(28, 28);
  for (let p = 0; p < 784; p++) {
    img.data[4 * p] = img.data[4 * p + 1] = img.data[4 * p + 2] = x0[p];
    img.data[4 * p + 3] = 255;
  }
  const tmp = document.createElement('canvas');
  tmp.width = tmp.height = 28;
  tmp.getContext('2d')!.putImageData(img, 0, 0);
  pg.imageSmoothingEnabled = true;
  pg.drawImage(tmp, 0, 0, pad.width, pad.height);
  encodeDrawing();
}

// ---- 6 · train a 2-D DDPM live ----

function train2dPanel(): void {
  const trainButton = $<HTMLButtonElement>('t-train');
  const stopButton = $<HTMLButtonElement>('t-stop');
  const continueButton = $<HTMLButtonElement>('t-continue');
  const status = $('t-status');
  const bar = $<HTMLProgressElement>('t-progress');
  // The run's settings are locked while it trains (the status line counts towards the steps it started with);
  // steps and learning rate may change between a stop and a continue, data set and seed may not.
  const locked = ['t-dataset', 't-seed', 't-steps', 't-lr'].map((id) => $<HTMLInputElement>(id));
  const newRunOnly = locked.slice(0, 2);
  let jobId = 0;
  let lossFrame = false;
  const drawLoss = () => {
    if (lossFrame) return;
    lossFrame = true;
    requestAnimationFrame(() => {
      lossFrame = false;
      const y = state.train2d.losses;
      const smooth: number[] = [];
      y.forEach((v, i) => smooth.push(i === 0 ? v : 0.97 * smooth[i - 1] + 0.03 * v));
      chart(
        't-loss',
        [
          { name: 'L_simple (batch)', x: y.map((_, i) => i + 1), y, color: '#9ecae1' },
          { name: 'moving average', x: y.map((_, i) => i + 1), y: smooth, color: '#0072B2' },
        ],
        { title: 'Training loss', xLabel: 'step', yLabel: 'mean squared error of ε̂', logY: true },
      );
    });
  };
  const drawScatter = (samples: Float32Array, data: Float32Array | null, step: number) => {
    const xs = (a: Float32Array) => a.filter((_, i) => i % 2 === 0);
    const ys = (a: Float32Array) => a.filter((_, i) => i % 2 === 1);
    const series: Series[] = [];
    if (data) series.push({ name: 'data', x: xs(data), y: ys(data), color: '#bbbbbb', points: true });
    series.push({
      name: `samples at step ${step}`,
      x: xs(samples),
      y: ys(samples),
      color: '#D55E00',
      points: true,
    });
    chart('t-scatter', series, { title: 'Samples (DDIM, 50 steps)', xLabel: 'x₁', yLabel: 'x₂' });
  };
  const settings = (): Train2dSettings | string => {
    const s: Train2dSettings = {
      dataset: $<HTMLSelectElement>('t-dataset').value as Toy2dName,
      steps: num('t-steps'),
      lr: num('t-lr'),
      seed: num('t-seed'),
      batchSize: 256,
      samples: 1000,
      sampleEvery: 250,
    };
    if (!Number.isInteger(s.steps) || s.steps < 50 || s.steps > 50000)
      return 'steps must be a whole number from 50 to 50000';
    if (!(s.lr > 0 && s.lr <= 0.05)) return 'the learning rate must be in (0, 0.05]; 0.002 works';
    if (!Number.isInteger(s.seed) || s.seed < 0) return 'the seed must be a whole number ≥ 0';
    return s;
  };
  const start = (resume: boolean) => {
    const s = settings();
    if (typeof s === 'string') {
      showError(status, s);
      return;
    }
    if (resume && s.steps <= state.train2d.step) {
      showError(status, `the run is at step ${state.train2d.step}: raise Steps above it to continue`);
      return;
    }
    const t = state.train2d;
    if (!resume) {
      Object.assign(t, { step: 0, losses: [], pictures: 0, result: null });
      $('t-scatter').innerHTML = ''; // no picture of the previous run
      $('t-loss').innerHTML = '';
    }
    t.settings = s;
    t.running = true;
    trainButton.disabled = continueButton.disabled = true;
    stopButton.disabled = false;
    for (const e of locked) e.disabled = true;
    const report = progressReporter(bar, status);
    const job = runJob<Train2dResult>({ kind: 'train2d', settings: s, resume }, (m) => {
      const u: Train2dUpdate | undefined = m.update;
      if (!u) return;
      t.step = u.step;
      t.losses.push(...u.losses);
      drawLoss();
      if (u.samples) {
        t.pictures++;
        drawScatter(u.samples, null, u.step);
      }
      report(m.done, m.total, 'step');
      status.textContent += ` · ${u.msPerStep.toFixed(1)} ms/step · loss ${u.losses.at(-1)?.toFixed(4) ?? ''}`;
    });
    jobId = job.id;
    job.result
      .then((r) => {
        t.result = r;
        t.step = r.step;
        drawScatter(r.samples, r.data, r.step);
        setStatus(
          status,
          `${r.stopped ? 'stopped' : 'trained'} at step ${r.step} · sliced Wasserstein-2 of the samples to fresh data ` +
            `${r.swd.toFixed(3)} (two fresh data sets: ${r.swdFloor.toFixed(3)})`,
        );
      })
      .catch((err: Error) => showError(status, err.message))
      .finally(() => {
        t.running = false;
        trainButton.disabled = false;
        stopButton.disabled = true;
        continueButton.disabled = t.result === null;
        for (const e of locked) e.disabled = false;
      });
  };
  trainButton.addEventListener('click', () => start(false));
  continueButton.addEventListener('click', () => start(true));
  stopButton.addEventListener('click', () => {
    worker.postMessage({ type: 'stop', id: jobId } satisfies ToWorker);
    stopButton.disabled = true;
  });
  // A changed data set or seed means a new run: Continue would mix two.
  for (const e of newRunOnly) e.addEventListener('input', () => (continueButton.disabled = true));
  trainButton.disabled = false;
}

// ---- start-up: isolation first, then the engine, then the panels ----

/**
 * On a static host without isolation headers, coi-serviceworker (loaded by index.html) registers a service worker
 * that adds them, and reloads the page once. Wait briefly for that reload; if it does not come (service workers
 * blocked, a private window, an insecure origin), run single-threaded and say so.
 */
async function settleIsolation(): Promise<void> {
  if (globalThis.crossOriginIsolated) return;
  const sw = navigator.serviceWorker as ServiceWorkerContainer | undefined;
  if (sw && globalThis.isSecureContext) {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await Promise.race([sw.ready.then(() => sleep(1500)), sleep(2500)]);
  }
  state.isolationNote =
    'This page is not cross-origin isolated (no service worker could add the headers here), so the engine runs ' +
    'on one thread: everything works, more slowly. Serve it with Cross-Origin-Opener-Policy: same-origin and ' +
    'Cross-Origin-Embedder-Policy: require-corp, or open it in a normal window, for two threads.';
  const note = $('isolation-note');
  note.textContent = state.isolationNote;
  note.hidden = false;
}

async function main(): Promise<void> {
  klPanel();
  coinsPanel();
  const digits = digitsReady.then((d) => {
    forwardPanel(d);
    return d;
  });
  digits.catch((err: Error) => showError($('fwd-values'), err.message));
  // Digits on arrival, the first thing the page shows: the job is sent now, so the weights download while the
  // engine starts (the worker runs it once the engine is ready).
  samplingPanel()();
  await settleIsolation();
  const engine = await engineReady;
  state.engine = engine;
  engineLine.textContent =
    `engine: ${engine.relaxedSimd ? 'relaxed-SIMD kernels (fused multiply-add)' : 'plain-SIMD kernels'} · ` +
    `${engine.threads} thread${engine.threads > 1 ? 's' : ''} · cross-origin isolated: ` +
    `${engine.crossOriginIsolated ? 'yes' : 'no'} · ready in ${engine.startMs.toFixed(0)} ms`;
  train2dPanel();
  const d = await digits;
  elboPanel(d);
  $<HTMLButtonElement>('e-run').disabled = false;
  await vaePanel(d);
}

main().catch((err: unknown) => showError(engineLine, err instanceof Error ? err.message : String(err)));
