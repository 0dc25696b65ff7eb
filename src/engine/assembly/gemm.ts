// General matrix multiply C (+)= op(A) · op(B) for float32, row-major, register-blocked on packed panels.
//
// The loop nest follows BLIS (Van Zee & van de Geijn 2015, "BLIS: A Framework for Rapidly Instantiating
// BLAS Functionality", ACM TOMS 41(3)): for each block of KC reduction indices, B is packed into NR-column
// panels laid out k-major ([kc][NR]); for each block of MC rows, A is packed into MR-row micro-panels laid
// out k-major ([kc][MR]); the micro-kernel keeps an MR×NR tile of C in registers and, per k, broadcasts
// MR values of A (v128.load32_splat) against NR/4 vectors of B. Transposed operands are handled only by
// the packing routines, never in the inner loop. Packing pads partial panels with zeros, so the
// micro-kernel has no edge cases; partial tiles of C are written through a small scratch tile.
// The convolution kernels (conv.ts) reuse the micro-kernel and the B packing with their own A packing.
import { fma } from './simd';

export const MR: i32 = 4;
export const NR: i32 = 8;
/** Reduction block: A and B panels of KC·(MR or NR) floats stay in L1/L2. */
export const KC: i32 = 512;
/** Row block: an MC×KC block of packed A (128 KiB) stays in L2 while every B panel passes over it. */
export const MC: i32 = 64;

/** 4×4 transpose of four row vectors. */
@inline
export function transpose4(
  r0: v128, r1: v128, r2: v128, r3: v128, dst: usize,
): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
  v128.store(dst, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 32);
  v128.store(dst, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 48);
}

// Micro-kernel: tile[MR][NR] = Σ_k a[k][0..MR) ⊗ b[k][0..NR), written to c (row stride ldc floats);
// added to c when acc is true.
@inline
export function micro4x8(kc: i32, a: usize, b: usize, c: usize, ldc: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let a0 = v128.load32_splat(a);
    c00 = fma(a0, b0, c00);
    c01 = fma(a0, b1, c01);
    a0 = v128.load32_splat(a, 4);
    c10 = fma(a0, b0, c10);
    c11 = fma(a0, b1, c11);
    a0 = v128.load32_splat(a, 8);
    c20 = fma(a0, b0, c20);
    c21 = fma(a0, b1, c21);
    a0 = v128.load32_splat(a, 12);
    c30 = fma(a0, b0, c30);
    c31 = fma(a0, b1, c31);
    a += 16;
    b += 32;
  }
  const s = ldc << 2;
  if (acc) {
    v128.store(c, f32x4.add(v128.load(c), c00));
    v128.store(c, f32x4.add(v128.load(c, 16), c01), 16);
    c += s;
    v128.store(c, f32x4.add(v128.load(c), c10));
    v128.store(c, f32x4.add(v128.load(c, 16), c11), 16);
    c += s;
    v128.store(c, f32x4.add(v128.load(c), c20));
    v128.store(c, f32x4.add(v128.load(c, 16), c21), 16);
    c += s;
    v128.store(c, f32x4.add(v128.load(c), c30));
    v128.store(c, f32x4.add(v128.load(c, 16), c31), 16);
  } else {
    v128.store(c, c00);
    v128.store(c, c01, 16);
    c += s;
    v128.store(c, c10);
    v128.store(c, c11, 16);
    c += s;
    v128.store(c, c20);
    v128.store(c, c21, 16);
    c += s;
    v128.store(c, c30);
    v128.store(c, c31, 16);
  }
}

/**
 * Packs B[k0..k0+kc)[0..n) into NR-column panels: panel p occupies [panelStride] floats from
 * dst + p·panelStride·4, and this block of rows goes at row offset kOffset within it ([kc][NR], zero-padded).
 * transB: B is stored [n][ldb].
 */
export function packB(
  b: usize, ldb: i32, transB: bool, k0: i32, kc: i32, n: i32, dst: usize, panelStride: i32, kOffset: i32,
): void {
  const nPanels = (n + NR - 1) / NR;
  for (let p = 0; p < nPanels; p++) {
    const j0 = p * NR;
    const w = min(NR, n - j0);
    let d = dst + (<usize>p * panelStride + <usize>kOffset * NR) * 4;
    if (!transB && w == NR) {
      let src = b + (<usize>k0 * ldb + j0) * 4;
      for (let k = 0; k < kc; k++) {
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        src += <usize>ldb << 2;
        d += NR << 2;
      }
    } else if (transB && w == NR && (kc & 3) == 0) {
      // 8 stored rows (= output columns) × 4 reduction indices at a time, transposed in registers.
      const src = b + (<usize>j0 * ldb + k0) * 4;
      const stride = <usize>ldb << 2;
      for (let k = 0; k < kc; k += 4) {
        const s = src + (<usize>k << 2);
        // Columns 0..3 of the panel, then 4..7, interleaved row by row ([k][8]).
        const lo0 = v128.load(s), lo1 = v128.load(s + stride), lo2 = v128.load(s + 2 * stride), lo3 = v128.load(s + 3 * stride);
        const hi0 = v128.load(s + 4 * stride), hi1 = v128.load(s + 5 * stride);
        const hi2 = v128.load(s + 6 * stride), hi3 = v128.load(s + 7 * stride);
        const t0 = v128.shuffle<f32>(lo0, lo1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(lo0, lo1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(lo2, lo3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(lo2, lo3, 2, 6, 3, 7);
        const u0 = v128.shuffle<f32>(hi0, hi1, 0, 4, 1, 5), u1 = v128.shuffle<f32>(hi0, hi1, 2, 6, 3, 7);
        const u2 = v128.shuffle<f32>(hi2, hi3, 0, 4, 1, 5), u3 = v128.shuffle<f32>(hi2, hi3, 2, 6, 3, 7);
        v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<f32>(u0, u2, 0, 1, 4, 5), 16);
        v128.store(d, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
        v128.store(d, v128.shuffle<f32>(u0, u2, 2, 3, 6, 7), 48);
        v128.store(d, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64);
        v128.store(d, v128.shuffle<f32>(u1, u3, 0, 1, 4, 5), 80);
        v128.store(d, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
        v128.store(d, v128.shuffle<f32>(u1, u3, 2, 3, 6, 7), 112);
        d += 128;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let j = 0; j < NR; j++) {
          let v: f32 = 0;
          if (j < w) {
            v = transB
              ? load<f32>(b + (<usize>(j0 + j) * ldb + k0 + k) * 4)
              : load<f32>(b + (<usize>(k0 + k) * ldb + j0 + j) * 4);
          }
          store<f32>(d + (<usize>j << 2), v);
        }
        d += NR << 2;
      }
    }
  }
}

// Packs rows [i0, i0+MR) of op(A) (only rows < m1 exist), reduction indices [k0, k0+kc), into [kc][MR].
// transA: A is stored [k][lda] (column i of the stored matrix is row i of op(A)).
function packAPanel(a: usize, lda: i32, transA: bool, i0: i32, m1: i32, k0: i32, kc: i32, dst: usize): void {
  const h = min(MR, m1 - i0);
  if (transA && h == MR) {
    let src = a + (<usize>k0 * lda + i0) * 4;
    for (let k = 0; k < kc; k++) {
      v128.store(dst, v128.load(src));
      src += <usize>lda << 2;
      dst += MR << 2;
    }
    return;
  }
  if (!transA && h == MR) {
    const row = <usize>lda << 2;
    let src = a + (<usize>i0 * lda + k0) * 4;
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      transpose4(v128.load(src), v128.load(src + row), v128.load(src + 2 * row), v128.load(src + 3 * row), dst);
      src += 16;
      dst += 64;
    }
    for (; k < kc; k++) {
      store<f32>(dst, load<f32>(src));
      store<f32>(dst, load<f32>(src + row), 4);
      store<f32>(dst, load<f32>(src + 2 * row), 8);
      store<f32>(dst, load<f32>(src + 3 * row), 12);
      src += 4;
      dst += 16;
    }
    return;
  }
  for (let r = 0; r < MR; r++) {
    let d = dst + (<usize>r << 2);
    for (let k = 0; k < kc; k++) {
      let v: f32 = 0;
      if (r < h) {
        v = transA
          ? load<f32>(a + (<usize>(k0 + k) * lda + i0 + r) * 4)
          : load<f32>(a + (<usize>(i0 + r) * lda + k0 + k) * 4);
      }
      store<f32>(d, v);
      d += MR << 2;
    }
  }
}

/**
 * Runs the micro-kernel over a packed block: rows [i0, i1) of C (their MR-row panels packed at packedA,
 * [panel][kc][MR]), all n columns (panels at packedB, stride panelStride floats). Partial tiles go
 * through `tile` (MR·NR floats).
 */
export function multiplyPacked(
  packedA: usize, i0: i32, i1: i32, packedB: usize, panelStride: i32, kc: i32, n: i32,
  c: usize, ldc: i32, acc: bool, tile: usize,
): void {
  const nPanels = (n + NR - 1) / NR;
  for (let p = 0; p < nPanels; p++) {
    const j0 = p * NR;
    const w = min(NR, n - j0);
    const bp = packedB + <usize>p * panelStride * 4;
    let ap = packedA;
    for (let i = i0; i < i1; i += MR) {
      const h = min(MR, i1 - i);
      const cp = c + (<usize>i * ldc + j0) * 4;
      if (h == MR && w == NR) {
        micro4x8(kc, ap, bp, cp, ldc, acc);
      } else {
        micro4x8(kc, ap, bp, tile, NR, false);
        for (let r = 0; r < h; r++) {
          for (let j = 0; j < w; j++) {
            const dst = cp + (<usize>r * ldc + j) * 4;
            const v = load<f32>(tile + (<usize>(r * NR + j) << 2));
            store<f32>(dst, acc ? load<f32>(dst) + v : v);
          }
        }
      }
      ap += <usize>kc * MR * 4;
    }
  }
}

/** Floats of packed B for n columns and kc reduction indices. */
@inline
export function packedBFloats(kc: i32, n: i32): i32 {
  return kc * NR * ((n + NR - 1) / NR);
}

/**
 * C[m0..m1)[0..n) (+)= op(A)[m0..m1)[0..k) · op(B)[0..k)[0..n); op(A) is m×k, op(B) is k×n.
 * Row strides lda, ldb, ldc are in floats (of the stored matrices). Parallel dimension: rows of C.
 * Needs (KC·NR·⌈n/NR⌉ + MC·KC + MR·NR)·4 bytes of scratch (≤ 8 MiB for n ≤ 3800).
 */
export function gemm(
  m0: i32, m1: i32, n: i32, k: i32,
  a: usize, lda: i32, transA: bool,
  b: usize, ldb: i32, transB: bool,
  c: usize, ldc: i32, accumulate: bool,
  scratch: usize,
): void {
  const packedB = scratch;
  const packedA = packedB + <usize>packedBFloats(KC, n) * 4;
  const tile = packedA + <usize>(MC * KC) * 4;
  if (k == 0) {
    if (!accumulate) for (let i = m0; i < m1; i++) memory.fill(c + <usize>i * ldc * 4, 0, <usize>n * 4);
    return;
  }
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = min(KC, k - k0);
    const acc = accumulate || k0 > 0;
    packB(b, ldb, transB, k0, kc, n, packedB, kc * NR, 0);
    for (let ib = m0; ib < m1; ib += MC) {
      const ie = min(m1, ib + MC);
      let ap = packedA;
      for (let i = ib; i < ie; i += MR) {
        packAPanel(a, lda, transA, i, ie, k0, kc, ap);
        ap += <usize>kc * MR * 4;
      }
      multiplyPacked(packedA, ib, ie, packedB, kc * NR, kc, n, c, ldc, acc, tile);
    }
  }
}

/**
 * Batched gemm: for each batch index b in [b0, b1): C_b (+)= op(A_b) · op(B_b), with A_b = a + b·strideA
 * floats, etc. Parallel dimension: batch (each thread multiplies whole matrices).
 */
export function gemmBatched(
  b0: i32, b1: i32, m: i32, n: i32, k: i32,
  a: usize, lda: i32, transA: bool, strideA: i32,
  b: usize, ldb: i32, transB: bool, strideB: i32,
  c: usize, ldc: i32, accumulate: bool, strideC: i32,
  scratch: usize,
): void {
  for (let i = b0; i < b1; i++) {
    gemm(
      0, m, n, k,
      a + <usize>i * strideA * 4, lda, transA,
      b + <usize>i * strideB * 4, ldb, transB,
      c + <usize>i * strideC * 4, ldc, accumulate,
      scratch,
    );
  }
}
