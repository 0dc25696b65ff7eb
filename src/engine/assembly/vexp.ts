// Vectorized e^x and the logistic sigmoid for four float32 lanes, shared by the SiLU and softmax kernels.
//
// e^x follows Cephes expf (S. L. Moshier, Cephes Math Library, expf.c): range reduction
//   x = n·ln2 + r,   n = round(x·log2 e),   |r| ≤ ln2/2,
// with ln2 split Cody–Waite style into C1 + C2 (C1 = 0.693359375 has 9 significant bits, so n·C1 is exact
// and x − n·C1 is exact by Sterbenz's lemma), then
//   e^r ≈ 1 + r + r²·P(r),   P a degree-5 minimax polynomial (Cephes' coefficients),
//   e^x = e^r · 2^n,         2^n built from the exponent bits: bits(2^n) = (n + 127) << 23.
// The product by 2^n is exact, so the relative error is that of e^r (measured ≤ 2e-7 over [−87, 88],
// see src/engine/kernels/elementwise.test.ts).
//
// Range: the input is clamped to [LO, HI] before the reduction so that n ∈ [−126, 128]; n = 128 is
// handled as 2^127·2 (the lane is multiplied by 1 or 2 first). Outside the range the result is set
// explicitly: x < LO = ln(FLT_MIN) ≈ −87.3365 → +0 (the true value is subnormal, < 1.2e-38), x > HI =
// ln(FLT_MAX) ≈ 88.7228 → +∞. NaN stays NaN (pmax/pmin pass it through, the range compares are false).
//
// Ordinary functions, no decorators (biome cannot parse AssemblyScript's @inline on functions); they
// have no loops or calls, so Binaryen's -O3 inliner (flexible size limit 70) inlines them anyway.
import { fma } from './simd';

/** ln(FLT_MIN): below it e^x is subnormal; expv returns 0 there. */
const LO: f32 = -87.33654;
/** ln(FLT_MAX) rounded to float32: above it e^x overflows; expv returns +∞ there. */
const HI: f32 = 88.72284;
const LOG2E: f32 = 1.44269504088896341;
/** 1.5·2^23: t + SHIFTER rounds t to an integer (ties to even) held in the low mantissa bits. */
const SHIFTER: f32 = 12582912;
/** bits(SHIFTER) = 0x4B400000: bits(SHIFTER + n) − 0x4B400000 = n for |n| < 2^22. */
const SHIFTER_BITS: i32 = 0x4b400000;
const C1: f32 = 0.693359375;
const C2: f32 = -2.1219444e-4;
const P0: f32 = 1.98756915e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

/** e^x in each of the four float32 lanes (relative error ≲ 2e-7 for x ∈ [LO, HI]). */
export function expv(x: v128): v128 {
  // Clamp with pmax/pmin (one x86 instruction each, unlike min/max; with x first, a NaN x passes through).
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(LO)), f32x4.splat(HI));
  // n = round(x·log2 e): adding 1.5·2^23 rounds x·log2 e (|·| ≤ 128) to an integer, both as a float
  // (t − SHIFTER, exact) and as bits (bits(t) − 0x4B400000), cheaper than nearest + trunc_sat.
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(SHIFTER));
  const n = f32x4.sub(t, f32x4.splat(SHIFTER));
  // r = x − n·ln2 = (x − n·C1) − n·C2; the first subtraction is exact (with or without fusion).
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(C1)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(C2)));
  // e^r ≈ 1 + r + r²·P(r), P(r) = ((((P0 r + P1) r + P2) r + P3) r + P4) r + P5 (Horner).
  let p = fma(f32x4.splat(P0), r, f32x4.splat(P1));
  p = fma(p, r, f32x4.splat(P2));
  p = fma(p, r, f32x4.splat(P3));
  p = fma(p, r, f32x4.splat(P4));
  p = fma(p, r, f32x4.splat(P5));
  let y = f32x4.add(fma(p, f32x4.mul(r, r), r), f32x4.splat(1));
  // 2^n with n ∈ [−126, 128]: n' = min(n, 127) gives a normal float (n' + 127) << 23; the missing
  // factor 2^(n − n') ∈ {1, 2} multiplies y first (exact).
  const ni = i32x4.sub(t, i32x4.splat(SHIFTER_BITS));
  const nc = i32x4.min_s(ni, i32x4.splat(127));
  y = f32x4.mul(y, f32x4.convert_i32x4_s(i32x4.add(i32x4.sub(ni, nc), i32x4.splat(1))));
  y = f32x4.mul(y, i32x4.shl(i32x4.add(nc, i32x4.splat(127)), 23));
  // Out of range: +∞ above HI, +0 below LO (a NaN lane compares false both times and stays NaN).
  y = v128.bitselect(f32x4.splat(Infinity), y, f32x4.gt(x, f32x4.splat(HI)));
  return v128.andnot(y, f32x4.lt(x, f32x4.splat(LO)));
}

/** e^x for one float32 (the lane-0 result of expv, so scalar tails round exactly like the SIMD body). */
export function expf1(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}
