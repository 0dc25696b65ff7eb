// Shared SIMD helpers for the kernels (AssemblyScript, compiled to WebAssembly SIMD).
// Two builds come from one source: with --enable relaxed-simd, fma() is one fused multiply-add
// (f32x4.relaxed_madd); without it, a multiply and an add.

/** a·b + c, four lanes. */
@inline
export function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
