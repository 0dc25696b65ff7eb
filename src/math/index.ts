/** Distributions, special functions and estimators in float64 (pure functions, no engine). */
export * from './bernoulli.js';
export * from './checks.js';
export * from './gaussian.js';
export * from './montecarlo.js';
export * from './quadrature.js';
export * from './special.js';
export * from './units.js';
