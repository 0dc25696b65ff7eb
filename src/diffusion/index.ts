/** DDPM mathematics in float64: schedules, the forward process, its posterior, parameterizations. */
export * from './forward.js';
export * from './gaussianData.js';
export * from './learnedVariance.js';
export * from './lossWeight.js';
export * from './parameterization.js';
export * from './posterior.js';
export * from './schedule.js';
export * from './vlb.js';
export * from './vlbTerm.js';
