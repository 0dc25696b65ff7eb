/** Data sets: IDX parsing, MNIST, Fashion-MNIST, PNG image sets, 2-D toy sets and their metrics. */
export * from './fashionMnist.js';
export * from './idx.js';
export * from './images.js';
export * from './mnist.js';
export * from './pngImages.js';
export * from './toy2d.js';
