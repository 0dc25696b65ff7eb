/** Differentiable tensor operations. */
export * from './conv.js';
export * from './elementwise.js';
export * from './linalg.js';
export * from './norm.js';
export * from './shape.js';
export * from './pointwise.js';
export * from './likelihood.js';
