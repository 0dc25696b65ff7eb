// 3×3 convolutions with stride 1 and padding 1 by Winograd's minimal filtering F(m×m, 3×3), m = 2 or 4
// (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks", arXiv:1509.09308, §4.1–4.2), NHWC.
// With α = m + 2, each m×m output tile of one input/output channel pair is
//
//   Y = Aᵀ [ U ⊙ V ] A,   U = G g Gᵀ,   V = Bᵀ d B          (g: the 3×3 filter, d: the α×α input patch)
//
//   F(2×2, 3×3):  Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//                 Aᵀ = [1 1 1 0; 0 1 −1 −1]
//   F(4×4, 3×3):  Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//                 G  = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1]
//                 Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
//
// and summing over input channels turns the α² elementwise products into α² GEMMs
// M[ξ] = V[ξ]·U[ξ] ([tiles × Cin]·[Cin × Cout]): α²/m² multiplies per output instead of 9 (4 for m = 2,
// 2.25 for m = 4; m = 4 has larger transform coefficients, so slightly larger rounding errors).
//
// Gradients. The input gradient of a stride-1 'same' 3×3 convolution is the same convolution of dy with the
// filter flipped in space and transposed in channels, so it runs the forward kernel on weights transformed
// with flip = true. The weight gradient is the adjoint of the formula above (Y is linear in U):
//
//   dg = Gᵀ [ Σ_tiles V ⊙ (A dY Aᵀ) ] G,
//
// i.e. α² GEMMs S[ξ] = Σ_tiles V[ξ]ᵀ·Ŷ[ξ] ([Cin × tiles]·[tiles × Cout]) and one α×α → 3×3 transform per pair.
//
// Layouts: tile t = (n·TH + ty)·TW + tx with TH = ⌈H/m⌉, TW = ⌈W/m⌉; its patch starts at pixel (m·ty − 1, m·tx − 1).
// Transformed weights are packed for the micro-kernel as [ξ][panel of NR output channels][input channel][NR],
// ξ = α·i + j.
import { NR } from './gemm';
import { fma } from './simd';

/** Output channels per packed weight panel (the micro-kernel's width). */
const PANEL: i32 = NR;
/** Tiles per micro-kernel call (its height). */
const ROWS: i32 = 4;

// ---------------------------------------------------------------------------------------------------------
// Weight transform U = G g Gᵀ
// ---------------------------------------------------------------------------------------------------------

/** Component i of G·(a, b, c) for F(m×m, 3×3), four lanes at a time. */
@inline
function gRow(m: i32, i: i32, a: v128, b: v128, c: v128): v128 {
  if (m == 2) {
    if (i == 0) return a;
    if (i == 1) return f32x4.mul(f32x4.add(f32x4.add(a, b), c), f32x4.splat(0.5));
    if (i == 2) return f32x4.mul(f32x4.add(f32x4.sub(a, b), c), f32x4.splat(0.5));
    return c;
  }
  if (i == 0) return f32x4.mul(a, f32x4.splat(0.25));
  if (i == 1) return f32x4.mul(f32x4.add(f32x4.add(a, b), c), f32x4.splat(<f32>(-1.0 / 6.0)));
  if (i == 2) return f32x4.mul(f32x4.add(f32x4.sub(a, b), c), f32x4.splat(<f32>(-1.0 / 6.0)));
  // a/24 ± b/12 + c/6 = ((a/4 + c) ± b/2)/6
  const even = f32x4.add(f32x4.mul(a, f32x4.splat(0.25)), c);
  const odd = f32x4.mul(b, f32x4.splat(0.5));
  const sixth = f32x4.splat(<f32>(1.0 / 6.0));
  if (i == 3) return f32x4.mul(f32x4.add(even, odd), sixth);
  if (i == 4) return f32x4.mul(f32x4.sub(even, odd), sixth);
  return c;
}

/**
 * Packs U = G g Gᵀ of F(m×m, 3×3) for the effective convolution with K input and Nc output channels, where
 * g(k, n) = w[ky][kx][k][n] (flip = false: the forward convolution, K = Cin, Nc = Cout) or
 * g(k, n) = w[2 − ky][2 − kx][n][k] (flip = true: the input gradient, K = Cout, Nc = Cin).
 * up: α²·K·Nc floats, [ξ][Nc/NR][K][NR]. Needs K % 4 == 0 and Nc % NR == 0. Four filters at a time along w's
 * contiguous last axis: four n for flip = false, four k for flip = true.
 * Parallel dimension: k (grain 4).
 */
export function winogradWeightTransform(
  k0: i32, k1: i32, w: usize, up: usize, Cin: i32, Cout: i32, flip: bool, m: i32, scratch: usize,
): void {
  const alpha = m + 2;
  const K = flip ? Cout : Cin;
  const Nc = flip ? Cin : Cout;
  const nPanels = Nc / PANEL;
  const t = scratch; // (G g)[i][kx], α×3 vectors
  const tapBytes = <usize>(Cin * Cout) << 2;
  for (let k = k0; k < k1; k += flip ? 4 : 1) {
    for (let n = 0; n < Nc; n += flip ? 1 : 4) {
      // g[ky][kx] for the four filters: w[ky][kx][k][n..n+3], or w[2 − ky][2 − kx][n][k..k+3].
      const g = flip ? w + (<usize>(n * Cout + k) << 2) : w + (<usize>(k * Cout + n) << 2);
      for (let kx = 0; kx < 3; kx++) {
        const g0 = v128.load(g + tapBytes * <usize>(flip ? 8 - kx : kx));
        const g1 = v128.load(g + tapBytes * <usize>(flip ? 5 - kx : 3 + kx));
        const g2 = v128.load(g + tapBytes * <usize>(flip ? 2 - kx : 6 + kx));
        for (let i = 0; i < alpha; i++) v128.store(t + (<usize>(i * 3 + kx) << 4), gRow(m, i, g0, g1, g2));
      }
      for (let i = 0; i < alpha; i++) {
        const a = v128.load(t + (<usize>(i * 3) << 4));
        const b = v128.load(t + (<usize>(i * 3 + 1) << 4));
        const c = v128.load(t + (<usize>(i * 3 + 2) << 4));
        for (let j = 0; j < alpha; j++) {
          const u = gRow(m, j, a, b, c);
          const panel = up + (<usize>((i * alpha + j) * nPanels + n / PANEL) * K * PANEL << 2);
          if (!flip) {
            v128.store(panel + (<usize>(k * PANEL + (n % PANEL)) << 2), u); // n..n+3 are adjacent lanes
          } else {
            const dst = panel + (<usize>(k * PANEL + (n % PANEL)) << 2); // k..k+3 are PANEL floats apart
            store<f32>(dst, f32x4.extract_lane(u, 0));
            store<f32>(dst + PANEL * 4, f32x4.extract_lane(u, 1));
            store<f32>(dst + PANEL * 8, f32x4.extract_lane(u, 2));
            store<f32>(dst + PANEL * 12, f32x4.extract_lane(u, 3));
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// 1-D transforms of four channels at a time: read the α (or m) vectors at src + r·srcStride, store the
// results at dst + r·dstStride. The 2-D transforms apply them to columns, then to rows.
// ---------------------------------------------------------------------------------------------------------

@inline
function ld(src: usize, srcStride: usize, r: i32): v128 {
  return v128.load(src + <usize>r * srcStride);
}

/** Bᵀ·d (α → α). */
@inline
function transformBt(m: i32, src: usize, srcStride: usize, dst: usize, dstStride: usize): void {
  const d0 = ld(src, srcStride, 0), d1 = ld(src, srcStride, 1);
  const d2 = ld(src, srcStride, 2), d3 = ld(src, srcStride, 3);
  const d4 = m == 4 ? ld(src, srcStride, 4) : d0;
  const d5 = m == 4 ? ld(src, srcStride, 5) : d0;
  storeBt(m, d0, d1, d2, d3, d4, d5, dst, dstStride);
}

/** Stores Bᵀ·(d0, …, d_{α−1}) at dst + i·dstStride (d4, d5 unused for m = 2). */
@inline
function storeBt(m: i32, d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, dst: usize, dstStride: usize): void {
  if (m == 2) {
    v128.store(dst, f32x4.sub(d0, d2));
    v128.store(dst + dstStride, f32x4.add(d1, d2));
    v128.store(dst + 2 * dstStride, f32x4.sub(d2, d1));
    v128.store(dst + 3 * dstStride, f32x4.sub(d1, d3));
    return;
  }
  const four = f32x4.splat(4);
  const five = f32x4.splat(5);
  const two = f32x4.splat(2);
  // r1,2 = (d4 ± d3) ∓ 4(d1 ± d2)·…, r3,4 = (d4 − d2) ± 2(d3 − d1)
  const a = f32x4.add(d3, d4);
  const b = f32x4.add(d1, d2);
  const c = f32x4.sub(d4, d3);
  const e = f32x4.sub(d1, d2);
  const f = f32x4.sub(d4, d2);
  const g = f32x4.mul(two, f32x4.sub(d3, d1));
  v128.store(dst, f32x4.add(f32x4.sub(f32x4.mul(four, d0), f32x4.mul(five, d2)), d4));
  v128.store(dst + dstStride, f32x4.sub(a, f32x4.mul(four, b)));
  v128.store(dst + 2 * dstStride, fma(four, e, c));
  v128.store(dst + 3 * dstStride, f32x4.add(f, g));
  v128.store(dst + 4 * dstStride, f32x4.sub(f, g));
  v128.store(dst + 5 * dstStride, f32x4.add(f32x4.sub(f32x4.mul(four, d1), f32x4.mul(five, d3)), d5));
}

/** Aᵀ·v (α → m). */
@inline
function transformAt(m: i32, src: usize, srcStride: usize, dst: usize, dstStride: usize): void {
  const m0 = ld(src, srcStride, 0), m1 = ld(src, srcStride, 1);
  const m2 = ld(src, srcStride, 2), m3 = ld(src, srcStride, 3);
  const m4 = m == 4 ? ld(src, srcStride, 4) : m0;
  const m5 = m == 4 ? ld(src, srcStride, 5) : m0;
  storeAt(m, m0, m1, m2, m3, m4, m5, dst, dstStride, m, false, f32x4.splat(0), false);
}

/**
 * Stores the first `count` components of Aᵀ·(m0, …, m_{α−1}) at dst + k·dstStride (m4, m5 unused for m = 2),
 * plus `bias` when withBias, added to what is there when accumulate.
 */
@inline
function storeAt(
  m: i32, m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, dst: usize, dstStride: usize, count: i32,
  withBias: bool, bias: v128, accumulate: bool,
): void {
  if (m == 2) {
    storeOut(dst, addIf(withBias, f32x4.add(f32x4.add(m0, m1), m2), bias), accumulate);
    if (count > 1) storeOut(dst + dstStride, addIf(withBias, f32x4.sub(f32x4.sub(m1, m2), m3), bias), accumulate);
    return;
  }
  const s12 = f32x4.add(m1, m2);
  const d12 = f32x4.sub(m1, m2);
  const s34 = f32x4.add(m3, m4);
  const d34 = f32x4.sub(m3, m4);
  storeOut(dst, addIf(withBias, f32x4.add(f32x4.add(m0, s12), s34), bias), accumulate);
  if (count > 1) storeOut(dst + dstStride, addIf(withBias, fma(f32x4.splat(2), d34, d12), bias), accumulate);
  if (count > 2) storeOut(dst + 2 * dstStride, addIf(withBias, fma(f32x4.splat(4), s34, s12), bias), accumulate);
  if (count > 3) {
    storeOut(dst + 3 * dstStride, addIf(withBias, f32x4.add(fma(f32x4.splat(8), d34, d12), m5), bias), accumulate);
  }
}

@inline
function addIf(yes: bool, v: v128, b: v128): v128 {
  return yes ? f32x4.add(v, b) : v;
}

/** A·p (m → α), the transpose of Aᵀ. */
@inline
function transformA(m: i32, src: usize, srcStride: usize, dst: usize, dstStride: usize): void {
  const p0 = ld(src, srcStride, 0), p1 = ld(src, srcStride, 1);
  const p2 = m == 4 ? ld(src, srcStride, 2) : p0;
  const p3 = m == 4 ? ld(src, srcStride, 3) : p0;
  storeA(m, p0, p1, p2, p3, dst, dstStride);
}

/** Stores A·(p0, …, p_{m−1}) at dst + i·dstStride (p2, p3 unused for m = 2). */
@inline
function storeA(m: i32, p0: v128, p1: v128, p2: v128, p3: v128, dst: usize, dstStride: usize): void {
  if (m == 2) {
    v128.store(dst, p0);
    v128.store(dst + dstStride, f32x4.add(p0, p1));
    v128.store(dst + 2 * dstStride, f32x4.sub(p0, p1));
    v128.store(dst + 3 * dstStride, f32x4.neg(p1));
    return;
  }
  const even = f32x4.add(p0, p2); // rows 1, 2: p0 + p2 ± (p1 + p3)
  const odd = f32x4.add(p1, p3);
  const even4 = fma(f32x4.splat(4), p2, p0); // rows 3, 4: p0 + 4p2 ± 2(p1 + 4p3)
  const odd4 = f32x4.mul(f32x4.splat(2), fma(f32x4.splat(4), p3, p1));
  v128.store(dst, p0);
  v128.store(dst + dstStride, f32x4.add(even, odd));
  v128.store(dst + 2 * dstStride, f32x4.sub(even, odd));
  v128.store(dst + 3 * dstStride, f32x4.add(even4, odd4));
  v128.store(dst + 4 * dstStride, f32x4.sub(even4, odd4));
  v128.store(dst + 5 * dstStride, p3);
}

/** Gᵀ·s (α → 3), the transpose of G. */
@inline
function transformGt(m: i32, src: usize, srcStride: usize, dst: usize, dstStride: usize): void {
  const half = f32x4.splat(0.5);
  if (m == 2) {
    const s0 = ld(src, srcStride, 0), s1 = ld(src, srcStride, 1);
    const s2 = ld(src, srcStride, 2), s3 = ld(src, srcStride, 3);
    const sum12 = f32x4.mul(f32x4.add(s1, s2), half);
    v128.store(dst, f32x4.add(s0, sum12));
    v128.store(dst + dstStride, f32x4.mul(f32x4.sub(s1, s2), half));
    v128.store(dst + 2 * dstStride, f32x4.add(sum12, s3));
    return;
  }
  const s0 = ld(src, srcStride, 0), s1 = ld(src, srcStride, 1), s2 = ld(src, srcStride, 2);
  const s3 = ld(src, srcStride, 3), s4 = ld(src, srcStride, 4), s5 = ld(src, srcStride, 5);
  const sixth = f32x4.splat(<f32>(1.0 / 6.0));
  const s12 = f32x4.add(s1, s2);
  const d12 = f32x4.sub(s2, s1);
  const s34 = f32x4.add(s3, s4);
  const d34 = f32x4.sub(s3, s4);
  // dg0 = s0/4 − (s1 + s2)/6 + (s3 + s4)/24, dg1 = (s2 − s1)/6 + (s3 − s4)/12, dg2 = (s3 + s4 − s1 − s2)/6 + s5
  v128.store(dst, f32x4.add(f32x4.mul(s0, f32x4.splat(0.25)), f32x4.mul(sixth, fma(s34, f32x4.splat(0.25), f32x4.neg(s12)))));
  v128.store(dst + dstStride, f32x4.mul(sixth, fma(d34, half, d12)));
  v128.store(dst + 2 * dstStride, fma(sixth, f32x4.sub(s34, s12), s5));
}

// ---------------------------------------------------------------------------------------------------------
// 2-D tile transforms, four channels at a time
// ---------------------------------------------------------------------------------------------------------

/** Pointer to pixel (y, x) of image n, or to the zero row when it lies outside (the padding, or n = −1). */
@inline
function pixel(src: usize, n: i32, y: i32, x: i32, H: i32, W: i32, C: i32, zeroRow: usize): usize {
  if (n < 0 || <u32>y >= <u32>H || <u32>x >= <u32>W) return zeroRow;
  return src + ((<usize>(n * H + y) * W + x) * C) * 4;
}

/** Fills `ptrs` with the pixel pointers of the size×size block at (y0, x0) of image n. */
@inline
function blockPointers(
  ptrs: usize, src: usize, n: i32, y0: i32, x0: i32, size: i32, H: i32, W: i32, C: i32, zeroRow: usize,
): void {
  for (let a = 0; a < size; a++) {
    for (let b = 0; b < size; b++) {
      store<u32>(ptrs + (<usize>(a * size + b) << 2), <u32>pixel(src, n, y0 + a, x0 + b, H, W, C, zeroRow));
    }
  }
}

/** Pointer r of the table at `ptrs` (a column of a patch: r = a·size + b). */
@inline
function ptrAt(ptrs: usize, r: i32): usize {
  return <usize>load<u32>(ptrs + (<usize>r << 2));
}

/**
 * Channel vectors per pass of the 2-D transforms: the first (column) pass of a tile writes CHUNK·α² vectors
 * (18 KiB for α = 6) that the second (row) pass reads back while they are in L1.
 */
const CHUNK: i32 = 32;

/**
 * V = Bᵀ d B for `count` tiles starting at tile t0 (tiles ≥ T read zeros), all C channels, into vb: the C
 * values of (tile tt, ξ) start at vb + tt·tileStride + ξ·xiStride (bytes). Column by column, the α pixel
 * pointers are loaded once and the column transform Bᵀ d[·][b] runs straight from the pixels for every channel
 * vector of a chunk, into e[c][i][b] (α² vectors per channel vector); the row transforms then read e. Scratch:
 * `ptrs` α² pointers, `tmp` CHUNK·α² vectors.
 */
function inputTransform(
  m: i32, src: usize, t0: i32, count: i32, T: i32, TH: i32, TW: i32, H: i32, W: i32, C: i32,
  vb: usize, tileStride: usize, xiStride: usize, zeroRow: usize, ptrs: usize, tmp: usize,
): void {
  const alpha = m + 2;
  const rowBytes = <usize>C << 2;
  const eRow = <usize>alpha << 4; // e[c][i][·]
  const eVec = <usize>(alpha * alpha) << 4; // e[c][·][·]
  for (let tt = 0; tt < count; tt++) {
    const t = t0 + tt;
    const n = t < T ? t / (TH * TW) : -1;
    blockPointers(ptrs, src, n, m * ((t / TW) % TH) - 1, m * (t % TW) - 1, alpha, H, W, C, zeroRow);
    const v = vb + <usize>tt * tileStride;
    for (let c0: usize = 0; c0 < rowBytes; c0 += <usize>CHUNK << 4) {
      const c1 = min(rowBytes, c0 + (<usize>CHUNK << 4));
      for (let b = 0; b < alpha; b++) {
        const p0 = ptrAt(ptrs, b), p1 = ptrAt(ptrs, alpha + b);
        const p2 = ptrAt(ptrs, 2 * alpha + b), p3 = ptrAt(ptrs, 3 * alpha + b);
        const p4 = m == 4 ? ptrAt(ptrs, 4 * alpha + b) : p0;
        const p5 = m == 4 ? ptrAt(ptrs, 5 * alpha + b) : p0;
        let e = tmp + (<usize>b << 4);
        for (let c = c0; c < c1; c += 16, e += eVec) {
          const d0 = v128.load(p0 + c), d1 = v128.load(p1 + c), d2 = v128.load(p2 + c), d3 = v128.load(p3 + c);
          const d4 = m == 4 ? v128.load(p4 + c) : d0;
          const d5 = m == 4 ? v128.load(p5 + c) : d0;
          storeBt(m, d0, d1, d2, d3, d4, d5, e, eRow);
        }
      }
      let e = tmp;
      for (let c = c0; c < c1; c += 16, e += eVec) {
        for (let i = 0; i < alpha; i++) transformBt(m, e + <usize>i * eRow, 16, v + <usize>(i * alpha) * xiStride + c, xiStride);
      }
    }
  }
}

/**
 * Ŷ = A dY Aᵀ (m×m → α×α) of the output gradient for `count` tiles from t0 (tiles ≥ tEnd read zeros), into yb
 * with strides as in inputTransform, and in the same two passes (here e[c][i][b] is α×m per channel vector).
 */
function gradientTransform(
  m: i32, dy: usize, t0: i32, count: i32, tEnd: i32, TH: i32, TW: i32, H: i32, W: i32, C: i32,
  yb: usize, tileStride: usize, xiStride: usize, zeroRow: usize, ptrs: usize, tmp: usize,
): void {
  const alpha = m + 2;
  const rowBytes = <usize>C << 2;
  const eRow = <usize>m << 4;
  const eVec = <usize>(alpha * m) << 4;
  for (let tt = 0; tt < count; tt++) {
    const t = t0 + tt;
    const n = t < tEnd ? t / (TH * TW) : -1;
    blockPointers(ptrs, dy, n, m * ((t / TW) % TH), m * (t % TW), m, H, W, C, zeroRow);
    const v = yb + <usize>tt * tileStride;
    for (let c0: usize = 0; c0 < rowBytes; c0 += <usize>CHUNK << 4) {
      const c1 = min(rowBytes, c0 + (<usize>CHUNK << 4));
      for (let b = 0; b < m; b++) {
        const p0 = ptrAt(ptrs, b), p1 = ptrAt(ptrs, m + b);
        const p2 = m == 4 ? ptrAt(ptrs, 2 * m + b) : p0;
        const p3 = m == 4 ? ptrAt(ptrs, 3 * m + b) : p0;
        let e = tmp + (<usize>b << 4);
        for (let c = c0; c < c1; c += 16, e += eVec) {
          const q0 = v128.load(p0 + c), q1 = v128.load(p1 + c);
          const q2 = m == 4 ? v128.load(p2 + c) : q0;
          const q3 = m == 4 ? v128.load(p3 + c) : q0;
          storeA(m, q0, q1, q2, q3, e, eRow);
        }
      }
      let e = tmp;
      for (let c = c0; c < c1; c += 16, e += eVec) {
        for (let i = 0; i < alpha; i++) transformA(m, e + <usize>i * eRow, 16, v + <usize>(i * alpha) * xiStride + c, xiStride);
      }
    }
  }
}

/**
 * Y = Aᵀ M A + bias for `count` tiles from t0 (only tiles < T and pixels inside the image are written), from
 * mb[tile][ξ][C] into out (NHWC, C channels), adding to it when accumulate; bias = 0: none. The column pass
 * Aᵀ M[·][j] goes to tmp (m×α vectors); each row's Aᵀ is stored into the image directly.
 */
function outputTransform(
  m: i32, mb: usize, t0: i32, count: i32, T: i32, TH: i32, TW: i32, H: i32, W: i32, C: i32,
  out: usize, accumulate: bool, bias: usize, tmp: usize,
): void {
  const alpha = m + 2;
  const rowBytes = <usize>C << 2;
  const xiRow = <usize>alpha * rowBytes; // from M[i][j] to M[i + 1][j]
  const e = tmp; // (Aᵀ M)[r][j], m×α
  const eRow = <usize>alpha << 4;
  for (let tt = 0; tt < count; tt++) {
    const t = t0 + tt;
    if (t >= T) return;
    const n = t / (TH * TW);
    const y0 = ((t / TW) % TH) * m;
    const x0 = (t % TW) * m;
    const rows = min(m, H - y0);
    const cols = min(m, W - x0);
    const tile = mb + <usize>tt * <usize>(alpha * alpha) * rowBytes;
    const corner = out + ((<usize>(n * H + y0) * W + x0) * C) * 4;
    const imageRow = <usize>W * rowBytes;
    for (let c: usize = 0; c < rowBytes; c += 16) {
      const b = bias != 0 ? v128.load(bias + c) : f32x4.splat(0);
      for (let j = 0; j < alpha; j++) transformAt(m, tile + <usize>j * rowBytes + c, xiRow, e + (<usize>j << 4), eRow);
      for (let r = 0; r < rows; r++) {
        const er = e + <usize>r * eRow;
        const m0 = v128.load(er), m1 = v128.load(er, 16), m2 = v128.load(er, 32), m3 = v128.load(er, 48);
        const m4 = m == 4 ? v128.load(er, 64) : m0;
        const m5 = m == 4 ? v128.load(er, 80) : m0;
        storeAt(m, m0, m1, m2, m3, m4, m5, corner + <usize>r * imageRow + c, rowBytes, cols, true, b, accumulate);
      }
    }
  }
}

@inline
function storeOut(p: usize, v: v128, accumulate: bool): void {
  v128.store(p, accumulate ? f32x4.add(v128.load(p), v) : v);
}

// ---------------------------------------------------------------------------------------------------------
// Forward (and input gradient)
// ---------------------------------------------------------------------------------------------------------

/** Tiles per block so that a block's transformed input and output (α²·(K + Nc) floats a tile) stay in L2. */
@inline
function tilesPerBlock(alpha: i32, K: i32, Nc: i32): i32 {
  const fit = (384 * 1024) / (4 * alpha * alpha * (K + Nc));
  return max(ROWS, min(64, fit & ~(ROWS - 1)));
}

/** Scratch bytes before the blocks: zero row (`channels` floats) | α² pointers | CHUNK·α² vectors (α ≤ 6). */
@inline
function headerBytes(channels: i32): usize {
  return (<usize>channels << 2) + 144 + (<usize>(CHUNK * 36) << 4);
}

/**
 * out[N,H,W,Nc] (+)= the 3×3, stride-1, padding-1 convolution of src[N,H,W,K] whose transformed weights
 * `up` came from winogradWeightTransform (same m; K, Nc as there), plus bias[Nc] (bias = 0: none). Needs
 * K % 4 == 0 and Nc % NR == 0. Parallel dimension: tiles (grain ROWS).
 */
export function winogradConv(
  t0: i32, t1: i32, src: usize, up: usize, out: usize,
  N: i32, H: i32, W: i32, K: i32, Nc: i32, m: i32, accumulate: bool, bias: usize, scratch: usize,
): void {
  const alpha = m + 2;
  const xis = alpha * alpha;
  const TH = (H + m - 1) / m;
  const TW = (W + m - 1) / m;
  const T = N * TH * TW;
  const tb = tilesPerBlock(alpha, K, Nc);
  const nPanels = Nc / PANEL;
  // Scratch: header | V block [tb][ξ][K] | M block [tb][ξ][Nc].
  const zeroRow = scratch;
  const ptrs = zeroRow + (<usize>K << 2);
  const tmp = ptrs + 144;
  const vb = scratch + headerBytes(K);
  const mb = vb + <usize>(tb * xis * K) * 4;
  memory.fill(zeroRow, 0, <usize>K << 2);
  const aStride = <usize>(xis * K) << 2;
  const cStride = <usize>(xis * Nc) << 2;
  for (let b0 = t0; b0 < t1; b0 += tb) {
    const count = min(tb, t1 - b0);
    const rows = (count + ROWS - 1) & ~(ROWS - 1);
    inputTransform(m, src, b0, rows, min(T, t1), TH, TW, H, W, K, vb, aStride, <usize>K << 2, zeroRow, ptrs, tmp);
    for (let xi = 0; xi < xis; xi++) {
      for (let p = 0; p < nPanels; p++) {
        const b = up + (<usize>((xi * nPanels + p) * K * PANEL) << 2);
        for (let r = 0; r < rows; r += ROWS) {
          const a = vb + (<usize>(r * xis + xi) * K << 2);
          const c = mb + (<usize>((r * xis + xi) * Nc + p * PANEL) << 2);
          multiply4x8(a, a + aStride, a + 2 * aStride, a + 3 * aStride, 4, b, PANEL * 4, K, c, cStride, false);
        }
      }
    }
    outputTransform(m, mb, b0, count, T, TH, TW, H, W, Nc, out, accumulate, bias, tmp);
  }
}

/**
 * The 4×8 register-blocked micro-kernel: c[r][0..8] (+)= Σ_k a_r(k) · b(k)[0..8] for r < 4, where a_r(k) is the
 * float at a_r + k·aStep and b(k) the 8 floats at b + k·bStep; row r of c starts at c + r·cStride.
 */
@inline
function multiply4x8(
  a0: usize, a1: usize, a2: usize, a3: usize, aStep: usize, b: usize, bStep: usize, K: i32,
  c: usize, cStride: usize, accumulate: bool,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let s = v128.load32_splat(a0);
    c00 = fma(s, b0, c00);
    c01 = fma(s, b1, c01);
    s = v128.load32_splat(a1);
    c10 = fma(s, b0, c10);
    c11 = fma(s, b1, c11);
    s = v128.load32_splat(a2);
    c20 = fma(s, b0, c20);
    c21 = fma(s, b1, c21);
    s = v128.load32_splat(a3);
    c30 = fma(s, b0, c30);
    c31 = fma(s, b1, c31);
    a0 += aStep;
    a1 += aStep;
    a2 += aStep;
    a3 += aStep;
    b += bStep;
  }
  storeOut(c, c00, accumulate);
  storeOut(c + 16, c01, accumulate);
  storeOut(c + cStride, c10, accumulate);
  storeOut(c + cStride + 16, c11, accumulate);
  storeOut(c + 2 * cStride, c20, accumulate);
  storeOut(c + 2 * cStride + 16, c21, accumulate);
  storeOut(c + 3 * cStride, c30, accumulate);
  storeOut(c + 3 * cStride + 16, c31, accumulate);
}

// ---------------------------------------------------------------------------------------------------------
// Weight gradient
// ---------------------------------------------------------------------------------------------------------

/** Tiles per weight-gradient block: its transformed input and gradient, α²·(Cin + Cout) floats a tile, in L2. */
@inline
function gradTilesPerBlock(alpha: i32, Cin: i32, Cout: i32): i32 {
  return max(16, min(256, (768 * 1024) / (4 * alpha * alpha * (Cin + Cout))));
}

/**
 * Partial sums S_c[ξ][ci][co] = Σ_{tiles of chunk c} V[ξ][ci] · Ŷ[ξ][co] for chunk c of `chunks` equal tile
 * ranges, into partials + c·α²·Cin·Cout floats. x[N,H,W,Cin], dy[N,H,W,Cout]; needs Cin % 4 == 0 and
 * Cout % 8 == 0. Parallel dimension: chunks (grain 1); winogradWeightGradFinish sums and transforms them.
 * Blocks are [ξ][tile][C] here, so that the reduction over tiles walks contiguous rows.
 */
export function winogradWeightGradPartial(
  c0: i32, c1: i32, x: usize, dy: usize, partials: usize, chunks: i32,
  N: i32, H: i32, W: i32, Cin: i32, Cout: i32, m: i32, scratch: usize,
): void {
  const alpha = m + 2;
  const xis = alpha * alpha;
  const TH = (H + m - 1) / m;
  const TW = (W + m - 1) / m;
  const T = N * TH * TW;
  const tb = gradTilesPerBlock(alpha, Cin, Cout);
  const zeroCount = max(Cin, Cout);
  const vRow = <usize>Cin << 2;
  const yRow = <usize>Cout << 2;
  // Scratch: header | V block [ξ][tb][Cin] | Ŷ block [ξ][tb][Cout].
  const zeroRow = scratch;
  const ptrs = zeroRow + (<usize>zeroCount << 2);
  const tmp = ptrs + 144;
  const vb = scratch + headerBytes(zeroCount);
  const yb = vb + <usize>(xis * tb) * vRow;
  memory.fill(zeroRow, 0, <usize>zeroCount << 2);
  const per = (T + chunks - 1) / chunks;
  for (let chunk = c0; chunk < c1; chunk++) {
    const s = partials + <usize>chunk * xis * Cin * Cout * 4;
    memory.fill(s, 0, <usize>(xis * Cin * Cout) << 2);
    const tEnd = min(T, (chunk + 1) * per);
    for (let b0 = chunk * per; b0 < tEnd; b0 += tb) {
      const count = min(tb, tEnd - b0);
      inputTransform(m, x, b0, count, tEnd, TH, TW, H, W, Cin, vb, vRow, <usize>tb * vRow, zeroRow, ptrs, tmp);
      gradientTransform(m, dy, b0, count, tEnd, TH, TW, H, W, Cout, yb, yRow, <usize>tb * yRow, zeroRow, ptrs, tmp);
      for (let xi = 0; xi < xis; xi++) {
        const vx = vb + <usize>(xi * tb) * vRow;
        const yx = yb + <usize>(xi * tb) * yRow;
        for (let ci = 0; ci < Cin; ci += 4) {
          for (let co = 0; co < Cout; co += 8) {
            // S[ξ][ci + r][co..co + 8] += Σ_tiles V[ξ][tile][ci + r] · Ŷ[ξ][tile][co..co + 8]
            const a = vx + (<usize>ci << 2);
            const d = s + (<usize>((xi * Cin + ci) * Cout + co) << 2);
            multiply4x8(a, a + 4, a + 8, a + 12, vRow, yx + (<usize>co << 2), yRow, count, d, yRow, true);
          }
        }
      }
    }
  }
}

/**
 * dw[3][3][Cin][Cout] (+)= Gᵀ (Σ_c S_c) G from winogradWeightGradPartial's `chunks` partial sums (same m).
 * Needs Cout % 4 == 0. Parallel dimension: input channels ci (grain 1).
 */
export function winogradWeightGradFinish(
  ci0: i32, ci1: i32, partials: usize, chunks: i32, dw: usize, Cin: i32, Cout: i32, m: i32, accumulate: bool,
  scratch: usize,
): void {
  const alpha = m + 2;
  const xis = alpha * alpha;
  const chunkBytes = <usize>(xis * Cin * Cout) << 2;
  const xiBytes = <usize>(Cin * Cout) << 2;
  const s = scratch; // S[i][j] summed over chunks, α×α vectors
  const r = s + (<usize>xis << 4); // (Gᵀ S)[ky][j], 3×α
  const g = r + (<usize>(3 * alpha) << 4); // (Gᵀ S G)[ky][kx], 3×3
  const row = <usize>alpha << 4;
  const tap = <usize>(Cin * Cout) << 2;
  for (let ci = ci0; ci < ci1; ci++) {
    for (let co = 0; co < Cout; co += 4) {
      const base = partials + (<usize>(ci * Cout + co) << 2);
      for (let xi = 0; xi < xis; xi++) {
        let sum = f32x4.splat(0);
        for (let c = 0; c < chunks; c++) sum = f32x4.add(sum, v128.load(base + <usize>c * chunkBytes + <usize>xi * xiBytes));
        v128.store(s + (<usize>xi << 4), sum);
      }
      for (let j = 0; j < alpha; j++) transformGt(m, s + (<usize>j << 4), row, r + (<usize>j << 4), row);
      for (let ky = 0; ky < 3; ky++) transformGt(m, r + <usize>ky * row, 16, g + (<usize>(ky * 3) << 4), 16);
      const dst = dw + (<usize>(ci * Cout + co) << 2);
      for (let t = 0; t < 9; t++) storeOut(dst + <usize>t * tap, v128.load(g + (<usize>t << 4)), accumulate);
    }
  }
}
