/**
 * elbo → diffusers: a DDPM checkpoint whose network is diffusers' UNet2DModel architecture becomes a folder that
 * `UNet2DModel.from_pretrained(DIR)` and `DDPMScheduler.from_pretrained(DIR)` load (config.json,
 * diffusion_pytorch_model.safetensors, scheduler_config.json); elbo's own UNet and the MLP are refused with the
 * reasons. Also the architecture elbo trains when asked for a diffusers-compatible one
 * ({@link diffusersConfigForImages}). A learned-variance model exports as diffusers' learned_range.
 *
 * [ND21] Nichol & Dhariwal 2021, arXiv:2102.09672v1 (learned variances, §3.1, eq. 15)
 */
import { encodeSafetensors, type SafetensorsTensor } from '../../checkpoint/safetensors.js';
import type { UNetConfig } from '../../nn/unet.js';
import { toTorchLayout } from '../../nn/torchLayout.js';
import { ddpmSchedule, type DdpmConfig, type TrainingState } from '../../train/ddpm.js';
import { type DiffusersUNetConfig, unet2DConfigJson, validateDiffusersUNetConfig } from './config.js';
import { ddpmSchedulerConfigJson } from './scheduler.js';
import { torchShape } from './weights.js';

/**
 * The UNet2DModel an elbo user asks for with elbo's UNet options: one level per channel count, `layersPerBlock`
 * resnets per down block, attention blocks at `attentionLevels`, GroupNorm of `groups`, one attention head per
 * layer (attention_head_dim null, as elbo's own attention), out_channels twice the image channels with learned
 * variances ([ND21] §3.1, diffusers' learned_range), diffusers' defaults otherwise.
 */
export function diffusersConfigForImages(o: {
  height: number;
  width: number;
  imageChannels: number;
  channels: readonly number[];
  layersPerBlock: number;
  attentionLevels: readonly number[];
  groups: number;
  /** Learned-range variances: out_channels = 2 × imageChannels, the means then v (default false). */
  learnedVariance?: boolean;
}): DiffusersUNetConfig {
  const levels = o.channels.length;
  const attends = (l: number) => o.attentionLevels.includes(l);
  const config: DiffusersUNetConfig = {
    sampleSize: [o.height, o.width],
    inChannels: o.imageChannels,
    outChannels: (o.learnedVariance ? 2 : 1) * o.imageChannels,
    centerInputSample: false,
    flipSinToCos: true,
    freqShift: 0,
    downBlockTypes: o.channels.map((_, l) => (attends(l) ? 'AttnDownBlock2D' : 'DownBlock2D')),
    upBlockTypes: o.channels.map((_, i) => (attends(levels - 1 - i) ? 'AttnUpBlock2D' : 'UpBlock2D')),
    blockOutChannels: [...o.channels],
    layersPerBlock: o.layersPerBlock,
    midBlockScaleFactor: 1,
    downsamplePadding: 1,
    attentionHeadDim: null,
    normNumGroups: o.groups,
    normEps: 1e-5,
    attnNormNumGroups: null,
    addAttention: true,
    midBlock: true,
    timeEmbeddingDim: null,
  };
  validateDiffusersUNetConfig(config);
  return config;
}

/**
 * Why elbo's own UNet (src/nn/unet.ts) has no UNet2DModel equivalent, for this config and image size: the
 * structural differences first (they hold for every config), then the ones this config adds.
 */
export function elboUNetExportBlockers(u: UNetConfig, height: number, width: number): string[] {
  const out = [
    "its decoder concatenates one skip per level; diffusers' up blocks concatenate one per resnet " +
      '(layers_per_block + 1 per level, the downsampler outputs among them)',
    "it downsamples after the last level too (into the middle block); diffusers' last down block does not",
    "it upsamples by nearest neighbour alone; diffusers' Upsample2D follows with a 3×3 convolution",
  ];
  if (u.timeEmbeddingDim !== u.channels[0] || u.timeHiddenDim !== 4 * u.channels[0])
    out.push(
      `its time embedding is ${u.timeEmbeddingDim} wide with a ${u.timeHiddenDim}-wide MLP; diffusers' is ` +
        'block_out_channels[0] wide with an MLP of time_embedding_dim (4× by default)',
    );
  let [h, w] = [height, width];
  for (let l = 0; l < u.channels.length; l++) {
    if (h % 2 !== 0 || w % 2 !== 0) {
      out.push(
        `at level ${l} the ${h}×${w} map has an odd side, which elbo's decoder crops back (cropping decoder); ` +
          'diffusers upsamples by exactly 2',
      );
      break;
    }
    [h, w] = [h / 2, w / 2];
  }
  if ((u.attentionLevels ?? []).some((l) => (u.resBlocks?.[l] ?? 1) > 1))
    out.push(
      "it attends once after all of a level's residual blocks; diffusers' Attn blocks attend after every resnet",
    );
  return out;
}

/** elbo's β schedule as diffusers names it, or null when only the table (trained_betas) says it. */
function diffusersScheduleName(config: DdpmConfig): 'linear' | 'squaredcos_cap_v2' | null {
  if (config.schedule === 'linear') return 'linear';
  if (config.schedule === 'cosine') return 'squaredcos_cap_v2';
  return null;
}

/**
 * A diffusers folder (file name → bytes) for an elbo DDPM checkpoint of the 'diffusers' architecture, from its EMA
 * weights (or the raw ones). Other networks throw an error saying what does not map.
 */
export function exportDiffusersFolder(
  state: TrainingState,
  options: { ema: boolean },
): Map<string, Uint8Array> {
  const { config } = state.meta;
  const model = config.model;
  if (model.kind === 'unet') {
    const [h, w] = config.dataShape;
    throw new Error(
      "this checkpoint's network is elbo's own UNet, which has no diffusers UNet2DModel equivalent: " +
        elboUNetExportBlockers(model.unet, h, w).join('; ') +
        '. Train with `elbo train ddpm --arch diffusers` (same --channels, --res-blocks as one count, --attention) ' +
        'for a model that exports',
    );
  }
  if (model.kind === 'mlp')
    throw new Error(
      "this checkpoint's network is an MLP on vectors; diffusers' UNet2DModel is an image model",
    );
  const prefix = options.ema ? 'ema.' : 'model.';
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [key, t] of state.tensors) {
    if (!key.startsWith(prefix)) continue;
    const shape = torchShape(t.shape);
    tensors[key.slice(prefix.length)] = { dtype: 'F32', shape, data: toTorchLayout(shape, t.data) };
  }
  if (Object.keys(tensors).length === 0) throw new Error(`the checkpoint has no "${prefix}*" tensors`);
  const beta = ddpmSchedule(config).beta;
  const scheduler = ddpmSchedulerConfigJson({
    beta,
    prediction: config.prediction,
    // A learned-variance model's conv_out holds the means, then v: diffusers' learned_range ([ND21] eq. 15).
    variance: config.variance === 'learned-range' ? 'learnedRange' : 'posterior',
    clip: false,
  });
  const name = diffusersScheduleName(config);
  if (name) {
    // The named schedule reproduces elbo's table (linear endpoints already scaled by 1000/T, see ddpmSchedule).
    delete scheduler.trained_betas;
    scheduler.beta_schedule = name;
  }
  const text = (o: unknown) => new TextEncoder().encode(`${JSON.stringify(o, null, 2)}\n`);
  return new Map([
    ['config.json', text(unet2DConfigJson(model.diffusers))],
    // diffusers' save_pretrained writes {"format": "pt"} as the safetensors metadata.
    ['diffusion_pytorch_model.safetensors', encodeSafetensors(tensors, { format: 'pt' })],
    ['scheduler_config.json', text(scheduler)],
  ]);
}
