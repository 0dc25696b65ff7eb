/**
 * elbo → diffusers: test/fixtures/diffusers-unet/elbo-trained/checkpoint.safetensors (40 steps of
 * `elbo train ddpm --data mnist --arch diffusers --channels 8,16 --attention 1`) was exported with
 * `elbo export --format diffusers`, and make_fixture.py had diffusers load that folder and record its outputs
 * (exported-outputs/). Here: elbo's network on the checkpoint matches diffusers on the exported folder; the export
 * made in memory loads back in elbo with the same outputs; diffusers read the same scheduler; elbo's own UNet is
 * refused with the reasons.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeNpy } from '../src/data/npy.js';
import { parseUNet2DConfig } from '../src/interop/diffusers/config.js';
import { exportDiffusersFolder } from '../src/interop/diffusers/export.js';
import { nchwToNhwc } from '../src/interop/diffusers/layout.js';
import { parseSchedulerConfig } from '../src/interop/diffusers/scheduler.js';
import { loadDiffusionModel } from '../src/pipeline/index.js';
import { decodeTrainingState } from '../src/train/checkpoint.js';
import { ddpmSchedule } from '../src/train/ddpm.js';
import { relativeL2, startTestEngine } from './helpers/engine.js';

const DIR = new URL('./fixtures/diffusers-unet/', import.meta.url);
const bytes = (path: string) => new Uint8Array(readFileSync(new URL(path, DIR)));
const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as {
  timesteps: number[];
  exported: { config: Record<string, unknown>; scheduler: Record<string, unknown> };
};
const { ctx } = await startTestEngine({ threads: 2 });

describe('elbo export --format diffusers, checked by diffusers itself', () => {
  const checkpoint = bytes('elbo-trained/checkpoint.safetensors');
  const state = decodeTrainingState(checkpoint, 'ddpm');
  const x = decodeNpy(bytes('exported-outputs/x.npy'));
  const ref = decodeNpy(bytes('exported-outputs/out.npy'));
  const [B, C, H, W] = x.shape;
  const xt = nchwToNhwc(x.data, B, C, H, W);
  const per = B * C * H * W;
  const want = (i: number) => nchwToNhwc(ref.data.subarray(i * per, (i + 1) * per), B, C, H, W);

  it.each([
    ['the elbo checkpoint', () => loadDiffusionModel(ctx, checkpoint)],
    [
      'the exported folder, read back by elbo',
      () => loadDiffusionModel(ctx, exportDiffusersFolder(state, { ema: true })),
    ],
  ])("%s gives diffusers' outputs on the exported folder (relative L2 ≤ 1e-4)", (_name, load) => {
    const model = load();
    manifest.timesteps.forEach((t, i) => {
      expect(relativeL2(model.network(xt, t), want(i)), `t = ${t}`).toBeLessThanOrEqual(1e-4);
    });
    model.dispose();
  });

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
