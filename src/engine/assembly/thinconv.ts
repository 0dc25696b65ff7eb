// Stride-1 convolutions with a single input or a single output channel (NHWC), such as a UNet's first
// convolution (image → C channels) and its last (C channels → image). The implicit-GEMM kernels (conv.ts) are
// poor at these: with one channel per tap their pointer tables cost more than the multiplies, and with one
// output channel seven of every eight lanes of the weight panel are zero. Here every product is a broadcast of
// the single-channel side against four channels of the other, and the taps are walked directly.
//
// Geometry: result pixel (n, a, b) reads source pixel (n, a + s·(ky − pad), b + s·(kx − pad)) for tap
// (ky, kx), zero outside the source. s = +1 is the forward convolution; s = −1 its input gradient (the
// correlation with the flipped filter: dx[iy] = Σ_ky dy[iy − (ky − pad)]·w[ky]). The weights are read as
// w'[tap][c], tap = ky·kw + kx, C contiguous floats per tap: w[kh][kw][1][C] or w[kh][kw][C][1] are both
// this layout.
//
//   convBroadcast   out[p][c]  (+)= bias[c] + Σ_tap src[p ⊕ tap] · w'[tap][c]          (src: 1 channel)
//   convReduce      out[p]     (+)= bias    + Σ_tap Σ_c src[p ⊕ tap][c] · w'[tap][c]  (out: 1 channel)
//   convThinWeightGrad  dW'[tap][c] = Σ_p x[p ⊕ tap] · dy[p] with one of x, dy single-channel
import { fma } from './simd';

/** Channels per block of four accumulators (four vectors). */
const BLOCK: i32 = 16;

/** Row pointer of source row a + s·(ky − pad) of image n, or 0 when it lies outside. */
@inline
function sourceRow(src: usize, n: i32, a: i32, ky: i32, pad: i32, sign: i32, srcH: i32, rowBytes: usize): usize {
  const y = a + sign * (ky - pad);
  if (<u32>y >= <u32>srcH) return 0;
  return src + <usize>(n * srcH + y) * rowBytes;
}

/**
 * out[N, outH, outW, C] (+)= bias[C] + Σ_tap src[N, srcH, srcW, 1][p ⊕ tap] · w'[tap][C] (bias = 0: none;
 * accumulate: add to out). Needs C % 4 == 0. Parallel dimension: result rows n·outH + a (grain 1).
 */
export function convBroadcast(
  r0: i32, r1: i32, src: usize, w: usize, out: usize, srcH: i32, srcW: i32, outH: i32, outW: i32, C: i32,
  kh: i32, kw: i32, pad: i32, sign: i32, accumulate: bool, bias: usize, scratch: usize,
): void {
  const tapBytes = <usize>C << 2;
  const blocked = C & ~(BLOCK - 1);
  for (let r = r0; r < r1; r++) {
    const n = r / outH;
    const a = r % outH;
    let o = out + <usize>r * outW * tapBytes;
    for (let b = 0; b < outW; b++, o += tapBytes) {
      for (let c0 = 0; c0 < C; ) {
        const wide = c0 < blocked; // four vectors at a time, then one
        const cb = <usize>c0 << 2;
        let acc0 = bias != 0 ? v128.load(bias + cb) : f32x4.splat(0);
        let acc1 = wide && bias != 0 ? v128.load(bias + cb, 16) : f32x4.splat(0);
        let acc2 = wide && bias != 0 ? v128.load(bias + cb, 32) : f32x4.splat(0);
        let acc3 = wide && bias != 0 ? v128.load(bias + cb, 48) : f32x4.splat(0);
        for (let ky = 0; ky < kh; ky++) {
          const row = sourceRow(src, n, a, ky, pad, sign, srcH, <usize>srcW << 2);
          if (row == 0) continue;
          for (let kx = 0; kx < kw; kx++) {
            const x = b + sign * (kx - pad);
            if (<u32>x >= <u32>srcW) continue;
            const s = v128.load32_splat(row + (<usize>x << 2));
            const wp = w + <usize>(ky * kw + kx) * tapBytes + cb;
            acc0 = fma(s, v128.load(wp), acc0);
            if (wide) {
              acc1 = fma(s, v128.load(wp, 16), acc1);
              acc2 = fma(s, v128.load(wp, 32), acc2);
              acc3 = fma(s, v128.load(wp, 48), acc3);
            }
          }
        }
        store4(o + cb, acc0, accumulate);
        if (wide) {
          store4(o + cb + 16, acc1, accumulate);
          store4(o + cb + 32, acc2, accumulate);
          store4(o + cb + 48, acc3, accumulate);
        }
        c0 += wide ? BLOCK : 4;
      }
    }
  }
}

/**
 * out[N, outH, outW, 1] (+)= bias + Σ_tap Σ_c src[N, srcH, srcW, C][p ⊕ tap][c] · w'[tap][c] (bias = 0: none).
 * Needs C % 4 == 0. Parallel dimension: result rows n·outH + a (grain 1).
 */
export function convReduce(
  r0: i32, r1: i32, src: usize, w: usize, out: usize, srcH: i32, srcW: i32, outH: i32, outW: i32, C: i32,
  kh: i32, kw: i32, pad: i32, sign: i32, accumulate: bool, bias: usize, scratch: usize,
): void {
  const pixBytes = <usize>C << 2;
  const blocked = C & ~(BLOCK - 1);
  const b0 = bias != 0 ? load<f32>(bias) : <f32>0;
  for (let r = r0; r < r1; r++) {
    const n = r / outH;
    const a = r % outH;
    const o = out + <usize>r * outW * 4;
    for (let b = 0; b < outW; b++) {
      // Four independent sums, so that the multiply-adds of one pixel do not wait on each other.
      let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
      for (let ky = 0; ky < kh; ky++) {
        const row = sourceRow(src, n, a, ky, pad, sign, srcH, <usize>srcW * pixBytes);
        if (row == 0) continue;
        for (let kx = 0; kx < kw; kx++) {
          const x = b + sign * (kx - pad);
          if (<u32>x >= <u32>srcW) continue;
          const sp = row + <usize>x * pixBytes;
          const wp = w + <usize>(ky * kw + kx) * pixBytes;
          let c: usize = 0;
          for (; c < <usize>blocked << 2; c += BLOCK << 2) {
            acc0 = fma(v128.load(sp + c), v128.load(wp + c), acc0);
            acc1 = fma(v128.load(sp + c, 16), v128.load(wp + c, 16), acc1);
            acc2 = fma(v128.load(sp + c, 32), v128.load(wp + c, 32), acc2);
            acc3 = fma(v128.load(sp + c, 48), v128.load(wp + c, 48), acc3);
          }
          for (; c < pixBytes; c += 16) acc0 = fma(v128.load(sp + c), v128.load(wp + c), acc0);
        }
      }
      const v = f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3));
      const s = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3)) + b0;
      const p = o + (<usize>b << 2);
      store<f32>(p, accumulate ? load<f32>(p) + s : s);
    }
  }
}

@inline
function store4(p: usize, v: v128, accumulate: bool): void {
  v128.store(p, accumulate ? f32x4.add(v128.load(p), v) : v);
}

/**
 * Weight-gradient partial sums of a stride-1 convolution with a single input channel (cinIsOne = 1:
 * x[N,H,W,1], dy[N,Ho,Wo,C]) or a single output channel (cinIsOne = 0: x[N,H,W,C], dy[N,Ho,Wo,1]):
 * partials[part][tap][c] (float64) = Σ over the output rows of part `part` of Σ_p x[p ⊕ tap]·dy[p], for
 * `parts` equal ranges of the N·Ho output rows (s = +1 in the geometry above). The sum over parts in a
 * fixed order (sumColumnsFinish) makes the result independent of the thread count. Needs C % 4 == 0.
 * Parallel dimension: parts (grain 1).
 */
export function convThinWeightGrad(
  part0: i32, part1: i32, x: usize, dy: usize, partials: usize, parts: i32,
  N: i32, H: i32, W: i32, Ho: i32, Wo: i32, C: i32, kh: i32, kw: i32, pad: i32, cinIsOne: bool, scratch: usize,
): void {
  const rows = N * Ho;
  const per = (rows + parts - 1) / parts;
  const taps = kh * kw;
  const vecBytes = <usize>C << 2; // a C-channel pixel
  const blocked = C & ~(BLOCK - 1);
  // Strides of the single-channel side (scalars) and the C-channel side (vectors), in bytes per pixel.
  const xPix: usize = cinIsOne ? 4 : vecBytes;
  const dyPix: usize = cinIsOne ? vecBytes : 4;
  for (let part = part0; part < part1; part++) {
    const rowStart = min(rows, part * per);
    const rowEnd = min(rows, rowStart + per);
    const dst = partials + <usize>part * taps * vecBytes * 2;
    for (let tap = 0; tap < taps; tap++) {
      const ky = tap / kw;
      const kx = tap % kw;
      // Output columns whose tap stays inside the input: 0 ≤ ox + kx − pad < W.
      const oxStart = max(0, pad - kx);
      const oxEnd = min(Wo, W + pad - kx);
      for (let c0 = 0; c0 < C; ) {
        const wide = c0 < blocked;
        const cb = <usize>c0 << 2;
        let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
        for (let r = rowStart; r < rowEnd; r++) {
          const n = r / Ho;
          const iy = (r % Ho) + ky - pad;
          if (<u32>iy >= <u32>H || oxStart >= oxEnd) continue;
          const xp = x + (<usize>(n * H + iy) * W + <usize>(oxStart + kx - pad)) * xPix;
          const gp = dy + (<usize>r * Wo + <usize>oxStart) * dyPix;
          // One side broadcast (the single channel), the other read four channels at a time from c0.
          let sp = cinIsOne ? xp : gp;
          let vp = (cinIsOne ? gp : xp) + cb;
          const sStep = cinIsOne ? xPix : dyPix;
          const vStep = cinIsOne ? dyPix : xPix;
          for (let ox = oxStart; ox < oxEnd; ox++) {
            const s = v128.load32_splat(sp);
            acc0 = fma(s, v128.load(vp), acc0);
            if (wide) {
              acc1 = fma(s, v128.load(vp, 16), acc1);
              acc2 = fma(s, v128.load(vp, 32), acc2);
              acc3 = fma(s, v128.load(vp, 48), acc3);
            }
            sp += sStep;
            vp += vStep;
          }
        }
        const d = dst + (<usize>tap * vecBytes + cb) * 2;
        storeF64(d, acc0);
        if (wide) {
          storeF64(d + 32, acc1);
          storeF64(d + 64, acc2);
          storeF64(d + 96, acc3);
        }
        c0 += wide ? BLOCK : 4;
      }
    }
  }
}

/** Stores four float32 lanes as four float64 values. */
@inline
function storeF64(p: usize, v: v128): void {
  v128.store(p, f64x2.promote_low_f32x4(v));
  v128.store(p, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), 16);
}
