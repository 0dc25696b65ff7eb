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

// Row pointer of the source for pixel index `pix` and tap (ky, kx), or 0 when the tap falls in the padding.
// gatherMode 0 (forward): pix is an output pixel; reads input row (oy·s − pad + ky, ox·s − pad + kx).
// gatherMode 1 (input gradient): pix is an input pixel; reads output-gradient row as described above.
@inline
function sourceRow(
  gatherMode: i32, pix: i32, ky: i32, kx: i32, src: usize,
  srcH: i32, srcW: i32, pixH: i32, pixW: i32, channels: i32, stride: i32, pad: i32,
): usize {
  const ox = pix % pixW;
  const t = pix / pixW;
  const oy = t % pixH;
  const n = t / pixH;
  let sy: i32, sx: i32;
  if (gatherMode == 0) {
    sy = oy * stride - pad + ky;
    sx = ox * stride - pad + kx;
  } else {
    const ty = oy + pad - ky;
    const tx = ox + pad - kx;
    if (ty < 0 || tx < 0 || ty % stride != 0 || tx % stride != 0) return 0;
    sy = ty / stride;
    sx = tx / stride;
  }
  if (sy < 0 || sy >= srcH || sx < 0 || sx >= srcW) return 0;
  return src + ((<usize>(n * srcH + sy) * srcW + sx) * channels) * 4;
}

// Packs MR pixel rows [i, i+MR) (rows ≥ m1 are zero) × reduction indices [k0, k0+kc) of the implicit patch
// matrix into [kc][MR]; k = tap·channels + c with tap = ky·kw + kx.
function packPatchPanel(
  gatherMode: i32, i: i32, m1: i32, k0: i32, kc: i32, dst: usize,
  src: usize, srcH: i32, srcW: i32, pixH: i32, pixW: i32, channels: i32, kw: i32, stride: i32, pad: i32,
): void {
  const h = min(MR, m1 - i);
  const zero = f32x4.splat(0);
  let k = k0;
  const kEnd = k0 + kc;
  let d = dst;
  while (k < kEnd) {
    const tap = k / channels;
    const c0 = k % channels;
    const len = min(channels - c0, kEnd - k);
    const ky = tap / kw;
    const kx = tap % kw;
    const r0 = sourceRow(gatherMode, i, ky, kx, src, srcH, srcW, pixH, pixW, channels, stride, pad);
    const r1 = h > 1 ? sourceRow(gatherMode, i + 1, ky, kx, src, srcH, srcW, pixH, pixW, channels, stride, pad) : 0;
    const r2 = h > 2 ? sourceRow(gatherMode, i + 2, ky, kx, src, srcH, srcW, pixH, pixW, channels, stride, pad) : 0;
    const r3 = h > 3 ? sourceRow(gatherMode, i + 3, ky, kx, src, srcH, srcW, pixH, pixW, channels, stride, pad) : 0;
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
  const zero = f32x4.splat(0);
  for (let p0 = 0; p0 < nPix; p0 += KC) {
    const pc = min(KC, nPix - p0);
    const acc = accumulate || p0 > 0;
    packB(dy, Cout, false, p0, pc, Cout, packedB, pc * NR, 0);
    for (let ib = k0; ib < k1; ib += MC) {
      const ie = min(k1, ib + MC);
      let ap = packedA;
      for (let i = ib; i < ie; i += MR) {
        // Micro-panel [pc][MR]: rows i..i+3 of patchᵀ, i.e. channels ci..ci+3 of one tap when Cin % 4 == 0.
        const h = min(MR, ie - i);
        let d = ap;
        if ((Cin & 3) == 0 && h == MR) {
          const tap = i / Cin;
          const ci = i % Cin;
          const ky = tap / kw;
          const kx = tap % kw;
          for (let p = p0; p < p0 + pc; p++) {
            const r = sourceRow(0, p, ky, kx, x, H, W, Ho, Wo, Cin, stride, pad);
            v128.store(d, r ? v128.load(r + (<usize>ci << 2)) : zero);
            d += 16;
          }
        } else {
          for (let p = p0; p < p0 + pc; p++) {
            for (let r = 0; r < MR; r++) {
              let v: f32 = 0;
              if (r < h) {
                const kk = i + r;
                const tap = kk / Cin;
                const row = sourceRow(0, p, tap / kw, tap % kw, x, H, W, Ho, Wo, Cin, stride, pad);
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
