// Vectorized e^x and the logistic sigmoid for four float32 lanes, shared by the SiLU and softmax kernels.
//
// e^x follows Cephes expf (S. L. Moshier, Cephes Math Library, expf.c): range reduction
//   x = n·ln2 + r,   n = round(x·log2 e),   |r| ≤ ln2/2,
// with ln2 split Cody–Waite style into C1 + C2 (C1 = 0.693359375 has 9 significant bits, so n·C1 is exact
// and x − n·C1 is exact by Sterbenz's lemma), then
//   e^r ≈ 1 + r + r²·P(r),   P a degree-5 minimax polynomial (Cephes' coefficients),
//   e^x = e^r · 2^n,         2^n built from the exponent bits: bits(2^n) = (n + 127) << 23.
// The product by 2^n is exact, so the relative error is that of e^r: measured max 8.3e-8 over a dense
// grid on [−87, 88] (src/engine/kernels/elementwise.test.ts asserts ≤ 2^-23 ≈ 1.19e-7).
//
// Range: the input is clamped to [LO, HI] = [ln FLT_MIN, ln FLT_MAX] ≈ [−87.3365, 88.7228] before the
// reduction, so n ∈ [−126, 128]; n = 128 is applied as 2^127·2 (the lane is first multiplied by 1 or 2),
// which overflows to +∞ exactly when the true value does (x ≥ HI). Below LO the result is set to +0 (the
// true value is subnormal, < 1.2e-38). NaN stays NaN (pmax/pmin pass the first operand's NaN through and
// the range compare is false).
//
// Speed notes (V8, x86-64): a v128.const costs V8 three instructions (mov imm64, movq, punpcklqdq) every
// time it is used, and V8 does not hoist them out of loops; the constants therefore live in a 16-byte
// aligned static table (one 4-lane copy each) and are loaded (one instruction) where used, ≈ 25 % faster.
// The static data sits below the engine's 64 KiB static reserve; every instance writes the same bytes.
// f32x4.pmin/pmax (one minps/maxps) clamp instead of min/max (≈ 8 instructions each for NaN/±0 rules),
// and n comes from the 1.5·2^23 "shifter" trick instead of nearest + trunc_sat.
import { fma } from './simd';

/** ln(FLT_MIN): below it e^x is subnormal; expv returns 0 there. */
const LO: f32 = -87.33654;
/** ln(FLT_MAX) rounded up to float32: from it on e^x overflows; expv returns +∞ there. */
const HI: f32 = 88.72284;
const LOG2E: f32 = 1.44269504088896341;
/** 1.5·2^23: t + SHIFTER rounds t (|t| < 2^22) to an integer (ties to even) held in the low mantissa bits. */
const SHIFTER: f32 = 12582912;
/** bits(SHIFTER) = 0x4B400000, so bits(SHIFTER + n) − 0x4B400000 = n. */
const SHIFTER_BITS: i32 = 0x4b400000;
const C1: f32 = 0.693359375;
const C2: f32 = -2.1219444e-4;
const P0: f32 = 1.98756915e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

// Constant table: entry i is 4 copies of a float at byte offset 16·i.
const KF: usize = memory.data<f32>(
  [
    LO, LO, LO, LO,
    HI, HI, HI, HI,
    LOG2E, LOG2E, LOG2E, LOG2E,
    SHIFTER, SHIFTER, SHIFTER, SHIFTER,
    C1, C1, C1, C1,
    C2, C2, C2, C2,
    P0, P0, P0, P0,
    P1, P1, P1, P1,
    P2, P2, P2, P2,
    P3, P3, P3, P3,
    P4, P4, P4, P4,
    P5, P5, P5, P5,
    1, 1, 1, 1,
  ],
  16,
);
const K_LO: usize = 0;
const K_HI: usize = 16;
const K_LOG2E: usize = 32;
const K_SHIFTER: usize = 48;
const K_C1: usize = 64;
const K_C2: usize = 80;
const K_P0: usize = 96;
const K_P1: usize = 112;
const K_P2: usize = 128;
const K_P3: usize = 144;
const K_P4: usize = 160;
const K_P5: usize = 176;
const K_ONE: usize = 192;
// Integer entries: SHIFTER_BITS, 127, 1.
const KI: usize = memory.data<i32>(
  [SHIFTER_BITS, SHIFTER_BITS, SHIFTER_BITS, SHIFTER_BITS, 127, 127, 127, 127, 1, 1, 1, 1],
  16,
);
const K_SHIFTER_BITS: usize = 0;
const K_127: usize = 16;
const K_1: usize = 32;

/** The 4-lane float constant at byte offset `at` of the float table. */
@inline
function kf(at: usize): v128 {
  return v128.load(KF + at);
}

/** The 4-lane integer constant at byte offset `at` of the integer table. */
@inline
function ki(at: usize): v128 {
  return v128.load(KI + at);
}

/** 1.0 in four lanes (from the table: cheaper than a v128.const in V8). */
@inline
export function onev(): v128 {
  return kf(K_ONE);
}

/** e^x in each of the four float32 lanes (relative error ≤ 2^-23 for x ∈ [LO, HI], see the header). */
@inline
export function expv(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, kf(K_LO)), kf(K_HI));
  // n = round(x·log2 e): t = x·log2 e + 1.5·2^23 is an integer, as a float (t − SHIFTER, exact) and in its
  // bits (bits(t) − 0x4B400000).
  const shifter = kf(K_SHIFTER);
  const t = f32x4.add(f32x4.mul(xc, kf(K_LOG2E)), shifter);
  const n = f32x4.sub(t, shifter);
  // r = x − n·ln2 = (x − n·C1) − n·C2; the first subtraction is exact.
  let r = f32x4.sub(xc, f32x4.mul(n, kf(K_C1)));
  r = f32x4.sub(r, f32x4.mul(n, kf(K_C2)));
  // e^r ≈ 1 + r + r²·P(r), P(r) = ((((P0 r + P1) r + P2) r + P3) r + P4) r + P5 (Horner).
  let p = fma(kf(K_P0), r, kf(K_P1));
  p = fma(p, r, kf(K_P2));
  p = fma(p, r, kf(K_P3));
  p = fma(p, r, kf(K_P4));
  p = fma(p, r, kf(K_P5));
  let y = f32x4.add(fma(p, f32x4.mul(r, r), r), kf(K_ONE));
  // 2^n, n ∈ [−126, 128]: n' = min(n, 127) gives the normal float (n' + 127) << 23; the remaining factor
  // 2^(n − n') ∈ {1, 2} multiplies y first (exact; 2^128 overflows to +∞ as it should).
  const ni = i32x4.sub(t, ki(K_SHIFTER_BITS));
  const c127 = ki(K_127);
  const nc = i32x4.min_s(ni, c127);
  y = f32x4.mul(y, f32x4.convert_i32x4_s(i32x4.add(i32x4.sub(ni, nc), ki(K_1))));
  y = f32x4.mul(y, i32x4.shl(i32x4.add(nc, c127), 23));
  // Below LO: +0 (a NaN lane compares false and stays NaN).
  return v128.andnot(y, f32x4.lt(x, kf(K_LO)));
}

/** e^x for one float32 (the lane-0 result of expv, so scalar tails round exactly like the SIMD body). */
export function expf1(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}
