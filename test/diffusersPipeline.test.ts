/**
 * loadDiffusionModel on the diffusers folders of test/fixtures/diffusers-unet: the scheduler config's mapping
 * (β schedule, prediction, variance, spacing), and a DDIM and a DPM-Solver++(2M) trajectory of elbo's samplers on
 * the loaded network against diffusers' own schedulers driving diffusers' own network (make_fixture.py: float64
 * schedulers and network; elbo's network runs in float32).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeNpy } from '../src/data/npy.js';
import { nchwToNhwc } from '../src/interop/diffusers/layout.js';
import { diffusersSigmoidBeta, parseSchedulerConfig } from '../src/interop/diffusers/scheduler.js';
import { fetchDiffusersFolder, loadDiffusionModel } from '../src/pipeline/index.js';
import { noiseSchedule } from '../src/diffusion/schedule.js';
import { spacedTimesteps } from '../src/samplers/timesteps.js';
import { sampleInBatches } from '../src/samplers/index.js';
import { Rng } from '../src/random/rng.js';
import { decodeTrainingState } from '../src/train/checkpoint.js';
import { DdpmTrainer } from '../src/train/ddpm.js';
import { relativeL2, startTestEngine } from './helpers/engine.js';

const DIR = new URL('./fixtures/diffusers-unet/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as {
  source: string;
  steps: number;
  models: Record<string, { ddim_timesteps: number[]; dpm_timesteps: number[]; ddim_clip: boolean }>;
};
const folder = (name: string) =>
  new Map(
    readdirSync(new URL(name, DIR)).map((f) => [
      f,
      new Uint8Array(readFileSync(new URL(`${name}/${f}`, DIR))),
    ]),
  );

const { ctx } = await startTestEngine({ threads: 2 });

describe('scheduler_config.json → elbo', () => {
  it('maps the three fixture schedulers', () => {
    const m = loadDiffusionModel(ctx, folder('mnist-attn'));
    expect([m.prediction, m.variance, m.defaults]).toEqual([
      'eps',
      'posterior',
      { clip: true, spacing: 'leading', stepsOffset: 1 },
    ]);
    expect(m.schedule.beta).toEqual(noiseSchedule('linear', 1000).beta);
    m.dispose();
    const r = loadDiffusionModel(ctx, folder('rgb-learned'));
    expect([r.prediction, r.variance, r.dataShape]).toEqual(['eps', 'learnedRange', [32, 32, 3]]);
    expect(r.schedule.beta).toEqual(noiseSchedule('cosine', 1000).beta);
    r.dispose();
    const v = loadDiffusionModel(ctx, folder('v-pred'));
    expect([v.prediction, v.defaults.spacing]).toEqual(['v', 'linspace']);
    expect(v.schedule.beta).toEqual(
      noiseSchedule('scaledLinear', 1000, { betaStart: 0.00085, betaEnd: 0.012 }).beta,
    );
    v.dispose();
  });

  it("diffusers' sigmoid β is a sigmoid in β (not elbo's), and unsupported options are refused by key", () => {
    const b = diffusersSigmoidBeta(5, 0.001, 0.02);
    // σ(linspace(−6, 6, 5))·(0.02 − 0.001) + 0.001, by hand: σ(0) = ½ in the middle.
    expect(b[2]).toBeCloseTo(0.5 * 0.019 + 0.001, 15);
    expect(b[0]).toBeCloseTo(0.019 / (1 + Math.exp(6)) + 0.001, 15);
    expect(
      parseSchedulerConfig({
        beta_schedule: 'sigmoid',
        beta_start: 0.001,
        beta_end: 0.02,
        num_train_timesteps: 5,
      }).schedule.beta,
    ).toEqual(b);
    expect(() => parseSchedulerConfig({ thresholding: true })).toThrow(/"thresholding" is true/);
    expect(() => parseSchedulerConfig({ variance_type: 'learned' })).toThrow(/"variance_type" is "learned"/);
    expect(() => parseSchedulerConfig({ beta_schedule: 'exp' })).toThrow(/"beta_schedule" is "exp"/);
    expect(parseSchedulerConfig(null).notes[0]).toMatch(/DDPMScheduler's defaults/);
  });
});

describe(`trajectories against ${manifest.source}`, () => {
  it.each(Object.keys(manifest.models))('%s: DDIM and DPM-Solver++(2M), 10 steps', (name) => {
    const ref = manifest.models[name];
    const model = loadDiffusionModel(ctx, folder(name));
    const xTnchw = decodeNpy(readFileSync(new URL(`${name}/x_T.npy`, DIR)));
    const [B, C, H, W] = xTnchw.shape;
    const xT = nchwToNhwc(xTnchw.data, B, C, H, W);
    // The DPM-Solver++ timesteps follow from the folder's timestep_spacing and steps_offset alone.
    const { spacing, stepsOffset } = model.defaults;
    expect(spacedTimesteps(1000, manifest.steps, spacing!, stepsOffset)).toEqual(ref.dpm_timesteps);
    const runs = [
      ['ddim', { kind: 'ddim', timesteps: ref.ddim_timesteps, steps: 10, eta: 0, clip: ref.ddim_clip }],
      ['dpm', { kind: 'dpm-solver++', order: 2, steps: 10, clip: false }],
    ] as const;
    for (const [file, sampler] of runs) {
      const ts = file === 'ddim' ? ref.ddim_timesteps : ref.dpm_timesteps;
      const r = model.sample({ n: B, sampler, seed: 0, xT, recordTrajectory: [...ts.slice(1), -1] });
      const states = decodeNpy(readFileSync(new URL(`${name}/${file}.npy`, DIR)));
      const per = B * C * H * W;
      [...ts.slice(1), -1].forEach((t, i) => {
        const want = nchwToNhwc(states.data.subarray(i * per, (i + 1) * per), B, C, H, W);
        const err = relativeL2(r.trajectory.get(t)!, want);
        expect(err, `${file} state ${i + 1}`).toBeLessThanOrEqual(1e-4);
      });
    }
    model.dispose();
  });
});

describe('loadDiffusionModel on an elbo checkpoint (no trainer)', () => {
  const bytes = new Uint8Array(readFileSync(new URL('elbo-trained/checkpoint.safetensors', DIR)));

  it("samples exactly what the trainer's EMA network samples, and reports the checkpoint's step", () => {
    const model = loadDiffusionModel(ctx, bytes);
    expect([model.kind, model.trainingSteps, model.dataShape, model.prediction]).toEqual([
      'elbo',
      40,
      [28, 28, 1],
      'eps',
    ]);
    const sampler = { kind: 'ddim', steps: 4, eta: 0, clip: false } as const;
    const mine = model.sample({ n: 3, sampler, seed: 5, recordTrajectory: true });
    const trainer = DdpmTrainer.restore(ctx, decodeTrainingState(bytes, 'ddpm'), null);
    const theirs = sampleInBatches(trainer.schedule, trainer.batchModel(true), {
      n: 3,
      dims: 784,
      prediction: 'eps',
      sampler,
      rng: Rng.fromSeed(5),
    });
    expect(mine.x).toEqual(theirs.x);
    expect(mine.trajectory.get(1000)).toHaveLength(3 * 784); // x_T, then intermediate states, then the sample
    expect(mine.trajectory.get(-1)).toEqual(mine.x);
    model.dispose();
  });

  it('bound(): per-example totals are prior + Σ terms + decoder, batches joined, in nats', () => {
    const model = loadDiffusionModel(ctx, bytes);
    const images = Rng.fromSeed(1)
      .fillNormal(new Float64Array(3 * 784))
      .map((v) => Math.max(-1, Math.min(1, Math.round(v * 127.5) / 127.5)));
    const r = model.bound({ images, seed: 2, terms: { strata: 4 }, batchSize: 2 });
    expect(r.total).toHaveLength(3);
    const one = model.bound({ images: images.subarray(0, 2 * 784), seed: 2, terms: { strata: 4 } });
    // The first batch of two sees the same noise as a run on those two alone.
    expect(r.total.subarray(0, 2)).toEqual(one.total);
    for (let b = 0; b < 2; b++) {
      let sum = one.prior[b] + one.decoder[b];
      for (const { nats, weight } of one.terms.values()) sum += weight * nats[b];
      expect(one.total[b]).toBeCloseTo(sum, 9);
      expect(one.total[b]).toBeGreaterThan(0);
    }
    model.dispose();
  });
});

describe('learned variances through the pipeline', () => {
  it("an elbo learned-variance checkpoint loads with its Σ_θ head: the trainer's means and v", () => {
    const hybrid = new Uint8Array(
      readFileSync(new URL('../checkpoints/mnist-ddpm-hybrid.safetensors', import.meta.url)),
    );
    const model = loadDiffusionModel(ctx, hybrid);
    expect(model.variance).toBe('learnedRange');
    const trainer = DdpmTrainer.restore(ctx, decodeTrainingState(hybrid, 'ddpm'), null);
    const xt = Rng.fromSeed(4).fillNormal(new Float64Array(784));
    const mine = model.network(xt, 300);
    expect(mine).toHaveLength(2 * 784);
    expect(Array.from(mine)).toEqual(Array.from(trainer.batchModel()(xt, 300)));
    trainer.dispose();
    model.dispose();
  });

  it("sample(): ancestral with Σ_θ runs on a learned_range folder and is refused for a fixed one's", () => {
    const learned = loadDiffusionModel(ctx, folder('rgb-learned'));
    const sampler = {
      kind: 'ancestral',
      variance: 'learned-range',
      meanFrom: 'eps',
      clip: false,
      steps: 2,
    } as const;
    const r = learned.sample({ n: 1, sampler, seed: 1 });
    expect(r.x).toHaveLength(learned.dims);
    expect(r.x.every(Number.isFinite)).toBe(true);
    learned.dispose();
    const fixed = loadDiffusionModel(ctx, folder('mnist-attn'));
    expect(() => fixed.sample({ n: 1, sampler, seed: 1 })).toThrow(
      /'learned-range' needs a model that learns its variances/,
    );
    fixed.dispose();
  });
});

describe('fetchDiffusersFolder', () => {
  it('fetches a pipeline-style folder (unet/, scheduler/) and loads it like the flat one', async () => {
    const flat = folder('v-pred');
    const served = new Map([
      ['https://host/repo/unet/config.json', flat.get('config.json')!],
      [
        'https://host/repo/unet/diffusion_pytorch_model.safetensors',
        flat.get('diffusion_pytorch_model.safetensors')!,
      ],
      ['https://host/repo/scheduler/scheduler_config.json', flat.get('scheduler_config.json')!],
    ]);
    const requested: string[] = [];
    const fakeFetch = (url: string) => {
      requested.push(url);
      const body = served.get(url);
      return Promise.resolve({
        ok: body !== undefined,
        status: body ? 200 : 404,
        arrayBuffer: () => Promise.resolve(body!.slice().buffer),
      });
    };
    const files = await fetchDiffusersFolder('https://host/repo', fakeFetch);
    expect([...files.keys()].sort()).toEqual([
      'scheduler/scheduler_config.json',
      'unet/config.json',
      'unet/diffusion_pytorch_model.safetensors',
    ]);
    expect(requested[0]).toBe('https://host/repo/config.json');
    const a = loadDiffusionModel(ctx, files);
    const b = loadDiffusionModel(ctx, flat);
    const x = Rng.fromSeed(4).fillNormal(new Float64Array(2 * a.dims));
    expect(a.prediction).toBe('v');
    expect(a.network(x, 321)).toEqual(b.network(x, 321));
    a.dispose();
    b.dispose();
    await expect(fetchDiffusersFolder('https://host/none/', fakeFetch)).rejects.toThrow(
      /no config.json at https:\/\/host\/none\//,
    );
  });
});
