/**
 * `elbo sample --checkpoint DIR` for a diffusers UNet2DModel folder: loads it with loadDiffusionModel
 * (src/pipeline) and writes the sample grid, the trajectory strip and, if asked, the .npy array — the same files
 * as for an elbo checkpoint.
 */
import { join } from 'node:path';
import { encodeNpy } from '../../src/data/npy.js';
import { reverseVarianceOf } from '../../src/interop/diffusers/scheduler.js';
import { loadDiffusionModel } from '../../src/pipeline/index.js';
import { describeSampler, samplerTimesteps, type SamplerConfig } from '../../src/samplers/index.js';
import type { ReverseVariance } from '../../src/samplers/types.js';
import { withEngine } from '../engine.js';
import { writeFileAtomic } from '../io.js';
import { readDiffusersFolder } from '../modelSource.js';
import { imageGridPng, sampleGridPng } from '../png.js';
import { startProgress } from '../progress.js';
import { UserError } from '../userError.js';

export interface DiffusersSampleOptions {
  dir: string;
  n: number;
  seed: number;
  out: string;
  threads?: number;
  npy?: string;
  /**
   * Builds the sampler from the command line once the model's T and reverse variance are known (the folder's
   * variance_type is the ancestral default: its own Σ_θ for learned_range, β̃_t or β_t otherwise).
   */
  sampler: (T: number, variance: ReverseVariance) => SamplerConfig;
}

export async function sampleDiffusersFolder(o: DiffusersSampleOptions): Promise<void> {
  const folder = readDiffusersFolder(o.dir);
  await withEngine(o.threads, (ctx) => {
    let model;
    try {
      model = loadDiffusionModel(ctx, folder);
    } catch (err) {
      throw new UserError(`${o.dir}: ${(err as Error).message}`);
    }
    const sampler = o.sampler(model.schedule.T, reverseVarianceOf(model.variance));
    const steps = samplerTimesteps(model.schedule.T, sampler).length;
    const progress = startProgress(
      'sample',
      Math.ceil(o.n / 64) * steps,
      0,
      Math.max(1, Math.floor(steps / 4)),
    );
    let r;
    try {
      r = model.sample({
        n: o.n,
        sampler,
        seed: o.seed,
        recordTrajectory: true,
        onProgress: (done) => progress.update(done),
      });
    } catch (err) {
      throw new UserError(`${o.dir}: ${(err as Error).message}`);
    } finally {
      progress.stop();
    }
    const [h, w, c] = model.dataShape;
    const files: string[] = [];
    const grid = join(o.out, 'samples.png');
    writeFileAtomic(grid, sampleGridPng(r.x, o.n, model.dataShape));
    files.push(grid);
    const keys = [...r.trajectory.keys()].sort((a, b) => (a === -1 ? 1 : b === -1 ? -1 : b - a));
    const rows = Math.min(8, o.n);
    const strip = new Float32Array(rows * keys.length * model.dims);
    for (let i = 0; i < rows; i++)
      keys.forEach((t, j) =>
        strip.set(
          r.trajectory.get(t)!.subarray(i * model.dims, (i + 1) * model.dims),
          (i * keys.length + j) * model.dims,
        ),
      );
    const traj = join(o.out, 'trajectory.png');
    writeFileAtomic(traj, imageGridPng(strip, rows * keys.length, h, w, c, keys.length, 2, 2));
    files.push(traj);
    if (o.npy) {
      writeFileAtomic(o.npy, encodeNpy(Float32Array.from(r.x), [o.n, ...model.dataShape]));
      files.push(o.npy);
    }
    const asked =
      model.defaults.clip && !sampler.clip ? ['its scheduler sets clip_sample: add --clip to follow it'] : [];
    const notes = [...model.notes, ...asked].map((note) => `note: ${note}\n`).join('');
    process.stdout.write(
      `${notes}${o.n} samples from the diffusers folder ${o.dir} (${model.prediction}-prediction, ` +
        `${model.variance} variance), ${describeSampler(sampler)}: ${r.nfe} network calls per sample\n` +
        files.map((f) => `wrote ${f}\n`).join(''),
    );
    model.dispose();
  });
}
