// 2-D convolution on NHWC tensors as implicit GEMM: the patch matrix (im2col) is never materialised;
// its MR-row micro-panels are packed straight from the image, block by block, and fed to the same
// register-blocked micro-kernel as gemm (gemm.ts). Weights are stored [kh][kw][Cin][Cout], i.e. as the
// K×Cout matrix of the GEMM with k = (ky·kw + kx)·Cin + ci.
//
//   forward          out[p, co]  = Σ_k patch(p)[k] · W[k, co]                 M = N·Ho·Wo, K = kh·kw·Cin
//   input gradient   dx[q, ci]   = Σ_(tap,co) dy[src(q,tap), co] · W[tap, ci, co]   M = N·H·W, K = kh·kw·Cout
//   weight gradient  dW[k, co]   = Σ_p patch(p)[k] · dy[p, co]                 M = kh·kw·Cin, reduction over p
//
// where the input gradient gathers, for input pixel q = (n, iy, ix) and tap (ky, kx), the output pixel
// (oy, ox) = ((iy + pad − ky)/stride, (ix + pad − kx)/stride) when both divisions are exact and in range.
import { KC, MC, MR, NR, multiplyPacked, packB, packedBFloats, transpose4 } from './gemm';

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
  const x = pix % pixW;
  return gatherMode == 0 ? x * stride - pad : x + pad;
}

// Packs MR pixel rows [i, i+MR) (rows ≥ m1 are zero) × reduction indices [k0, k0+kc) of the implicit patch
// matrix into [kc][MR]; k = tap·channels + c with tap = ky·kw + kx.
function packPatchPanel(
  gatherMode: i32, i: i32, m1: i32, k0: i32, kc: i32, dst: usize,
  src: usize, srcH: i32, srcW: i32, pixH: i32, pixW: i32, channels: i32, kw: i32, stride: i32, pad: i32,
): void {
  const zero = f32x4.splat(0);
  // Pixel coordinates, decoded once per panel (divisions are slow; taps only add offsets).
  const n0 = decodeN(i, m1, pixH, pixW), n1 = decodeN(i + 1, m1, pixH, pixW);
  const n2 = decodeN(i + 2, m1, pixH, pixW), n3 = decodeN(i + 3, m1, pixH, pixW);
  const y0 = decodeBy(gatherMode, i, pixH, pixW, stride, pad), y1 = decodeBy(gatherMode, i + 1, pixH, pixW, stride, pad);
  const y2 = decodeBy(gatherMode, i + 2, pixH, pixW, stride, pad), y3 = decodeBy(gatherMode, i + 3, pixH, pixW, stride, pad);
  const x0 = decodeBx(gatherMode, i, pixW, stride, pad), x1 = decodeBx(gatherMode, i + 1, pixW, stride, pad);
  const x2 = decodeBx(gatherMode, i + 2, pixW, stride, pad), x3 = decodeBx(gatherMode, i + 3, pixW, stride, pad);
  let k = k0;
  const kEnd = k0 + kc;
  let d = dst;
  while (k < kEnd) {
    const tap = k / channels;
    const c0 = k % channels;
    const len = min(channels - c0, kEnd - k);
    const ky = tap / kw;
    const kx = tap % kw;
    const r0 = tapRow(gatherMode, n0, y0, x0, ky, kx, src, srcH, srcW, channels, stride);
    const r1 = tapRow(gatherMode, n1, y1, x1, ky, kx, src, srcH, srcW, channels, stride);
    const r2 = tapRow(gatherMode, n2, y2, x2, ky, kx, src, srcH, srcW, channels, stride);
    const r3 = tapRow(gatherMode, n3, y3, x3, ky, kx, src, srcH, srcW, channels, stride);
    const off = <usize>c0 << 2;
    let c = 0;
    if (((c0 | channels) & 3) == 0) {
      for (; c + 4 <= len; c += 4) {
        const o = off + (<usize>c << 2);
        transpose4(
          r0 ? v128.load(r0 + o) : zero,
          r1 ? v128.load(r1 + o) : zero,
          r2 ? v128.load(r2 + o) : zero,
          r3 ? v128.load(r3 + o) : zero,
          d,
        );
        d += 64;
      }
    }
    for (; c < len; c++) {
      const o = off + (<usize>c << 2);
      store<f32>(d, r0 ? load<f32>(r0 + o) : 0);
      store<f32>(d, r1 ? load<f32>(r1 + o) : 0, 4);
      store<f32>(d, r2 ? load<f32>(r2 + o) : 0, 8);
      store<f32>(d, r3 ? load<f32>(r3 + o) : 0, 12);
      d += 16;
    }
    k += len;
  }
}

// Shared driver of the two gathering convolutions (forward, input gradient). Parallel dimension: rows of
// the result (pixels). B is packed by packWeights for each reduction block.
function convGatherDriver(
  gatherMode: i32, m0: i32, m1: i32, kTotal: i32, nCols: i32,
  src: usize, srcH: i32, srcW: i32, pixH: i32, pixW: i32, channels: i32, kw: i32, stride: i32, pad: i32,
  w: usize, wCin: i32, wCout: i32, out: usize, accumulate: bool, scratch: usize,
): void {
  const packedB = scratch;
  const packedA = packedB + <usize>packedBFloats(KC, nCols) * 4;
  const tile = packedA + <usize>(MC * KC) * 4;
  for (let k0 = 0; k0 < kTotal; k0 += KC) {
    const kc = min(KC, kTotal - k0);
    const acc = accumulate || k0 > 0;
    if (gatherMode == 0) {
      // B = W as the [K][Cout] matrix.
      packB(w, wCout, false, k0, kc, nCols, packedB, kc * NR, 0);
    } else {
      // B[(tap, co)][ci] = W[tap][ci][co]: per tap, the transposed Cin×Cout slice.
      let k = k0;
      while (k < k0 + kc) {
        const tap = k / wCout;
        const co0 = k % wCout;
        const len = min(wCout - co0, k0 + kc - k);
        packB(w + <usize>tap * wCin * wCout * 4, wCout, true, co0, len, nCols, packedB, kc * NR, k - k0);
        k += len;
      }
    }
    for (let ib = m0; ib < m1; ib += MC) {
      const ie = min(m1, ib + MC);
      let ap = packedA;
      for (let i = ib; i < ie; i += MR) {
        packPatchPanel(gatherMode, i, ie, k0, kc, ap, src, srcH, srcW, pixH, pixW, channels, kw, stride, pad);
        ap += <usize>kc * MR * 4;
      }
      multiplyPacked(packedA, ib, ie, packedB, kc * NR, kc, nCols, out, nCols, acc, tile);
    }
  }
}

/**
 * out[N,Ho,Wo,Cout] (+)= conv2d(x[N,H,W,Cin], w[kh,kw,Cin,Cout]) with the given stride and zero padding.
 * Parallel dimension: output pixels n·Ho·Wo + oy·Wo + ox (grain MR).
 */
export function conv2dForward(
  p0: i32, p1: i32, x: usize, w: usize, out: usize,
  H: i32, W: i32, Cin: i32, Ho: i32, Wo: i32, Cout: i32, kh: i32, kw: i32, stride: i32, pad: i32,
  accumulate: bool, scratch: usize,
): void {
  convGatherDriver(0, p0, p1, kh * kw * Cin, Cout, x, H, W, Ho, Wo, Cin, kw, stride, pad, w, Cin, Cout, out, accumulate, scratch);
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
  convGatherDriver(1, q0, q1, kh * kw * Cout, Cin, dy, Ho, Wo, H, W, Cout, kw, stride, pad, w, Cin, Cout, dx, accumulate, scratch);
}

/**
 * dW[kh,kw,Cin,Cout] (+)= the gradient of conv2dForward with respect to w: Σ_p patch(p)ᵀ dy[p].
 * Parallel dimension: rows k = (ky·kw + kx)·Cin + ci of dW (grain MR), so threads never share output.
 * nPix = N·Ho·Wo.
 */
export function conv2dBackwardWeight(
  k0: i32, k1: i32, x: usize, dy: usize, dw: usize, nPix: i32,
  H: i32, W: i32, Cin: i32, Ho: i32, Wo: i32, Cout: i32, kh: i32, kw: i32, stride: i32, pad: i32,
  accumulate: bool, scratch: usize,
): void {
  const packedB = scratch;
  const packedA = packedB + <usize>packedBFloats(KC, Cout) * 4;
  const tile = packedA + <usize>(MC * KC) * 4;
  // Decoded pixel coordinates of the current reduction block: n, oy·s − pad, ox·s − pad (i32 each).
  const coords = tile + <usize>(MR * NR) * 4;
  const zero = f32x4.splat(0);
  for (let p0 = 0; p0 < nPix; p0 += KC) {
    const pc = min(KC, nPix - p0);
    const acc = accumulate || p0 > 0;
    packB(dy, Cout, false, p0, pc, Cout, packedB, pc * NR, 0);
    for (let p = 0; p < pc; p++) {
      const c = coords + (<usize>p * 12);
      store<i32>(c, decodeN(p0 + p, nPix, Ho, Wo));
      store<i32>(c, decodeBy(0, p0 + p, Ho, Wo, stride, pad), 4);
      store<i32>(c, decodeBx(0, p0 + p, Wo, stride, pad), 8);
    }
    for (let ib = k0; ib < k1; ib += MC) {
      const ie = min(k1, ib + MC);
      let ap = packedA;
      for (let i = ib; i < ie; i += MR) {
        // Micro-panel [pc][MR]: rows i..i+3 of patchᵀ, i.e. channels ci..ci+3 of one tap when Cin % 4 == 0.
        const h = min(MR, ie - i);
        let d = ap;
        if ((Cin & 3) == 0 && h == MR) {
          const tap = i / Cin;
          const ci = <usize>(i % Cin) << 2;
          const ky = tap / kw;
          const kx = tap % kw;
          let c = coords;
          for (let p = 0; p < pc; p++) {
            const r = tapRow(0, load<i32>(c), load<i32>(c, 4), load<i32>(c, 8), ky, kx, x, H, W, Cin, stride);
            v128.store(d, r ? v128.load(r + ci) : zero);
            d += 16;
            c += 12;
          }
        } else {
          for (let p = 0; p < pc; p++) {
            const c = coords + (<usize>p * 12);
            for (let r = 0; r < MR; r++) {
              let v: f32 = 0;
              if (r < h) {
                const kk = i + r;
                const tap = kk / Cin;
                const row = tapRow(0, load<i32>(c), load<i32>(c, 4), load<i32>(c, 8), tap / kw, tap % kw, x, H, W, Cin, stride);
                if (row) v = load<f32>(row + (<usize>(kk % Cin) << 2));
              }
              store<f32>(d + (<usize>r << 2), v);
            }
            d += 16;
          }
        }
        ap += <usize>pc * MR * 4;
      }
      multiplyPacked(packedA, ib, ie, packedB, pc * NR, pc, Cout, dw, Cout, acc, tile);
    }
  }
}
