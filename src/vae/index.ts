/** Variational autoencoders: config, networks, the ELBO and IWAE objectives, the trainer, evaluation, pictures. */
export * from './config.js';
export * from './evaluate.js';
export * from './linearGaussian.js';
export * from './nets.js';
export * from './objective.js';
export * from './pictures.js';
export * from './posteriorMean.js';
export * from './trainer.js';
