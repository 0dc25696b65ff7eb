/** Blocking constants shared with the kernels (src/engine/assembly/gemm.ts). */
export const MR = 4;
/**
 * Memory-bound kernels (elementwise, optimiser updates) split work in chunks of this many elements (a multiple
 * of the SIMD width); below it they run on the calling thread alone, because waking another thread costs
 * more than it saves.
 */
export const ELEMENT_GRAIN = 16384;
/**
 * Reductions over many rows or pixels (column sums, weight gradients) add this many partial sums over fixed
 * ranges, in a fixed order, whatever the thread count (a multiple of 1, 2, 4 and 8 threads): gradients, and
 * so training, do not depend on the threads.
 */
export const PARTIAL_SUMS = 8;
