/**
 * elbo → diffusers: test/fixtures/diffusers-unet/elbo-trained/checkpoint.safetensors (40 steps of
 * `elbo train ddpm --data mnist --arch diffusers --channels 8,16 --attention 1`) was exported with
 * `elbo export --format diffusers`, and make_fixture.py had diffusers load that folder and record its outputs
 * (exported-outputs/). Here: elbo's network on the checkpoint matches diffusers on the exported folder; the export
 * made in memory loads back in elbo with the same outputs; diffusers read the same scheduler; elbo's own UNet is
 * refused with the reasons. The same for a learned-variance model (--objective hybrid: out_channels 2C,
 * variance_type learned_range), whose EMA weights are committed (elbo-trained-learned/).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../src/checkpoint/safetensors.js';
import { decodeNpy } from '../src/data/npy.js';
import { splitLearnedRangeOutput } from '../src/diffusion/learnedVariance.js';
import { parseUNet2DConfig } from '../src/interop/diffusers/config.js';
import { exportDiffusersFolder } from '../src/interop/diffusers/export.js';
import { nchwToNhwc } from '../src/interop/diffusers/layout.js';
import { parseSchedulerConfig } from '../src/interop/diffusers/scheduler.js';
import { type DiffusionModel, loadDiffusionModel } from '../src/pipeline/index.js';
import { decodeTrainingState } from '../src/train/checkpoint.js';
import { ddpmSchedule, type TrainingState } from '../src/train/ddpm.js';
import { relativeL2, startTestEngine } from './helpers/engine.js';

const DIR = new URL('./fixtures/diffusers-unet/', import.meta.url);
const bytes = (path: string) => new Uint8Array(readFileSync(new URL(path, DIR)));
const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as {
  timesteps: number[];
  exported: { config: Record<string, unknown>; scheduler: Record<string, unknown> };
  exported_learned: { config: Record<string, unknown>; scheduler: Record<string, unknown> };
};
const { ctx } = await startTestEngine({ threads: 2 });

/** The two ways to the network: elbo's own file, and its export read back by elbo. */
const sources = (checkpoint: Uint8Array, state: TrainingState): [string, () => DiffusionModel][] => [
  ['the elbo checkpoint', () => loadDiffusionModel(ctx, checkpoint)],
  [
    'the exported folder, read back by elbo',
    () => loadDiffusionModel(ctx, exportDiffusersFolder(state, { ema: true })),
  ],
];

describe('elbo export --format diffusers, checked by diffusers itself', () => {
  const checkpoint = bytes('elbo-trained/checkpoint.safetensors');
  const state = decodeTrainingState(checkpoint, 'ddpm');
  const x = decodeNpy(bytes('exported-outputs/x.npy'));
  const ref = decodeNpy(bytes('exported-outputs/out.npy'));
  const [B, C, H, W] = x.shape;
  const xt = nchwToNhwc(x.data, B, C, H, W);
  const per = B * C * H * W;
  const want = (i: number) => nchwToNhwc(ref.data.subarray(i * per, (i + 1) * per), B, C, H, W);

  it.each(sources(checkpoint, state))(
    "%s gives diffusers' outputs on the exported folder (relative L2 ≤ 1e-4)",
    (_name, load) => {
      const model = load();
      manifest.timesteps.forEach((t, i) => {
        expect(relativeL2(model.network(xt, t), want(i)), `t = ${t}`).toBeLessThanOrEqual(1e-4);
      });
      model.dispose();
    },
  );

  it('diffusers read the architecture and the schedule elbo wrote', () => {
    const exported = exportDiffusersFolder(state, { ema: true });
    const written = JSON.parse(new TextDecoder().decode(exported.get('config.json')));
    expect(parseUNet2DConfig(manifest.exported.config).config).toEqual(parseUNet2DConfig(written).config);
    const s = parseSchedulerConfig(manifest.exported.scheduler);
    expect(s.schedule.beta).toEqual(ddpmSchedule(state.meta.config).beta);
    expect([s.prediction, s.variance]).toEqual([state.meta.config.prediction, 'posterior']);
  });

  it("refuses elbo's own UNet, naming what has no diffusers equivalent", () => {
    const own = decodeTrainingState(
      new Uint8Array(readFileSync(new URL('../../../checkpoints/mnist-ddpm.safetensors', DIR))),
      'ddpm',
    );
    expect(() => exportDiffusersFolder(own, { ema: true })).toThrow(
      /no diffusers UNet2DModel equivalent: its decoder concatenates one skip per level.*cropping decoder.*--arch diffusers/,
    );
  });
});

/**
 * The learned-variance export: elbo-trained-learned/weights.safetensors (EMA weights of the same training command
 * with --objective hybrid: out_channels 2, the means then v) exported, loaded by diffusers as learned_range, its
 * outputs on all 2C channels recorded (exported-learned-outputs/).
 */
describe('elbo export --format diffusers of a learned-variance model, checked by diffusers itself', () => {
  const checkpoint = bytes('elbo-trained-learned/weights.safetensors');
  const state = decodeTrainingState(checkpoint, 'ddpm');
  const x = decodeNpy(bytes('exported-learned-outputs/x.npy'));
  const ref = decodeNpy(bytes('exported-learned-outputs/out.npy'));
  const [B, C, H, W] = x.shape;
  const xt = nchwToNhwc(x.data, B, C, H, W);
  const per = B * 2 * C * H * W;
  // diffusers' [B, 2C, H, W] → elbo's batch layout: every example's means (NHWC), then every example's v.
  const want = (i: number) => {
    const { mean, v } = splitLearnedRangeOutput(
      nchwToNhwc(ref.data.subarray(i * per, (i + 1) * per), B, 2 * C, H, W),
      C,
    );
    return Float64Array.from([...mean, ...v]);
  };

  it.each(sources(checkpoint, state))(
    "%s gives diffusers' means and v on the exported folder (relative L2 ≤ 1e-4)",
    (_name, load) => {
      const model = load();
      expect(model.variance).toBe('learnedRange');
      manifest.timesteps.forEach((t, i) => {
        const got = Float64Array.from(model.network(xt, t));
        const n = B * C * H * W;
        expect(relativeL2(got.subarray(0, n), want(i).subarray(0, n)), `means, t = ${t}`).toBeLessThanOrEqual(
          1e-4,
        );
        expect(relativeL2(got.subarray(n), want(i).subarray(n)), `v, t = ${t}`).toBeLessThanOrEqual(1e-4);
      });
      model.dispose();
    },
  );

  it('a checkpoint whose out_channels disagree with its variance is refused, naming the field', () => {
    const { tensors, metadata } = decodeSafetensors(checkpoint);
    const meta = JSON.parse(metadata.elbo) as { config: { variance?: string } };
    delete meta.config.variance;
    const edited = encodeSafetensors(tensors, { ...metadata, elbo: JSON.stringify(meta) });
    expect(() => decodeTrainingState(edited, 'ddpm')).toThrow(
      /meta\.config\.model\.diffusers\.outChannels: must equal the images' 1 channels/,
    );
  });

  it('diffusers read out_channels 2C and variance_type learned_range', () => {
    expect(state.meta.config.variance).toBe('learned-range');
    const exported = exportDiffusersFolder(state, { ema: true });
    const written = JSON.parse(new TextDecoder().decode(exported.get('config.json')));
    const read = parseUNet2DConfig(manifest.exported_learned.config).config;
    expect(read).toEqual(parseUNet2DConfig(written).config);
    expect([read.inChannels, read.outChannels]).toEqual([1, 2]);
    const s = parseSchedulerConfig(manifest.exported_learned.scheduler);
    expect(manifest.exported_learned.scheduler.variance_type).toBe('learned_range');
    expect(s.schedule.beta).toEqual(ddpmSchedule(state.meta.config).beta);
    expect([s.prediction, s.variance]).toEqual([state.meta.config.prediction, 'learnedRange']);
  });
});
