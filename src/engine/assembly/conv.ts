// 2-D convolution on NHWC tensors as implicit GEMM: the patch matrix (im2col) is never materialised; the
// micro-kernels read rows of the image through tables of row pointers (forward, input gradient) or read the
// image and dy directly (weight gradient), with the register blocking of gemm (gemm.ts). Weights are stored
// [kh][kw][Cin][Cout], i.e. as the K×Cout matrix of the GEMM with k = (ky·kw + kx)·Cin + ci.
//
//   forward          out[p, co]  = Σ_k patch(p)[k] · W[k, co]                 M = N·Ho·Wo, K = kh·kw·Cin
//   input gradient   dx[q, ci]   = Σ_(tap,co) dy[src(q,tap), co] · W[tap, ci, co]   M = N·H·W, K = kh·kw·Cout
//   weight gradient  dW[k, co]   = Σ_p patch(p)[k] · dy[p, co]                 M = kh·kw·Cin, reduction over p
//
// where the input gradient gathers, for input pixel q = (n, iy, ix) and tap (ky, kx), the output pixel
// (oy, ox) = ((iy + pad − ky)/stride, (ix + pad − kx)/stride) when both divisions are exact and in range.
import { MR, NR, packB } from './gemm';
import { fma } from './simd';

// Row pointer of the source for a pixel whose coordinates were decoded once (n, by, bx) and tap (ky, kx),
// or 0 when the tap falls in the padding.
// gatherMode 0 (forward): (by, bx) = (oy·s − pad, ox·s − pad); reads input row (by + ky, bx + kx).
// gatherMode 1 (input gradient): (by, bx) = (iy + pad, ix + pad); reads output-gradient row
// ((by − ky)/s, (bx − kx)/s) when both divisions are exact.
@inline
function tapRow(
  gatherMode: i32, n: i32, by: i32, bx: i32, ky: i32, kx: i32, src: usize,
  srcH: i32, srcW: i32, channels: i32, stride: i32,
): usize {
  if (n < 0) return 0;
  let sy: i32, sx: i32;
  if (gatherMode == 0) {
    sy = by + ky;
    sx = bx + kx;
  } else {
    sy = by - ky;
    sx = bx - kx;
    if (stride != 1) {
      if (sy < 0 || sx < 0 || sy % stride != 0 || sx % stride != 0) return 0;
      sy /= stride;
      sx /= stride;
    }
  }
  if (<u32>sy >= <u32>srcH || <u32>sx >= <u32>srcW) return 0;
  return src + ((<usize>(n * srcH + sy) * srcW + sx) * channels) * 4;
}

// Decodes pixel index `pix` of a pixH×pixW grid into (n, by, bx) for tapRow; n = −1 marks a missing row.
@inline
function decodeN(pix: i32, m1: i32, pixH: i32, pixW: i32): i32 {
  return pix < m1 ? pix / (pixH * pixW) : -1;
}
@inline
function decodeBy(gatherMode: i32, pix: i32, pixH: i32, pixW: i32, stride: i32, pad: i32): i32 {
  const y = (pix / pixW) % pixH;
  return gatherMode == 0 ? y * stride - pad : y + pad;
}
@inline
function decodeBx(gatherMode: i32, pix: i32, pixW: i32, stride: i32, pad: i32): i32 {
  const x = columnOf(gatherMode, pix, pixW, stride);
  return gatherMode == 0 ? x * stride - pad : x + pad;
}
// The column of pixel `pix`. For the input gradient of a stride-2 convolution, each row's pixels are enumerated
// even columns first, then odd ones: a block of MR consecutive pixels then shares its column parity, and with it
// the taps that reach it, so the taps that reach none of them are skipped whole (consecutive columns would make
// every tap reach half of the block: twice the multiplies, half of them by zero rows).
@inline
function columnOf(gatherMode: i32, pix: i32, pixW: i32, stride: i32): i32 {
  const j = pix % pixW;
  if (gatherMode == 0 || stride != 2) return j;
  const evens = (pixW + 1) >> 1;
  return j < evens ? j << 1 : ((j - evens) << 1) + 1;
}

// Shared driver of the two gathering convolutions (forward, input gradient), by the indirect convolution
// algorithm (Dukhan 2019, arXiv:1907.02129v1): no patch matrix is packed at all. For each block of MR result
// pixels, a table of MR·taps row pointers (into the source image, or into a zero row for padding) is built
// once; the micro-kernel then walks, tap by tap, MR contiguous channel runs, broadcasting each value
// against the packed weight panel. The accumulators start from the bias (bias = 0: none), so that adding it
// costs no pass over the output. Parallel dimension: result pixels (grain MR).
function convIndirectDriver(
  gatherMode: i32, m0: i32, m1: i32, nCols: i32,
  src: usize, srcH: i32, srcW: i32, pixH: i32, pixW: i32, channels: i32, kh: i32, kw: i32, stride: i32, pad: i32,
  w: usize, wCin: i32, wCout: i32, out: usize, accumulate: bool, bias: usize, scratch: usize,
): void {
  const taps = kh * kw;
  const kTotal = taps * channels;
  const nPanels = (nCols + NR - 1) / NR;
  // Scratch: packed weights [panel][kTotal][NR] | zero row [channels] | pointer table [taps][MR] | tile |
  // bias zero-padded to whole panels | result row pointers [MR].
  const packedB = scratch;
  const zeroRow = packedB + <usize>(nPanels * kTotal * NR) * 4;
  const table = zeroRow + <usize>((channels + 3) & ~3) * 4;
  const tile = table + <usize>(taps * MR) * 4;
  const biasPadded = tile + <usize>(MR * NR) * 4;
  const rowPtrs = biasPadded + <usize>(nPanels * NR) * 4; // result row of each of the MR pixels
  memory.fill(zeroRow, 0, <usize>channels * 4);
  memory.fill(biasPadded, 0, <usize>(nPanels * NR) * 4);
  if (bias != 0) memory.copy(biasPadded, bias, <usize>nCols * 4);
  if (gatherMode == 0) {
    packB(w, wCout, false, 0, kTotal, nCols, packedB, kTotal * NR, 0);
  } else {
    // B[(tap, co)][ci] = W[tap][ci][co]: per tap, the transposed Cin×Cout slice.
    for (let tap = 0; tap < taps; tap++) {
      packB(w + <usize>tap * wCin * wCout * 4, wCout, true, 0, wCout, nCols, packedB, kTotal * NR, tap * wCout);
    }
  }
  const ldc = <usize>nCols << 2;
  for (let i = m0; i < m1; i += MR) {
    const h = min(MR, m1 - i);
    // Pointer table: for each tap, the MR source rows (zero row where the tap falls outside the image).
    for (let r = 0; r < MR; r++) {
      const pix = i + r;
      const n = decodeN(pix, m1, pixH, pixW);
      const by = decodeBy(gatherMode, pix, pixH, pixW, stride, pad);
      const bx = decodeBx(gatherMode, pix, pixW, stride, pad);
      const resultPix = pix - pix % pixW + columnOf(gatherMode, pix, pixW, stride);
      store<u32>(rowPtrs + (<usize>r << 2), <u32>(out + <usize>resultPix * ldc));
      for (let tap = 0; tap < taps; tap++) {
        const row = tapRow(gatherMode, n, by, bx, tap / kw, tap % kw, src, srcH, srcW, channels, stride);
        store<u32>(table + (<usize>(tap * MR + r) << 2), row ? <u32>row : <u32>zeroRow);
      }
    }
    for (let p = 0; p < nPanels; p++) {
      const j0 = p * NR;
      const w8 = min(NR, nCols - j0);
      let b = packedB + <usize>(p * kTotal * NR) * 4;
      let c00 = v128.load(biasPadded + (<usize>j0 << 2)), c01 = v128.load(biasPadded + (<usize>j0 << 2), 16);
      let c10 = c00, c11 = c01;
      let c20 = c00, c21 = c01;
      let c30 = c00, c31 = c01;
      for (let tap = 0; tap < taps; tap++) {
        const t = table + (<usize>(tap * MR) << 2);
        let a0 = <usize>load<u32>(t), a1 = <usize>load<u32>(t, 4);
        let a2 = <usize>load<u32>(t, 8), a3 = <usize>load<u32>(t, 12);
        if (a0 == zeroRow && a1 == zeroRow && a2 == zeroRow && a3 == zeroRow) {
          // No row reaches this tap (padding; or, for a strided input gradient, the wrong parity).
          b += <usize>channels * NR * 4;
          continue;
        }
        for (let c = 0; c < channels; c++) {
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
          a0 += 4;
          a1 += 4;
          a2 += 4;
          a3 += 4;
          b += 32;
        }
      }
      const col = <usize>j0 << 2;
      if (h == MR && w8 == NR) {
        storeRow(<usize>load<u32>(rowPtrs) + col, accumulate, c00, c01);
        storeRow(<usize>load<u32>(rowPtrs, 4) + col, accumulate, c10, c11);
        storeRow(<usize>load<u32>(rowPtrs, 8) + col, accumulate, c20, c21);
        storeRow(<usize>load<u32>(rowPtrs, 12) + col, accumulate, c30, c31);
      } else {
        storeRow(tile, false, c00, c01);
        storeRow(tile + 32, false, c10, c11);
        storeRow(tile + 64, false, c20, c21);
        storeRow(tile + 96, false, c30, c31);
        for (let r = 0; r < h; r++) {
          for (let j = 0; j < w8; j++) {
            const dst = <usize>load<u32>(rowPtrs + (<usize>r << 2)) + col + (<usize>j << 2);
            const v = load<f32>(tile + (<usize>(r * NR + j) << 2));
            store<f32>(dst, accumulate ? load<f32>(dst) + v : v);
          }
        }
      }
    }
  }
}

/** Stores (or adds) the 8 floats of one result row of a tile. */
@inline
function storeRow(c: usize, acc: bool, v0: v128, v1: v128): void {
  if (acc) {
    v0 = f32x4.add(v0, v128.load(c));
    v1 = f32x4.add(v1, v128.load(c, 16));
  }
  v128.store(c, v0);
  v128.store(c, v1, 16);
}

/**
 * out[N,Ho,Wo,Cout] (+)= conv2d(x[N,H,W,Cin], w[kh,kw,Cin,Cout]) + bias[Cout] with the given stride and zero
 * padding (bias = 0: none). Parallel dimension: output pixels n·Ho·Wo + oy·Wo + ox (grain MR).
 */
export function conv2dForward(
  p0: i32, p1: i32, x: usize, w: usize, out: usize,
  H: i32, W: i32, Cin: i32, Ho: i32, Wo: i32, Cout: i32, kh: i32, kw: i32, stride: i32, pad: i32,
  accumulate: bool, bias: usize, scratch: usize,
): void {
  convIndirectDriver(0, p0, p1, Cout, x, H, W, Ho, Wo, Cin, kh, kw, stride, pad, w, Cin, Cout, out, accumulate, bias, scratch);
}

/**
 * dx[N,H,W,Cin] (+)= the gradient of conv2dForward with respect to x, given dy[N,Ho,Wo,Cout].
 * Parallel dimension: input pixels n·H·W + iy·W + ix (grain MR).
 */
export function conv2dBackwardInput(
  q0: i32, q1: i32, dy: usize, w: usize, dx: usize,
  H: i32, W: i32, Cin: i32, Ho: i32, Wo: i32, Cout: i32, kh: i32, kw: i32, stride: i32, pad: i32,
  accumulate: bool, scratch: usize,
): void {
  convIndirectDriver(1, q0, q1, Cin, dy, Ho, Wo, H, W, Cout, kh, kw, stride, pad, w, Cin, Cout, dx, accumulate, 0, scratch);
}

/**
 * dW = Σ_p patch(p)ᵀ dy[p], computed as its transpose dWᵀ[co][k] = Σ_p dy[p][co] · patch(p)[k] so that neither
 * operand needs packing: for a tile of 4 output channels × 8 consecutive input channels of one tap, each pixel
 * contributes 4 broadcasts of dy[p][co..co+3] against two vectors read straight from the input row (or a zero
 * row in the padding). Pixels go in blocks whose row-pointer table (per tap) is built once per block.
 * Any channel counts: a tile at the end of the channels (Cin % 8 ≠ 0 or Cout % 4 ≠ 0) reads past the channels
 * it owns (into the next pixel's values, or the scratch after the zero row); conv2dBackwardWeightDirectFinish
 * discards those lanes and rows.
 *
 * Parallel dimension: `parts` equal pixel ranges (grain 1). Part c sums its pixels into its own tiles
 * partials + c·tiles·128 bytes, tile index (tap·⌈Cin/8⌉ + ci/8)·⌈Cout/4⌉ + co/4, each [4][8] = dWᵀ[co + r][ci + j].
 * Splitting pixels rather than tiles reads the image and dy once in all instead of once per thread (the
 * kernel is memory-bound when split by tiles), and a fixed `parts` keeps the result independent of the threads.
 */
export function conv2dBackwardWeightDirect(
  c0: i32, c1: i32, x: usize, dy: usize, partials: usize, parts: i32, nPix: i32,
  H: i32, W: i32, Cin: i32, Ho: i32, Wo: i32, Cout: i32, kh: i32, kw: i32, stride: i32, pad: i32,
  scratch: usize,
): void {
  const taps = kh * kw;
  const coTiles = (Cout + 3) >> 2;
  const ciTiles = (Cin + 7) >> 3;
  const tiles = taps * ciTiles * coTiles;
  const PB: i32 = 256;
  // Scratch: zero row (padded to whole tiles) | pointer table [taps][PB].
  const zeroRow = scratch;
  const table = zeroRow + <usize>(ciTiles * 8) * 4;
  memory.fill(zeroRow, 0, <usize>(ciTiles * 8) * 4);
  const dyRow = <usize>Cout << 2;
  const per = (nPix + parts - 1) / parts;
  for (let part = c0; part < c1; part++) {
    const partial = partials + <usize>part * tiles * 128;
    memory.fill(partial, 0, <usize>tiles * 128);
    const pEnd = min(nPix, (part + 1) * per);
    for (let p0 = part * per; p0 < pEnd; p0 += PB) {
      const pc = min(PB, pEnd - p0);
      for (let q = 0; q < pc; q++) {
        const pix = p0 + q;
        const n = decodeN(pix, nPix, Ho, Wo);
        const by = decodeBy(0, pix, Ho, Wo, stride, pad);
        const bx = decodeBx(0, pix, Wo, stride, pad);
        for (let tap = 0; tap < taps; tap++) {
          const row = tapRow(0, n, by, bx, tap / kw, tap % kw, x, H, W, Cin, stride);
          store<u32>(table + (<usize>(tap * PB + q) << 2), row ? <u32>row : <u32>zeroRow);
        }
      }
      for (let tile = 0; tile < tiles; tile++) {
        const kPanel = tile / coTiles;
        const co = (tile % coTiles) << 2;
        const tap = kPanel / ciTiles;
        const ci = <usize>((kPanel % ciTiles) << 3) << 2;
        const acc = partial + (<usize>tile << 7);
        let a00 = v128.load(acc), a01 = v128.load(acc, 16);
        let a10 = v128.load(acc, 32), a11 = v128.load(acc, 48);
        let a20 = v128.load(acc, 64), a21 = v128.load(acc, 80);
        let a30 = v128.load(acc, 96), a31 = v128.load(acc, 112);
        let tp = table + (<usize>(tap * PB) << 2);
        let g = dy + <usize>p0 * dyRow + (<usize>co << 2);
        for (let q = 0; q < pc; q++) {
          const r = <usize>load<u32>(tp) + ci;
          const b0 = v128.load(r);
          const b1 = v128.load(r, 16);
          let s = v128.load32_splat(g);
          a00 = fma(s, b0, a00);
          a01 = fma(s, b1, a01);
          s = v128.load32_splat(g, 4);
          a10 = fma(s, b0, a10);
          a11 = fma(s, b1, a11);
          s = v128.load32_splat(g, 8);
          a20 = fma(s, b0, a20);
          a21 = fma(s, b1, a21);
          s = v128.load32_splat(g, 12);
          a30 = fma(s, b0, a30);
          a31 = fma(s, b1, a31);
          tp += 4;
          g += dyRow;
        }
        v128.store(acc, a00);
        v128.store(acc, a01, 16);
        v128.store(acc, a10, 32);
        v128.store(acc, a11, 48);
        v128.store(acc, a20, 64);
        v128.store(acc, a21, 80);
        v128.store(acc, a30, 96);
        v128.store(acc, a31, 112);
      }
    }
  }
}

/**
 * dW[tap][ci + j][co + r] (+)= Σ_c partial_c[tile][r][j], summed over conv2dBackwardWeightDirect's `parts` in a
 * fixed order, for the channels each tile owns. Parallel dimension: tiles (grain 1).
 */
export function conv2dBackwardWeightDirectFinish(
  t0: i32, t1: i32, partials: usize, parts: i32, dw: usize, Cin: i32, Cout: i32, kh: i32, kw: i32,
  accumulate: bool, scratch: usize,
): void {
  const coTiles = (Cout + 3) >> 2;
  const ciTiles = (Cin + 7) >> 3;
  const partBytes = <usize>(kh * kw * ciTiles * coTiles) << 7;
  const sum = scratch; // [4][8] summed over the parts
  for (let tile = t0; tile < t1; tile++) {
    const kPanel = tile / coTiles;
    const co = (tile % coTiles) << 2;
    const tap = kPanel / ciTiles;
    const ci = (kPanel % ciTiles) << 3;
    const src = partials + (<usize>tile << 7);
    for (let v: usize = 0; v < 128; v += 16) {
      let a = v128.load(src + v);
      for (let c = 1; c < parts; c++) a = f32x4.add(a, v128.load(src + <usize>c * partBytes + v));
      v128.store(sum + v, a);
    }
    const rows = min(4, Cout - co);
    const cols = min(8, Cin - ci);
    for (let j = 0; j < cols; j++) {
      const dst = dw + (<usize>(tap * Cin + ci + j) * Cout + co) * 4;
      for (let r = 0; r < rows; r++) {
        const val = load<f32>(sum + (<usize>(r * 8 + j) << 2));
        store<f32>(dst + (<usize>r << 2), accumulate ? load<f32>(dst + (<usize>r << 2)) + val : val);
      }
    }
  }
}
