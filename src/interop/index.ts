/** diffusers ⇄ elbo: UNet2DModel configs, weights, scheduler configs, image layouts, export. */
export * from './diffusers/config.js';
export * from './diffusers/export.js';
export * from './diffusers/layout.js';
export * from './diffusers/scheduler.js';
export * from './diffusers/unet2d.js';
export * from './diffusers/weights.js';
