/**
 * elbo — likelihood-based generative models (VAE, DDPM) from the ELBO up.
 * Public API: re-exports only. Node users create an engine with `createNodeEngine` from 'elbo/node'.
 */
export * from './diffusion/index.js';
export { chooseKernelBuild, Engine, type EngineOptions } from './engine/engine.js';
export type { SpawnWorker, WorkerInit } from './engine/threadPool.js';
export { runWorker } from './engine/threadPool.js';
export { createBrowserEngine, serveKernelWorker, type BrowserEngineOptions } from './engine/browser.js';
export * from './math/index.js';
export * from './checkpoint/index.js';
export * from './data/index.js';
export * from './eval/index.js';
export * from './interop/index.js';
export { Conv2d, GroupNorm, Linear } from './nn/layers.js';
export { DEFAULT_MLP_DENOISER, MlpDenoiser, type MlpDenoiserConfig } from './nn/mlpDenoiser.js';
export { disposeModule, type Module, parameterCount } from './nn/module.js';
export { fromTorchLayout, loadTorchStateDict, type NamedArray, toTorchLayout } from './nn/torchLayout.js';
export {
  Attention,
  maxUNetLevels,
  REFERENCE_UNET,
  ResBlock,
  timestepEmbedding,
  UNet,
  type UNetConfig,
} from './nn/unet.js';
export * from './pipeline/index.js';
export { type LineChartOptions, lineChartSvg, type Series } from './plot/lineChart.js';
export { Rng, type RngState } from './random/rng.js';
export * from './samplers/index.js';
export * as ops from './tensor/ops/index.js';
export { Context, type GradNode, type Shape, Tensor } from './tensor/tensor.js';
export * from './train/index.js';
export * from './vae/index.js';
export * from './bayes/index.js';
