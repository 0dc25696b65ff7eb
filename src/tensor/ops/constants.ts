/** Blocking constants shared with the kernels (src/engine/assembly/gemm.ts). */
export const MR = 4;
/**
 * Memory-bound kernels (elementwise, optimiser updates) split work in chunks of this many elements (a multiple
 * of the SIMD width); below it they run on the calling thread alone, because waking another thread costs
 * more than it saves.
 */
export const ELEMENT_GRAIN = 16384;
