/** Blocking constants shared with the kernels (src/engine/assembly/gemm.ts). */
export const MR = 4;
/** Elementwise kernels split work in chunks of this many elements (keeps SIMD lanes aligned). */
export const ELEMENT_GRAIN = 4096;
