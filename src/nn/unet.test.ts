/**
 * UNet depth against image size: every level halves the resolution once (odd sides round up on the way down and
 * are cropped back on the way up), and the middle keeps at least 2×2 pixels.
 */
import { describe, expect, it } from 'vitest';
import { startTestEngine } from '../../test/helpers/engine.js';
import { Rng } from '../random/rng.js';
import { mseLoss } from '../tensor/ops/elementwise.js';
import { type DdpmConfig, validateDdpmConfig } from '../train/ddpm.js';
import { disposeModule } from './module.js';
import { maxUNetLevels, REFERENCE_UNET, UNet } from './unet.js';

const { ctx } = await startTestEngine({ threads: 2 });

describe('maxUNetLevels', () => {
  it('counts the halvings (⌈n/2⌉) of the shorter side that keep it ≥ 2', () => {
    expect(maxUNetLevels(28, 28)).toBe(4); // 28 → 14 → 7 → 4 → 2
    expect(maxUNetLevels(32, 32)).toBe(4); // 32 → 16 → 8 → 4 → 2
    expect(maxUNetLevels(28, 64)).toBe(4);
    expect(maxUNetLevels(7, 8)).toBe(2); // 7 → 4 → 2
    expect(maxUNetLevels(3, 3)).toBe(1);
    expect(maxUNetLevels(2, 2)).toBe(0);
    expect(() => maxUNetLevels(0, 28)).toThrow(/positive integers, got 0×28/);
  });

  it('a DDPM config rejects a UNet deeper than its images allow, naming the sizes', () => {
    const config = {
      dataset: 'mnist',
      dataShape: [28, 28, 1],
      model: { kind: 'unet', unet: REFERENCE_UNET },
      schedule: 'linear',
      T: 1000,
      prediction: 'eps',
      batchSize: 4,
      lr: 1e-3,
      warmupSteps: 0,
      gradClip: 1,
      emaDecay: 0.999,
      seed: 0,
    } satisfies DdpmConfig;
    const withChannels = (channels: number[]) =>
      ({ ...config, model: { kind: 'unet', unet: { ...REFERENCE_UNET, channels } } }) as DdpmConfig;
    expect(() => validateDdpmConfig(config)).not.toThrow();
    expect(() => validateDdpmConfig(withChannels([8, 8, 8, 8]))).not.toThrow();
    expect(() => validateDdpmConfig(withChannels([8, 8, 8, 8, 8]))).toThrow(
      /UNet of 5 levels halves 28×28 images below 2×2 \(at most 4 levels\)/,
    );
  });
});

describe('a UNet whose levels reach an odd side', () => {
  it('three levels on 28×28 (7 → 4 → 8 cropped to 7) keep the image size and pass gradients to every parameter', () => {
    const model = new UNet(ctx, { ...REFERENCE_UNET, channels: [8, 16, 16], groups: 4 }, Rng.fromSeed(3));
    ctx.scope(() => {
      const x = ctx.fromArray(Rng.fromSeed(4).fillNormal(new Float32Array(2 * 28 * 28)), [2, 28, 28, 1]);
      const y = model.forward(x, [5, 700]);
      expect(y.shape).toEqual([2, 28, 28, 1]);
      ctx.backward(mseLoss(y, ctx.zeros([2, 28, 28, 1])));
    });
    for (const [name, p] of model.namedParameters()) {
      const g = p.grad!.toFloat32Array();
      expect(g.every(Number.isFinite), name).toBe(true);
      expect(
        g.some((v) => v !== 0),
        name,
      ).toBe(true);
    }
    disposeModule(model);
  });
});
