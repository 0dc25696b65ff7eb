/** Which image sizes a UNet of a given depth fits: every level halves the resolution once. */
import { describe, expect, it } from 'vitest';
import { type DdpmConfig, validateDdpmConfig } from '../train/ddpm.js';
import { maxUNetLevels, REFERENCE_UNET } from './unet.js';

describe('maxUNetLevels', () => {
  it('counts how often both sides halve evenly', () => {
    expect(maxUNetLevels(28, 28)).toBe(2); // 28 → 14 → 7
    expect(maxUNetLevels(32, 32)).toBe(5);
    expect(maxUNetLevels(28, 32)).toBe(2);
    expect(maxUNetLevels(8, 24)).toBe(3);
    expect(maxUNetLevels(7, 8)).toBe(0);
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
    expect(() => validateDdpmConfig(config)).not.toThrow();
    const deeper = {
      ...config,
      model: { kind: 'unet', unet: { ...REFERENCE_UNET, channels: [32, 64, 128] } },
    };
    expect(() => validateDdpmConfig(deeper as DdpmConfig)).toThrow(
      /UNet of 3 levels needs images \[H, W, C\] with H and W divisible by 8, got \[28, 28, 1\]/,
    );
    expect(() => validateDdpmConfig({ ...deeper, dataShape: [32, 32, 1] } as DdpmConfig)).not.toThrow();
  });
});
