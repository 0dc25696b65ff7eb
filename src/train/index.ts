/** Training: the DDPM trainer, Adam, EMA, gradient clipping and learning-rate schedules, checkpoints, warm start. */
export * from './checkpoint.js';
export * from './ddpm.js';
export * from './ema.js';
export * from './gradients.js';
export * from './optim.js';
export * from './trainingTensors.js';
export * from './importanceSampler.js';
export * from './vlbObjective.js';
export * from './warmStart.js';
export * from './emaWeights.js';
