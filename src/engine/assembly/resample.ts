// Nearest-neighbour 2× upsampling and channel concatenation for NHWC batches, with their backwards.
//
// upsample:  out[n, 2h + a, 2w + b, c] = x[n, h, w, c]  for a, b ∈ {0, 1}   (out is [N, 2H, 2W, C]);
// backward:  dx[n, h, w, c] = Σ_{a,b ∈ {0,1}} dy[n, 2h + a, 2w + b, c]      (the adjoint: each input
//            value was copied to 4 outputs, so its gradient sums the 4).
// concat:    out[p, :] = [a[p, 0..ca), b[p, 0..cb)]  for pixel p (an NHWC batch is a [pixels, C] matrix);
// split:     the inverse (and the backward of concat): a[p, :] = x[p, 0..ca), b[p, :] = x[p, ca..ca+cb).
import { copyRun } from './elementwise';

/** Nearest 2× upsampling of x [N, H, W, C] into out [N, 2H, 2W, C]. Parallel over input rows n·H + h. */
export function upsampleNearest2x(
  start: i32,
  end: i32,
  x: usize,
  out: usize,
  _H: i32,
  W: i32,
  C: i32,
  _scratch: usize,
): void {
  const inRow = <usize>W * <usize>C; // floats per input row
  const pix = <usize>C << 2; // bytes per pixel
  for (let i = start; i < end; i++) {
    // Input row i = n·H + h maps to output rows 2i and 2i + 1 (n·2H + 2h = 2i).
    const src = x + ((<usize>i * inRow) << 2);
    const dst0 = out + ((<usize>(2 * i) * inRow * 2) << 2);
    const dst1 = dst0 + ((inRow * 2) << 2);
    for (let w = 0; w < W; w++) {
      const s = src + <usize>w * pix;
      const d = dst0 + <usize>(2 * w) * pix;
      copyRun(s, d, C);
      copyRun(s, d + pix, C);
    }
    memory.copy(dst1, dst0, (inRow * 2) << 2);
  }
}

/** dx [N, H, W, C] = the sum of the 4 copies in dy [N, 2H, 2W, C]. Parallel over input rows n·H + h. */
export function upsampleNearest2xBackward(
  start: i32,
  end: i32,
  dy: usize,
  dx: usize,
  _H: i32,
  W: i32,
  C: i32,
  _scratch: usize,
): void {
  const inRow = <usize>W * <usize>C;
  const pix = <usize>C << 2;
  const outRowBytes = (inRow * 2) << 2;
  for (let i = start; i < end; i++) {
    const d = dx + ((<usize>i * inRow) << 2);
    const top = dy + ((<usize>(2 * i) * inRow * 2) << 2);
    for (let w = 0; w < W; w++) {
      const t0 = top + <usize>(2 * w) * pix; // dy[2h, 2w]; +pix: [2h, 2w+1]; +outRowBytes: row 2h+1
      const t1 = t0 + outRowBytes;
      const o = d + <usize>w * pix;
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        const q = <usize>c << 2;
        const s0 = f32x4.add(v128.load(t0 + q), v128.load(t0 + pix + q));
        const s1 = f32x4.add(v128.load(t1 + q), v128.load(t1 + pix + q));
        v128.store(o + q, f32x4.add(s0, s1));
      }
      for (; c < C; c++) {
        const q = <usize>c << 2;
        const s0 = load<f32>(t0 + q) + load<f32>(t0 + pix + q);
        const s1 = load<f32>(t1 + q) + load<f32>(t1 + pix + q);
        store<f32>(o + q, s0 + s1);
      }
    }
  }
}

/** out[p, :] = [a[p, :], b[p, :]] with a [P, ca], b [P, cb], out [P, ca + cb]. Parallel over pixels p. */
export function concatChannels(
  start: i32,
  end: i32,
  a: usize,
  ca: i32,
  b: usize,
  cb: i32,
  out: usize,
  _scratch: usize,
): void {
  const co = ca + cb;
  for (let p = start; p < end; p++) {
    const o = out + ((<usize>p * <usize>co) << 2);
    copyRun(a + ((<usize>p * <usize>ca) << 2), o, ca);
    copyRun(b + ((<usize>p * <usize>cb) << 2), o + (<usize>ca << 2), cb);
  }
}

/** a[p, :] = x[p, 0..ca), b[p, :] = x[p, ca..ca+cb) (concatChannels' backward). Parallel over pixels p. */
export function splitChannels(
  start: i32,
  end: i32,
  x: usize,
  ca: i32,
  cb: i32,
  a: usize,
  b: usize,
  _scratch: usize,
): void {
  const cx = ca + cb;
  for (let p = start; p < end; p++) {
    const s = x + ((<usize>p * <usize>cx) << 2);
    copyRun(s, a + ((<usize>p * <usize>ca) << 2), ca);
    copyRun(s + (<usize>ca << 2), b + ((<usize>p * <usize>cb) << 2), cb);
  }
}
