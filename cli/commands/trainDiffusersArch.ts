/** `elbo train ddpm --arch diffusers`: diffusers' UNet2DModel architecture from elbo's UNet options. */
import type { DiffusersUNetConfig } from '../../src/interop/diffusers/config.js';
import { diffusersConfigForImages } from '../../src/interop/diffusers/export.js';
import { UserError } from '../userError.js';

/**
 * `--arch diffusers`: the UNet2DModel for these images and UNet options (errors name the option); with learned
 * variances (--objective hybrid|vlb) its out_channels are twice the images' (diffusers' learned_range layout).
 */
export function diffusersArchitecture(
  [height, width, imageChannels]: number[],
  channels: number[],
  resBlocks: number[] | undefined,
  attentionLevels: number[] | undefined,
  learnedVariance = false,
): DiffusersUNetConfig {
  const layers = resBlocks ?? [1];
  if (layers.some((n) => n !== layers[0]))
    throw new UserError(
      `--arch diffusers has one resnet count for every level; got --res-blocks ${layers.join(',')}`,
    );
  const factor = 2 ** (channels.length - 1);
  if (height % factor !== 0 || width % factor !== 0)
    throw new UserError(
      `--arch diffusers: ${height}×${width} images do not halve evenly ${channels.length - 1} times; give fewer --channels`,
    );
  try {
    return diffusersConfigForImages({
      height,
      width,
      imageChannels,
      channels,
      layersPerBlock: layers[0],
      attentionLevels: attentionLevels ?? [],
      groups: 8,
      learnedVariance,
    });
  } catch (err) {
    throw new UserError(`--arch diffusers: ${(err as Error).message}`);
  }
}
