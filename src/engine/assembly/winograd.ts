// 3×3 convolutions with stride 1 and padding 1 by Winograd's minimal filtering F(2×2, 3×3)
// (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks", arXiv:1509.09308, §4.1), NHWC.
// Each 2×2 output tile of one input/output channel pair is
//
//   Y = Aᵀ [ U ⊙ V ] A,   U = G g Gᵀ,   V = Bᵀ d B          (g: the 3×3 filter, d: the 4×4 input patch)
//
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]   Aᵀ = [1 1 1 0; 0 1 −1 −1]
//
// and summing over input channels turns the 16 elementwise products into 16 GEMMs
// M[ξ] = V[ξ]·U[ξ] ([tiles × Cin]·[Cin × Cout]): 16 multiplies per 4 outputs instead of 36.
//
// Gradients. The input gradient of a stride-1 'same' 3×3 convolution is the same convolution of dy with the
// filter flipped in space and transposed in channels, so it runs the forward kernel on weights transformed
// with flip = true. The weight gradient is the adjoint of the formula above (Y is linear in U):
//
//   dg = Gᵀ [ Σ_tiles V ⊙ (A dY Aᵀ) ] G,
//
// i.e. 16 GEMMs S[ξ] = Σ_tiles V[ξ]ᵀ·Ŷ[ξ] ([Cin × tiles]·[tiles × Cout]) and one 4×4 → 3×3 transform per pair.
//
// Layouts: tile t = (n·TH + ty)·TW + tx with TH = ⌈H/2⌉, TW = ⌈W/2⌉; its patch starts at pixel (2ty − 1, 2tx − 1).
// Transformed blocks in scratch are [tile][ξ][channel] with ξ = 4i + j. Transformed weights are packed for the
// micro-kernel as [ξ][panel of NR output channels][input channel][NR].
import { NR } from './gemm';
import { fma } from './simd';

/** Output channels per packed weight panel (the micro-kernel's width). */
const PANEL: i32 = NR;
/** Tiles per micro-kernel call (its height). */
const ROWS: i32 = 4;

// ---------------------------------------------------------------------------------------------------------
// Weight transform U = G g Gᵀ
// ---------------------------------------------------------------------------------------------------------

/** Component i of G·(a, b, c): a, (a + b + c)/2, (a − b + c)/2, c. */
@inline
function gRow(i: i32, a: f32, b: f32, c: f32): f32 {
  if (i == 0) return a;
  if (i == 1) return (a + b + c) * 0.5;
  if (i == 2) return (a - b + c) * 0.5;
  return c;
}

/**
 * Packs U = G g Gᵀ for the effective convolution with K input and Nc output channels, where
 * g(k, n) = w[ky][kx][k][n] (flip = false: the forward convolution, K = Cin, Nc = Cout) or
 * g(k, n) = w[2 − ky][2 − kx][n][k] (flip = true: the input gradient, K = Cout, Nc = Cin).
 * up: 16·K·Nc floats, [ξ][Nc/NR][K][NR]. Needs Nc % NR == 0. Parallel dimension: k (grain 1).
 */
export function winogradWeightTransform(
  k0: i32, k1: i32, w: usize, up: usize, Cin: i32, Cout: i32, flip: bool, scratch: usize,
): void {
  const K = flip ? Cout : Cin;
  const Nc = flip ? Cin : Cout;
  const nPanels = Nc / PANEL;
  const t = scratch; // (G g)[i][kx], 4×3 floats
  for (let k = k0; k < k1; k++) {
    for (let n = 0; n < Nc; n++) {
      for (let kx = 0; kx < 3; kx++) {
        const g0 = load<f32>(w + filterIndex(flip, 0, kx, k, n, Cin, Cout));
        const g1 = load<f32>(w + filterIndex(flip, 1, kx, k, n, Cin, Cout));
        const g2 = load<f32>(w + filterIndex(flip, 2, kx, k, n, Cin, Cout));
        for (let i = 0; i < 4; i++) store<f32>(t + (<usize>(i * 3 + kx) << 2), gRow(i, g0, g1, g2));
      }
      for (let i = 0; i < 4; i++) {
        const a = load<f32>(t + (<usize>(i * 3) << 2));
        const b = load<f32>(t + (<usize>(i * 3 + 1) << 2));
        const c = load<f32>(t + (<usize>(i * 3 + 2) << 2));
        for (let j = 0; j < 4; j++) {
          const xi = i * 4 + j;
          const dst = ((xi * nPanels + n / PANEL) * K + k) * PANEL + (n % PANEL);
          store<f32>(up + (<usize>dst << 2), gRow(j, a, b, c));
        }
      }
    }
  }
}

/** Byte offset of the filter tap (ky, kx) linking effective input channel k to effective output channel n. */
@inline
function filterIndex(flip: bool, ky: i32, kx: i32, k: i32, n: i32, Cin: i32, Cout: i32): usize {
  const index = flip ? (((2 - ky) * 3 + (2 - kx)) * Cin + n) * Cout + k : ((ky * 3 + kx) * Cin + k) * Cout + n;
  return <usize>index << 2;
}

// ---------------------------------------------------------------------------------------------------------
// Tile transforms, four channels at a time
// ---------------------------------------------------------------------------------------------------------

/** Pointer to pixel (y, x) of image n, or to the zero row when it lies outside (the padding, or n = −1). */
@inline
function pixel(src: usize, n: i32, y: i32, x: i32, H: i32, W: i32, C: i32, zeroRow: usize): usize {
  if (n < 0 || <u32>y >= <u32>H || <u32>x >= <u32>W) return zeroRow;
  return src + ((<usize>(n * H + y) * W + x) * C) * 4;
}

/** Stores Bᵀ·(d0, d1, d2, d3) = (d0 − d2, d1 + d2, d2 − d1, d1 − d3) at dst, dst + stride, …. */
@inline
function storeBt(d0: v128, d1: v128, d2: v128, d3: v128, dst: usize, stride: usize): void {
  v128.store(dst, f32x4.sub(d0, d2));
  v128.store(dst + stride, f32x4.add(d1, d2));
  v128.store(dst + 2 * stride, f32x4.sub(d2, d1));
  v128.store(dst + 3 * stride, f32x4.sub(d1, d3));
}

/** Stores A·(p, q) = (p, p + q, p − q, −q) at dst, dst + stride, …. */
@inline
function storeA(p: v128, q: v128, dst: usize, stride: usize): void {
  v128.store(dst, p);
  v128.store(dst + stride, f32x4.add(p, q));
  v128.store(dst + 2 * stride, f32x4.sub(p, q));
  v128.store(dst + 3 * stride, f32x4.neg(q));
}

/**
 * V = Bᵀ d B for `count` tiles starting at tile t0 (tiles ≥ T read zeros), all C channels, into vb: the C
 * values of (tile tt, ξ) start at vb + tt·tileStride + ξ·xiStride (bytes). Scratch `ptrs` holds 16 pixel
 * pointers, `tmp` 16 vectors.
 */
function inputTransform(
  src: usize, t0: i32, count: i32, T: i32, TH: i32, TW: i32, H: i32, W: i32, C: i32,
  vb: usize, tileStride: usize, xiStride: usize, zeroRow: usize, ptrs: usize, tmp: usize,
): void {
  const rowBytes = <usize>C << 2;
  for (let tt = 0; tt < count; tt++) {
    const t = t0 + tt;
    const n = t < T ? t / (TH * TW) : -1;
    const ty = (t / TW) % TH;
    const tx = t % TW;
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 4; b++) {
        const p = pixel(src, n, 2 * ty - 1 + a, 2 * tx - 1 + b, H, W, C, zeroRow);
        store<u32>(ptrs + (<usize>(a * 4 + b) << 2), <u32>p);
      }
    }
    const v = vb + <usize>tt * tileStride;
    for (let c: usize = 0; c < rowBytes; c += 16) {
      // Rows: tmp[i][b] = (Bᵀ d)[i][b].
      for (let b = 0; b < 4; b++) {
        const d0 = v128.load(<usize>load<u32>(ptrs + (<usize>b << 2)) + c);
        const d1 = v128.load(<usize>load<u32>(ptrs + (<usize>(4 + b) << 2)) + c);
        const d2 = v128.load(<usize>load<u32>(ptrs + (<usize>(8 + b) << 2)) + c);
        const d3 = v128.load(<usize>load<u32>(ptrs + (<usize>(12 + b) << 2)) + c);
        storeBt(d0, d1, d2, d3, tmp + (<usize>b << 4), 64);
      }
      // Columns: V[i][j] = (tmp B)[i][j], stored at ξ = 4i + j.
      for (let i = 0; i < 4; i++) {
        const r = tmp + (<usize>i << 6);
        storeBt(v128.load(r), v128.load(r, 16), v128.load(r, 32), v128.load(r, 48), v + <usize>(i * 4) * xiStride + c, xiStride);
      }
    }
  }
}

/**
 * Ŷ = A dY Aᵀ (2×2 → 4×4) of the output gradient for `count` tiles from t0 (tiles ≥ tEnd read zeros),
 * into yb with strides as in inputTransform.
 */
function gradientTransform(
  dy: usize, t0: i32, count: i32, tEnd: i32, TH: i32, TW: i32, H: i32, W: i32, C: i32,
  yb: usize, tileStride: usize, xiStride: usize, zeroRow: usize, ptrs: usize, tmp: usize,
): void {
  const rowBytes = <usize>C << 2;
  for (let tt = 0; tt < count; tt++) {
    const t = t0 + tt;
    const n = t < tEnd ? t / (TH * TW) : -1;
    const ty = (t / TW) % TH;
    const tx = t % TW;
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 2; b++) {
        store<u32>(ptrs + (<usize>(a * 2 + b) << 2), <u32>pixel(dy, n, 2 * ty + a, 2 * tx + b, H, W, C, zeroRow));
      }
    }
    const v = yb + <usize>tt * tileStride;
    for (let c: usize = 0; c < rowBytes; c += 16) {
      for (let b = 0; b < 2; b++) {
        const p = v128.load(<usize>load<u32>(ptrs + (<usize>b << 2)) + c);
        const q = v128.load(<usize>load<u32>(ptrs + (<usize>(2 + b) << 2)) + c);
        storeA(p, q, tmp + (<usize>b << 4), 32); // tmp[i][b], 4×2
      }
      for (let i = 0; i < 4; i++) {
        const r = tmp + (<usize>i << 5);
        storeA(v128.load(r), v128.load(r, 16), v + <usize>(i * 4) * xiStride + c, xiStride);
      }
    }
  }
}

/**
 * Y = Aᵀ M A for `count` tiles from t0 (only tiles < T and pixels inside the image are written), from
 * mb[tile][ξ][C] into out (NHWC, C channels), adding to it when accumulate.
 */
function outputTransform(
  mb: usize, t0: i32, count: i32, T: i32, TH: i32, TW: i32, H: i32, W: i32, C: i32,
  out: usize, accumulate: bool, tmp: usize,
): void {
  const rowBytes = <usize>C << 2;
  for (let tt = 0; tt < count; tt++) {
    const t = t0 + tt;
    if (t >= T) return;
    const n = t / (TH * TW);
    const y0 = ((t / TW) % TH) * 2;
    const x0 = (t % TW) * 2;
    const m = mb + <usize>tt * 16 * rowBytes;
    const full = y0 + 1 < H && x0 + 1 < W;
    for (let c: usize = 0; c < rowBytes; c += 16) {
      // Rows: s[r][j] = (Aᵀ M)[r][j].
      for (let j = 0; j < 4; j++) {
        const col = m + <usize>j * rowBytes + c;
        const m0 = v128.load(col);
        const m1 = v128.load(col + 4 * rowBytes);
        const m2 = v128.load(col + 8 * rowBytes);
        const m3 = v128.load(col + 12 * rowBytes);
        v128.store(tmp + (<usize>j << 4), f32x4.add(f32x4.add(m0, m1), m2));
        v128.store(tmp + (<usize>(4 + j) << 4), f32x4.sub(f32x4.sub(m1, m2), m3));
      }
      // Columns: y[r][0] = s[r][0] + s[r][1] + s[r][2], y[r][1] = s[r][1] − s[r][2] − s[r][3].
      for (let r = 0; r < 2; r++) {
        const y = y0 + r;
        if (!full && y >= H) break;
        const s = tmp + (<usize>r << 6);
        const s0 = v128.load(s);
        const s1 = v128.load(s, 16);
        const s2 = v128.load(s, 32);
        const s3 = v128.load(s, 48);
        const p = out + ((<usize>(n * H + y) * W + x0) * C) * 4 + c;
        storeOut(p, f32x4.add(f32x4.add(s0, s1), s2), accumulate);
        if (full || x0 + 1 < W) storeOut(p + rowBytes, f32x4.sub(f32x4.sub(s1, s2), s3), accumulate);
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

/** Tiles per block so that a block's transformed input and output (16·(K + Nc) floats a tile) stay in L2. */
@inline
function tilesPerBlock(K: i32, Nc: i32): i32 {
  const fit = (192 * 1024) / (64 * (K + Nc));
  return max(ROWS, min(64, fit & ~(ROWS - 1)));
}

/**
 * out[N,H,W,Nc] (+)= the 3×3, stride-1, padding-1 convolution of src[N,H,W,K] whose transformed weights
 * `up` came from winogradWeightTransform (K, Nc as there). Needs K % 4 == 0 and Nc % NR == 0.
 * Parallel dimension: tiles (grain ROWS).
 */
export function winogradConv(
  t0: i32, t1: i32, src: usize, up: usize, out: usize,
  N: i32, H: i32, W: i32, K: i32, Nc: i32, accumulate: bool, scratch: usize,
): void {
  const TH = (H + 1) >> 1;
  const TW = (W + 1) >> 1;
  const T = N * TH * TW;
  const tb = tilesPerBlock(K, Nc);
  const nPanels = Nc / PANEL;
  // Scratch: zero row [K] | pointers [16] | tmp [16 vectors] | V block [tb][16][K] | M block [tb][16][Nc].
  const zeroRow = scratch;
  const ptrs = zeroRow + (<usize>K << 2);
  const tmp = ptrs + 64;
  const vb = tmp + 256;
  const mb = vb + <usize>tb * 16 * K * 4;
  memory.fill(zeroRow, 0, <usize>K << 2);
  const aStride = <usize>(16 * K) << 2;
  const cStride = <usize>(16 * Nc) << 2;
  for (let b0 = t0; b0 < t1; b0 += tb) {
    const count = min(tb, t1 - b0);
    const rows = (count + ROWS - 1) & ~(ROWS - 1);
    inputTransform(src, b0, rows, min(T, t1), TH, TW, H, W, K, vb, aStride, <usize>K << 2, zeroRow, ptrs, tmp);
    for (let xi = 0; xi < 16; xi++) {
      for (let p = 0; p < nPanels; p++) {
        const b = up + (<usize>((xi * nPanels + p) * K * PANEL) << 2);
        for (let r = 0; r < rows; r += ROWS) {
          const a = vb + (<usize>(r * 16 + xi) * K << 2);
          const c = mb + (<usize>((r * 16 + xi) * Nc + p * PANEL) << 2);
          multiply4x8(a, a + aStride, a + 2 * aStride, a + 3 * aStride, 4, b, PANEL * 4, K, c, cStride, false);
        }
      }
    }
    outputTransform(mb, b0, count, T, TH, TW, H, W, Nc, out, accumulate, tmp);
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

/** Tiles per weight-gradient block: its transformed input and gradient, 16·(Cin + Cout) floats a tile, in L2. */
@inline
function gradTilesPerBlock(Cin: i32, Cout: i32): i32 {
  return max(16, min(256, (768 * 1024) / (64 * (Cin + Cout))));
}

/**
 * Partial sums S_c[ξ][ci][co] = Σ_{tiles of chunk c} V[ξ][ci] · Ŷ[ξ][co] for chunk c of `chunks` equal tile
 * ranges, into partials + c·16·Cin·Cout floats. x[N,H,W,Cin], dy[N,H,W,Cout]; needs Cin % 4 == 0 and
 * Cout % 8 == 0. Parallel dimension: chunks (grain 1); winogradWeightGradFinish sums and transforms them.
 * Blocks are [ξ][tile][C] here, so that the reduction over tiles walks contiguous rows.
 */
export function winogradWeightGradPartial(
  c0: i32, c1: i32, x: usize, dy: usize, partials: usize, chunks: i32,
  N: i32, H: i32, W: i32, Cin: i32, Cout: i32, scratch: usize,
): void {
  const TH = (H + 1) >> 1;
  const TW = (W + 1) >> 1;
  const T = N * TH * TW;
  const tb = gradTilesPerBlock(Cin, Cout);
  const zeroCount = max(Cin, Cout);
  const vRow = <usize>Cin << 2;
  const yRow = <usize>Cout << 2;
  // Scratch: zero row | pointers [16] | tmp [16 vectors] | V block [16][tb][Cin] | Ŷ block [16][tb][Cout].
  const zeroRow = scratch;
  const ptrs = zeroRow + (<usize>zeroCount << 2);
  const tmp = ptrs + 64;
  const vb = tmp + 256;
  const yb = vb + <usize>(16 * tb) * vRow;
  memory.fill(zeroRow, 0, <usize>zeroCount << 2);
  const per = (T + chunks - 1) / chunks;
  for (let chunk = c0; chunk < c1; chunk++) {
    const s = partials + <usize>chunk * 16 * Cin * Cout * 4;
    memory.fill(s, 0, <usize>(16 * Cin * Cout) << 2);
    const tEnd = min(T, (chunk + 1) * per);
    for (let b0 = chunk * per; b0 < tEnd; b0 += tb) {
      const count = min(tb, tEnd - b0);
      inputTransform(x, b0, count, tEnd, TH, TW, H, W, Cin, vb, vRow, <usize>tb * vRow, zeroRow, ptrs, tmp);
      gradientTransform(dy, b0, count, tEnd, TH, TW, H, W, Cout, yb, yRow, <usize>tb * yRow, zeroRow, ptrs, tmp);
      for (let xi = 0; xi < 16; xi++) {
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
 * dw[3][3][Cin][Cout] (+)= Gᵀ (Σ_c S_c) G from winogradWeightGradPartial's `chunks` partial sums.
 * Gᵀ·(s0, s1, s2, s3) = (s0 + (s1 + s2)/2, (s1 − s2)/2, (s1 + s2)/2 + s3). Needs Cout % 4 == 0.
 * Parallel dimension: input channels ci (grain 1).
 */
export function winogradWeightGradFinish(
  ci0: i32, ci1: i32, partials: usize, chunks: i32, dw: usize, Cin: i32, Cout: i32, accumulate: bool,
  scratch: usize,
): void {
  const half = f32x4.splat(0.5);
  const chunkBytes = <usize>(16 * Cin * Cout) << 2;
  const xiBytes = <usize>(Cin * Cout) << 2;
  const s = scratch; // 16 summed vectors, then r[ky][j] (3×4)
  const r = s + 256;
  for (let ci = ci0; ci < ci1; ci++) {
    for (let co = 0; co < Cout; co += 4) {
      const base = partials + (<usize>(ci * Cout + co) << 2);
      for (let xi = 0; xi < 16; xi++) {
        let sum = f32x4.splat(0);
        for (let c = 0; c < chunks; c++) sum = f32x4.add(sum, v128.load(base + <usize>c * chunkBytes + <usize>xi * xiBytes));
        v128.store(s + (<usize>xi << 4), sum);
      }
      // r = Gᵀ S (over i, for each column j).
      for (let j = 0; j < 4; j++) {
        const s0 = v128.load(s + (<usize>j << 4));
        const s1 = v128.load(s + (<usize>(4 + j) << 4));
        const s2 = v128.load(s + (<usize>(8 + j) << 4));
        const s3 = v128.load(s + (<usize>(12 + j) << 4));
        const sum12 = f32x4.mul(f32x4.add(s1, s2), half);
        v128.store(r + (<usize>j << 4), f32x4.add(s0, sum12));
        v128.store(r + (<usize>(4 + j) << 4), f32x4.mul(f32x4.sub(s1, s2), half));
        v128.store(r + (<usize>(8 + j) << 4), f32x4.add(sum12, s3));
      }
      // dW[ky][kx] = (r G)[ky][kx].
      for (let ky = 0; ky < 3; ky++) {
        const q = r + (<usize>(ky * 4) << 4);
        const r0 = v128.load(q);
        const r1 = v128.load(q, 16);
        const r2 = v128.load(q, 32);
        const r3 = v128.load(q, 48);
        const sum12 = f32x4.mul(f32x4.add(r1, r2), half);
        const row = dw + (<usize>((ky * 3) * Cin + ci) * Cout + co) * 4;
        const tap = <usize>(Cin * Cout) << 2;
        storeOut(row, f32x4.add(r0, sum12), accumulate);
        storeOut(row + tap, f32x4.mul(f32x4.sub(r1, r2), half), accumulate);
        storeOut(row + 2 * tap, f32x4.add(sum12, r3), accumulate);
      }
    }
  }
}
