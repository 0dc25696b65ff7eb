/**
 * diffusers' UNet2DModel in elbo's engine against diffusers itself: the committed folders in
 * test/fixtures/diffusers-unet (written by its make_fixture.py with diffusers' own code; commit in manifest.json)
 * load by name, and elbo's float32 forward matches diffusers' float64 forward to relative L2 ≤ 1e-4 at every
 * recorded timestep.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/checkpoint/safetensors.js';
import { decodeNpy } from '../src/data/npy.js';
import { parseUNet2DConfig } from '../src/interop/diffusers/config.js';
import { nchwToNhwc } from '../src/interop/diffusers/layout.js';
import { DiffusersUNet2D } from '../src/interop/diffusers/unet2d.js';
import { loadDiffusersStateDict } from '../src/interop/diffusers/weights.js';
import { Rng } from '../src/random/rng.js';
import { relativeL2, startTestEngine } from './helpers/engine.js';
import { fillHashedWeights } from '../bench/hashedWeights.js';
import { gradcheck } from './helpers/gradcheck.js';

const DIR = new URL('./fixtures/diffusers-unet/', import.meta.url);
const file = (folder: string, name: string) =>
  new Uint8Array(readFileSync(new URL(`${folder}/${name}`, DIR)));
const npy = (folder: string, name: string) => decodeNpy(file(folder, name));
const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as {
  source: string;
  timesteps: number[];
};

const { ctx } = await startTestEngine({ threads: 2 });

/** The deprecated attention names diffusers still loads (make_fixture.py checks diffusers' outputs on them). */
const LEGACY: [RegExp, string][] = [
  [/\.to_q\./, '.query.'],
  [/\.to_k\./, '.key.'],
  [/\.to_v\./, '.value.'],
  [/\.to_out\.0\./, '.proj_attn.'],
];

function loadNetwork(folder: string, legacyNames = false): DiffusersUNet2D {
  const { config } = parseUNet2DConfig(JSON.parse(new TextDecoder().decode(file(folder, 'config.json'))));
  const net = new DiffusersUNet2D(ctx, config, Rng.fromSeed(0));
  const tensors = decodeSafetensors(file(folder, 'diffusion_pytorch_model.safetensors')).tensors;
  const renamed = Object.fromEntries(
    Object.entries(tensors).map(([k, v]) => [
      legacyNames ? LEGACY.reduce((name, [re, old]) => name.replace(re, old), k) : k,
      v,
    ]),
  );
  if (legacyNames) expect(Object.keys(renamed).filter((k) => k.includes('.proj_attn.'))).toHaveLength(14);
  loadDiffusersStateDict(net, renamed);
  return net;
}

describe(`diffusers UNet2DModel forward against ${manifest.source}`, () => {
  it.each([
    ['mnist-attn', 'mnist-attn'],
    ['rgb-learned', 'rgb-learned'],
    ['v-pred', 'v-pred'],
    ['mnist-attn under the deprecated attention names (query, key, value, proj_attn)', 'legacy'],
  ])('%s', (_name, name) => {
    const folder = name === 'legacy' ? 'mnist-attn' : name;
    const net = loadNetwork(folder, name === 'legacy');
    const outputs = folder;
    const x = npy(outputs, 'x.npy');
    const ref = npy(outputs, 'out.npy');
    const [B, C, H, W] = x.shape;
    const Co = ref.shape[2];
    const per = B * Co * H * W;
    manifest.timesteps.forEach((t, i) => {
      const got = ctx.noGrad(() =>
        ctx.scope(() =>
          net
            .forward(ctx.fromArray(nchwToNhwc(x.data, B, C, H, W), [B, H, W, C]), new Int32Array(B).fill(t))
            .toFloat32Array(),
        ),
      );
      const want = nchwToNhwc(ref.data.subarray(i * per, (i + 1) * per), B, Co, H, W);
      expect(relativeL2(got, want), `t = ${t}`).toBeLessThanOrEqual(1e-4);
    });
  });
});

describe('diffusers config and weights: errors name the key', () => {
  const config = () =>
    JSON.parse(new TextDecoder().decode(file('mnist-attn', 'config.json'))) as Record<string, unknown>;
  const tensors = () => decodeSafetensors(file('mnist-attn', 'diffusion_pytorch_model.safetensors')).tensors;

  it('an unknown block type, an unsupported option value and an unknown key', () => {
    expect(() =>
      parseUNet2DConfig({
        ...config(),
        down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'AttnDownBlock2D'],
      }),
    ).toThrow(/"down_block_types"\[1\] is "CrossAttnDownBlock2D", a block type elbo does not implement/);
    expect(() => parseUNet2DConfig({ ...config(), resnet_time_scale_shift: 'scale_shift' })).toThrow(
      /"resnet_time_scale_shift" is "scale_shift"; elbo implements only "default"/,
    );
    expect(() => parseUNet2DConfig({ ...config(), cross_attention_dim: 768 })).toThrow(
      /"cross_attention_dim" is not an option/,
    );
    expect(() => parseUNet2DConfig({ ...config(), _class_name: 'UNet2DConditionModel' })).toThrow(
      /"_class_name"/,
    );
    expect(() => parseUNet2DConfig({ ...config(), norm_num_groups: 5 })).toThrow(
      /"block_out_channels\[0\]" = 16 is not divisible by norm_num_groups = 5/,
    );
  });

  it('missing, extra and misshapen weights are all listed by name', () => {
    const { config: c } = parseUNet2DConfig(config());
    const net = new DiffusersUNet2D(ctx, c, Rng.fromSeed(0));
    const t = tensors();
    delete t['conv_out.bias'];
    t['extra.weight'] = t['conv_in.bias'];
    t['conv_in.weight'] = { dtype: 'F32', shape: [16, 1, 5, 5], data: new Float32Array(400) };
    expect(() => loadDiffusersStateDict(net, t)).toThrow(
      /"conv_in.weight" has shape \[16, 1, 5, 5\]; the config's architecture needs \[16, 1, 3, 3\].*missing weights: conv_out.bias.*does not have: extra.weight/,
    );
  });
});

describe("google/ddpm-cifar10-32's architecture (35.7 M parameters, hashed weights)", () => {
  const big = JSON.parse(readFileSync(new URL('big.json', DIR), 'utf8')) as {
    config: Record<string, unknown>;
    names: string[];
    parameters: number;
    timesteps: number[];
    x: number[];
    out: number[][];
  };

  it("has diffusers' parameter count and matches its forward (relative L2 ≤ 1e-4)", () => {
    const { config } = parseUNet2DConfig(big.config);
    const net = new DiffusersUNet2D(ctx, config, Rng.fromSeed(0));
    expect(net.namedParameters().reduce((n, [, p]) => n + p.size, 0)).toBe(big.parameters);
    fillHashedWeights(net, big.names);
    const x = nchwToNhwc(big.x, 1, 3, 32, 32);
    big.timesteps.forEach((t, i) => {
      const got = ctx.noGrad(() =>
        ctx.scope(() => net.forward(ctx.fromArray(x, [1, 32, 32, 3]), [t]).toFloat32Array()),
      );
      expect(relativeL2(got, nchwToNhwc(big.out[i], 1, 3, 32, 32)), `t = ${t}`).toBeLessThanOrEqual(1e-4);
    });
  });
});

describe('training through the diffusers network (elbo train --arch diffusers)', () => {
  it('the input gradient matches central finite differences (two heads, pad-then-stride downsampling)', () => {
    const { config } = parseUNet2DConfig({
      sample_size: 8,
      in_channels: 1,
      out_channels: 1,
      block_out_channels: [8, 8],
      down_block_types: ['AttnDownBlock2D', 'DownBlock2D'],
      up_block_types: ['UpBlock2D', 'AttnUpBlock2D'],
      layers_per_block: 1,
      norm_num_groups: 4,
      attention_head_dim: 4,
      downsample_padding: 0,
    });
    const net = new DiffusersUNet2D(ctx, config, Rng.fromSeed(3));
    const { worst, checked } = gradcheck(ctx, (x) => net.forward(x, [3, 700]), [{ shape: [2, 8, 8, 1] }], {
      samples: 24,
    });
    expect(checked).toBe(24);
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe('center_input_sample', () => {
  it('the network on x equals the uncentred network on 2x − 1', () => {
    const raw = JSON.parse(new TextDecoder().decode(file('v-pred', 'config.json'))) as Record<
      string,
      unknown
    >;
    const tensors = decodeSafetensors(file('v-pred', 'diffusion_pytorch_model.safetensors')).tensors;
    const [centred, plain] = [true, false].map((center) => {
      const net = new DiffusersUNet2D(
        ctx,
        parseUNet2DConfig({ ...raw, center_input_sample: center }).config,
        Rng.fromSeed(0),
      );
      loadDiffusersStateDict(net, tensors);
      return net;
    });
    const x = Rng.fromSeed(9).fillNormal(new Float32Array(2 * 16 * 16));
    const run = (net: DiffusersUNet2D, v: Float32Array) =>
      ctx.noGrad(() =>
        ctx.scope(() => net.forward(ctx.fromArray(v, [2, 16, 16, 1]), [40, 40]).toFloat32Array()),
      );
    const a = run(centred, x);
    expect(
      relativeL2(
        a,
        run(
          plain,
          x.map((v) => 2 * v - 1),
        ),
      ),
    ).toBeLessThan(1e-6);
    expect(relativeL2(a, run(plain, x))).toBeGreaterThan(1e-2);
  });
});
