/**
 * The seeds' probabilistic foundations: exact conjugate posteriors and posterior predictives, Bayesian linear
 * regression approximated by mean-field VI (engine gradients) and by MCMC, and KL in both directions.
 */
export * from './conjugate.js';
export * from './distributions.js';
export * from './klFit.js';
export * from './linearRegression.js';
export * from './mcmc.js';
export * from './mvn.js';
export * from './vi.js';
