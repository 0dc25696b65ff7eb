/** Evaluation of image samples: elbo's classifier (share recognised, class histogram) and Fréchet distances. */
export * from './classifier.js';
export * from './frechet.js';
