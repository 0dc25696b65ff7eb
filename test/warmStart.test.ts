/**
 * Warm start by growth (src/train/warmStart.ts): a UNet with added residual blocks and attention layers, started
 * from a trained one's weights, computes exactly the trained network's function, and its new blocks still learn.
 */
import { describe, expect, it } from 'vitest';
import { UNet, type UNetConfig } from '../src/nn/unet.js';
import { Rng } from '../src/random/rng.js';
import { mseLoss } from '../src/tensor/ops/elementwise.js';
import type { NamedArrays } from '../src/train/trainingTensors.js';
import { describeTrainingSteps, totalTrainingSteps } from '../src/train/ddpm.js';
import { warmStart } from '../src/train/warmStart.js';
import { startTestEngine } from './helpers/engine.js';

const { ctx } = await startTestEngine({ threads: 2 });

const SMALL: UNetConfig = {
  imageChannels: 1,
  channels: [8, 16],
  timeEmbeddingDim: 16,
  timeHiddenDim: 32,
  groups: 4,
};
const GROWN: UNetConfig = { ...SMALL, resBlocks: [1, 2], attentionLevels: [1] };

/** A model's parameters as a checkpoint's "ema.*" tensors. */
function asEmaTensors(model: UNet): NamedArrays {
  const out: NamedArrays = new Map();
  for (const [name, p] of model.namedParameters()) {
    out.set(`ema.${name}`, { shape: [...p.shape], data: p.toFloat32Array() });
  }
  return out;
}

function forward(model: UNet, x: Float32Array, t: number[]): Float32Array {
  return ctx.noGrad(() => ctx.scope(() => model.forward(ctx.fromArray(x, [2, 8, 8, 1]), t).toFloat32Array()));
}

describe('warmStart', () => {
  it('the grown UNet names its new blocks and computes the trained function exactly', () => {
    const trained = new UNet(ctx, SMALL, Rng.fromSeed(1));
    const grown = new UNet(ctx, GROWN, Rng.fromSeed(2));
    const report = warmStart(grown, asEmaTensors(trained), 'ema.');
    expect(report.newBlocks.sort()).toEqual(['rb2_2', 'rb2_attn', 'up2_2', 'up2_attn']);
    expect(report.copied).toBe(trained.namedParameters().length);

    const x = Rng.fromSeed(3).fillNormal(new Float32Array(2 * 64));
    const expected = forward(trained, x, [5, 700]);
    expect(forward(grown, x, [5, 700])).toEqual(expected);
    // Without the zeroed output layers the new blocks change the function (so the check above can fail).
    const fresh = new UNet(ctx, GROWN, Rng.fromSeed(2));
    const tensors = asEmaTensors(trained);
    for (const [name, p] of fresh.namedParameters()) {
      const e = tensors.get(`ema.${name}`);
      if (e) p.view().set(e.data);
    }
    expect(forward(fresh, x, [5, 700])).not.toEqual(expected);
  });

  it('the new blocks get gradients through their zeroed output layer', () => {
    const grown = new UNet(ctx, GROWN, Rng.fromSeed(2));
    warmStart(grown, asEmaTensors(new UNet(ctx, SMALL, Rng.fromSeed(1))), 'ema.');
    const rng = Rng.fromSeed(4);
    ctx.scope(() => {
      const x = ctx.fromArray(rng.fillNormal(new Float32Array(2 * 64)), [2, 8, 8, 1]);
      const target = ctx.fromArray(rng.fillNormal(new Float32Array(2 * 64)), [2, 8, 8, 1]);
      ctx.backward(mseLoss(grown.forward(x, [3, 400]), target));
    });
    const grads = new Map(grown.namedParameters().map(([name, p]) => [name, p.grad!.toFloat32Array()]));
    const norm = (name: string) => Math.hypot(...grads.get(name)!);
    for (const name of [
      'rb2_2.conv2.weight',
      'up2_2.conv2.weight',
      'rb2_attn.proj.weight',
      'up2_attn.proj.weight',
    ])
      expect(norm(name), name).toBeGreaterThan(0);
  });

  it('refuses sources whose shared layers differ, and new blocks that cannot be the identity', () => {
    const wider = asEmaTensors(new UNet(ctx, { ...SMALL, channels: [8, 24] }, Rng.fromSeed(1)));
    expect(() => warmStart(new UNet(ctx, GROWN, Rng.fromSeed(2)), wider, 'ema.')).toThrow(
      /"rb2\.conv1\.weight" has shape .* only residual blocks and attention layers can be added/,
    );
    const partial = asEmaTensors(new UNet(ctx, SMALL, Rng.fromSeed(1)));
    partial.delete('ema.mid1.temb.bias');
    expect(() => warmStart(new UNet(ctx, SMALL, Rng.fromSeed(2)), partial, 'ema.')).toThrow(
      /has "mid1" but not its parameter "mid1\.temb\.bias"/,
    );
    const grown = asEmaTensors(new UNet(ctx, GROWN, Rng.fromSeed(1)));
    expect(() => warmStart(new UNet(ctx, SMALL, Rng.fromSeed(2)), grown, 'ema.')).toThrow(
      /the source has rb2_2, rb2_attn, up2_2, up2_attn, which this network lacks/,
    );
    const without = (module: string) => {
      const t = asEmaTensors(new UNet(ctx, SMALL, Rng.fromSeed(1)));
      for (const key of [...t.keys()]) if (key.startsWith(`ema.${module}.`)) t.delete(key);
      return t;
    };
    // rb2 maps 8 → 16 channels through a 1×1 skip convolution, so it cannot start as the identity.
    expect(() => warmStart(new UNet(ctx, SMALL, Rng.fromSeed(2)), without('rb2'), 'ema.')).toThrow(
      /new block "rb2" changes the channel count/,
    );
    expect(() => warmStart(new UNet(ctx, SMALL, Rng.fromSeed(2)), without('down2'), 'ema.')).toThrow(
      /new module "down2" is not a residual block or attention layer/,
    );
    expect(() => warmStart(new UNet(ctx, SMALL, Rng.fromSeed(2)), partial, 'model.')).toThrow(
      /no tensors named/,
    );
  });
});

describe('totalTrainingSteps', () => {
  it("adds a warm start's recorded total to the checkpoint's own steps, and says so", () => {
    expect(totalTrainingSteps({ step: 3000, config: {} })).toBe(3000);
    const grown = { step: 3000, config: { warmStart: { from: 'a.safetensors', step: 18000 } } };
    expect(totalTrainingSteps(grown)).toBe(21000);
    expect(describeTrainingSteps(grown)).toBe('21000 (3000 after a warm start from 18000)');
    expect(describeTrainingSteps({ step: 5, config: {} })).toBe('5');
  });
});
