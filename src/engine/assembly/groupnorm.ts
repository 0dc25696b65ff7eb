// Group normalization over NHWC batches (Wu & He 2018, "Group Normalization", ECCV; PyTorch's
// torch.nn.GroupNorm semantics).
//
// For image n and group g of the C/G consecutive channels [g·C/G, (g+1)·C/G), with M = H·W·(C/G) values:
//   μ = (1/M) Σ x,   σ² = (1/M) Σ (x − μ)²   (biased variance),   rstd = 1/√(σ² + eps),
//   x̂ = (x − μ)·rstd,   y = x̂·γ_c + β_c.
// The parallel index is i = n·G + g. A thread's slice is processed image by image: the groups of one image
// in the slice are a contiguous run of channels, so every pass walks the pixels of that image and runs
// 4-lane SIMD across the run (per-channel accumulators in scratch), then folds channels into groups.
// Statistics are two-pass and in float64: per-channel sums → μ, then per-channel Σ (x − μ)² with x widened
// to float64 → σ². No catastrophic cancellation for any mean/spread ratio.
//
// Backward (same notation, dy the incoming gradient, A = Σ_group dy·γ_c, B = Σ_group dy·γ_c·x̂):
//   dβ_c = Σ dy,   dγ_c = Σ dy·x̂   (per image; the caller sums over n with sumColumns),
//   dx = rstd·(γ_c·dy − A/M − x̂·B/M) = (rstd·γ_c)·dy + (x − μ)·(−rstd²·B/M) + (−rstd·A/M).
// Σ dy·x̂ is accumulated as rstd·Σ dy·(x − μ) in float64 with the saved μ, not as Σ dy·x − μ·Σ dy.
// The forward's elementwise pass forms x − μ as (x − μ_hi) − μ_lo, μ_hi = fl32(μ), μ_lo = fl32(μ − μ_hi):
// the first difference is exact (Sterbenz) when x is within a factor 2 of μ, so y keeps float32 relative
// accuracy even when |μ| ≫ σ (a single float32 μ would cost up to ulp(μ)/2σ). The backward uses the saved
// float32 μ, as PyTorch does.
import {
  columnSumsF64,
  high64,
  low64,
  siluGradFromSaved,
  siluStoreSaving,
  siluStoreSavingScalar,
  siluv,
} from './elementwise';
import { fma } from './simd';

/** Channels per chunk: the scratch areas below use at most 40 bytes per channel (5 MiB of the 8 MiB). */
const MAX_CH: i32 = 131072;
/**
 * The fused SiLU backward keeps a chunk's gradient of y, hw·(channels of the chunk) floats, in scratch after the
 * per-channel arrays: at most this many bytes (with MAX_CH·40 bytes, within the 8 MiB scratch).
 */
const SILU_CHUNK_BYTES: i64 = 2 << 20;

// The two column reductions below add four rows in registers before updating their float64 accumulators in
// memory, as columnSumsF64 does.

/** acc[j] = Σ_{r < rows} (x[r·ld + j] − mu[j])² in float64 (acc, mu: w doubles). */
function columnCenteredSquaresF64(x: usize, ld: i32, rows: i32, w: i32, mu: usize, acc: usize): void {
  memory.fill(acc, 0, (<usize>w) << 3);
  const stride = (<usize>ld) << 2;
  let row = x;
  let r = 0;
  for (; r < rows; ) {
    const n = rows - r >= 4 ? 4 : 1;
    let j = 0;
    for (; j + 4 <= w; j += 4) {
      const q = row + ((<usize>j) << 2);
      const m0 = v128.load(mu + ((<usize>j) << 3));
      const m1 = v128.load(mu + ((<usize>j) << 3), 16);
      let s0 = f64x2.splat(0);
      let s1 = f64x2.splat(0);
      for (let k = 0; k < n; k++) {
        const v = v128.load(q + <usize>k * stride);
        const d0 = f64x2.sub(low64(v), m0);
        const d1 = f64x2.sub(high64(v), m1);
        s0 = f64x2.add(s0, f64x2.mul(d0, d0));
        s1 = f64x2.add(s1, f64x2.mul(d1, d1));
      }
      const p = acc + ((<usize>j) << 3);
      v128.store(p, f64x2.add(v128.load(p), s0));
      v128.store(p, f64x2.add(v128.load(p, 16), s1), 16);
    }
    for (; j < w; j++) {
      const m = load<f64>(mu + ((<usize>j) << 3));
      let s: f64 = 0;
      for (let k = 0; k < n; k++) {
        const d = <f64>load<f32>(row + <usize>k * stride + ((<usize>j) << 2)) - m;
        s += d * d;
      }
      const p = acc + ((<usize>j) << 3);
      store<f64>(p, load<f64>(p) + s);
    }
    row += <usize>n * stride;
    r += n;
  }
}

/**
 * sDy[j] = Σ_r dy[r·ldd + j],  sDyXc[j] = Σ_r dy[r·ldd + j]·(x[r·ldx + j] − mu[j]), all float64 (row strides
 * ldx, ldd in floats).
 */
function columnDyStatsF64(
  x: usize,
  dy: usize,
  ldx: i32,
  ldd: i32,
  rows: i32,
  w: i32,
  mu: usize,
  sDy: usize,
  sDyXc: usize,
): void {
  memory.fill(sDy, 0, (<usize>w) << 3);
  memory.fill(sDyXc, 0, (<usize>w) << 3);
  const strideX = (<usize>ldx) << 2;
  const strideD = (<usize>ldd) << 2;
  let offX: usize = 0;
  let offD: usize = 0;
  let r = 0;
  for (; r < rows; ) {
    const n = rows - r >= 4 ? 4 : 1;
    let j = 0;
    for (; j + 4 <= w; j += 4) {
      const ox = offX + ((<usize>j) << 2);
      const od = offD + ((<usize>j) << 2);
      const m0 = v128.load(mu + ((<usize>j) << 3));
      const m1 = v128.load(mu + ((<usize>j) << 3), 16);
      let a0 = f64x2.splat(0);
      let a1 = f64x2.splat(0);
      let b0 = f64x2.splat(0);
      let b1 = f64x2.splat(0);
      for (let k = 0; k < n; k++) {
        const vx = v128.load(x + ox + <usize>k * strideX);
        const vd = v128.load(dy + od + <usize>k * strideD);
        const d0 = low64(vd);
        const d1 = high64(vd);
        a0 = f64x2.add(a0, d0);
        a1 = f64x2.add(a1, d1);
        b0 = f64x2.add(b0, f64x2.mul(d0, f64x2.sub(low64(vx), m0)));
        b1 = f64x2.add(b1, f64x2.mul(d1, f64x2.sub(high64(vx), m1)));
      }
      const p = sDy + ((<usize>j) << 3);
      v128.store(p, f64x2.add(v128.load(p), a0));
      v128.store(p, f64x2.add(v128.load(p, 16), a1), 16);
      const q = sDyXc + ((<usize>j) << 3);
      v128.store(q, f64x2.add(v128.load(q), b0));
      v128.store(q, f64x2.add(v128.load(q, 16), b1), 16);
    }
    for (; j < w; j++) {
      const m = load<f64>(mu + ((<usize>j) << 3));
      let a: f64 = 0;
      let b: f64 = 0;
      for (let k = 0; k < n; k++) {
        const d = <f64>load<f32>(dy + offD + <usize>k * strideD + ((<usize>j) << 2));
        a += d;
        b += d * (<f64>load<f32>(x + offX + <usize>k * strideX + ((<usize>j) << 2)) - m);
      }
      const p = sDy + ((<usize>j) << 3);
      store<f64>(p, load<f64>(p) + a);
      const q = sDyXc + ((<usize>j) << 3);
      store<f64>(q, load<f64>(q) + b);
    }
    offX += <usize>n * strideX;
    offD += <usize>n * strideD;
    r += n;
  }
}

/**
 * One image n, groups [ga, gb): statistics, then y = (x − μ)·(rstd·γ) + β, or SiLU(y) when silu (and then
 * also min(σ(y), 1 − σ(y)) at `saved` unless it is 0, as siluForwardSaving).
 */
function forwardChunk(
  x: usize,
  gamma: usize,
  beta: usize,
  out: usize,
  mean: usize,
  rstd: usize,
  hw: i32,
  C: i32,
  G: i32,
  n: i32,
  ga: i32,
  gb: i32,
  eps: f32,
  silu: bool,
  saved: usize,
  scratch: usize,
): void {
  const cg = C / G;
  const c0 = ga * cg;
  const L = (gb - ga) * cg;
  const off = (<usize>n * <usize>hw * <usize>C + <usize>c0) << 2;
  const xb = x + off;
  const ob = out + off;
  const acc = scratch; // f64[L]: per-channel sums
  const mu64 = acc + ((<usize>L) << 3); // f64[L]: the channel's group mean
  const muHi = mu64 + ((<usize>L) << 3); // f32[L]: μ rounded to float32
  const muLo = muHi + ((<usize>L) << 2); // f32[L]: μ − μ_hi rounded to float32
  const a32 = muLo + ((<usize>L) << 2); // f32[L]: rstd·γ_c
  const M = <f64>hw * <f64>cg;

  // Pass 1: μ = (1/M) Σ x.
  columnSumsF64(xb, C, hw, L, acc);
  for (let g = ga; g < gb; g++) {
    const j0 = (g - ga) * cg;
    let s: f64 = 0;
    for (let j = j0; j < j0 + cg; j++) s += load<f64>(acc + ((<usize>j) << 3));
    const mu = s / M;
    for (let j = j0; j < j0 + cg; j++) store<f64>(mu64 + ((<usize>j) << 3), mu);
  }
  // Pass 2: σ² = (1/M) Σ (x − μ)², rstd = 1/√(σ² + eps).
  columnCenteredSquaresF64(xb, C, hw, L, mu64, acc);
  for (let g = ga; g < gb; g++) {
    const j0 = (g - ga) * cg;
    let s: f64 = 0;
    for (let j = j0; j < j0 + cg; j++) s += load<f64>(acc + ((<usize>j) << 3));
    const mu = load<f64>(mu64 + ((<usize>j0) << 3));
    const r = 1 / Math.sqrt(s / M + <f64>eps);
    const ng = (<usize>(n * G + g)) << 2;
    store<f32>(mean + ng, <f32>mu);
    store<f32>(rstd + ng, <f32>r);
    const hi = <f32>mu;
    const lo = <f32>(mu - <f64>hi);
    for (let j = j0; j < j0 + cg; j++) {
      store<f32>(muHi + ((<usize>j) << 2), hi);
      store<f32>(muLo + ((<usize>j) << 2), lo);
      store<f32>(a32 + ((<usize>j) << 2), <f32>(r * <f64>load<f32>(gamma + ((<usize>(c0 + j)) << 2))));
    }
  }
  // Pass 3: y = ((x − μ_hi) − μ_lo)·a + β, a = rstd·γ_c (then SiLU).
  const bb = beta + ((<usize>c0) << 2);
  const sb = saved + off;
  const stride = (<usize>C) << 2;
  let o: usize = 0;
  for (let p = 0; p < hw; p++) {
    let j = 0;
    for (; j + 4 <= L; j += 4) {
      const q = (<usize>j) << 2;
      const xc = f32x4.sub(f32x4.sub(v128.load(xb + o + q), v128.load(muHi + q)), v128.load(muLo + q));
      const y = fma(xc, v128.load(a32 + q), v128.load(bb + q));
      if (!silu) v128.store(ob + o + q, y);
      else if (saved == 0) v128.store(ob + o + q, siluv(y));
      else siluStoreSaving(y, ob + o + q, sb + o + q);
    }
    for (; j < L; j++) {
      const q = (<usize>j) << 2;
      const xc = f32x4.splat(load<f32>(xb + o + q) - load<f32>(muHi + q) - load<f32>(muLo + q));
      const y = f32x4.extract_lane(fma(xc, f32x4.splat(load<f32>(a32 + q)), f32x4.splat(load<f32>(bb + q))), 0);
      if (!silu) store<f32>(ob + o + q, y);
      else if (saved == 0) store<f32>(ob + o + q, f32x4.extract_lane(siluv(f32x4.splat(y)), 0));
      else siluStoreSavingScalar(y, ob + o + q, sb + o + q);
    }
    o += stride;
  }
}

/**
 * GroupNorm forward over an NHWC batch x [N, hw, C] (hw = H·W pixels, G groups dividing C): out = y, and
 * saves mean and rstd = 1/√(σ² + eps) as float32 [N·G] for the backward. With silu, out = SiLU(y) and, unless
 * saved = 0, saved = min(σ(y), 1 − σ(y)) [N, hw, C] for the fused backward. Parallel over i = n·G + g.
 * scratch: 28 bytes per channel.
 */
export function groupNormForward(
  start: i32,
  end: i32,
  x: usize,
  gamma: usize,
  beta: usize,
  out: usize,
  mean: usize,
  rstd: usize,
  hw: i32,
  C: i32,
  G: i32,
  eps: f32,
  silu: bool,
  saved: usize,
  scratch: usize,
): void {
  const gpc = max(1, MAX_CH / (C / G));
  let i = start;
  while (i < end) {
    const n = i / G;
    const ga = i - n * G;
    const gb = min(G, ga + min(end - i, gpc));
    forwardChunk(x, gamma, beta, out, mean, rstd, hw, C, G, n, ga, gb, eps, silu, saved, scratch);
    i += gb - ga;
  }
}

/**
 * One image n, groups [ga, gb) of the backward. With silu, dy is the gradient of SiLU(y) and saved its
 * min(σ(y), 1 − σ(y)) from the forward: pass 0 forms the gradient of y, dy·SiLU'(y) with y recomputed from x
 * and the statistics, into scratch ([hw][L]), and the passes below read it from there.
 */
function backwardChunk(
  x: usize,
  dy: usize,
  gamma: usize,
  beta: usize,
  saved: usize,
  silu: bool,
  mean: usize,
  rstd: usize,
  dx: usize,
  dGamma: usize,
  dBeta: usize,
  hw: i32,
  C: i32,
  G: i32,
  n: i32,
  ga: i32,
  gb: i32,
  scratch: usize,
): void {
  const cg = C / G;
  const c0 = ga * cg;
  const L = (gb - ga) * cg;
  const off = (<usize>n * <usize>hw * <usize>C + <usize>c0) << 2;
  const sDy = scratch; // f64[L]: Σ dy per channel
  const sDyXc = sDy + ((<usize>L) << 3); // f64[L]: Σ dy·(x − μ) per channel
  const mu64 = sDyXc + ((<usize>L) << 3); // f64[L]: saved μ of the channel's group
  const u32 = mu64 + ((<usize>L) << 3); // f32[L]: rstd·γ_c
  const mu32 = u32 + ((<usize>L) << 2); // f32[L]: μ
  const k2 = mu32 + ((<usize>L) << 2); // f32[L]: −rstd²·B/M
  const k3 = k2 + ((<usize>L) << 2); // f32[L]: −rstd·A/M
  const gyBuf = k3 + ((<usize>L) << 2); // f32[hw][L]: with silu, the gradient of y
  const M = <f64>hw * <f64>cg;
  const stride = (<usize>C) << 2;
  const xb = x + off;

  for (let g = ga; g < gb; g++) {
    const ng = (<usize>(n * G + g)) << 2;
    const mu = load<f32>(mean + ng);
    const r = <f64>load<f32>(rstd + ng);
    const j0 = (g - ga) * cg;
    for (let j = j0; j < j0 + cg; j++) {
      store<f64>(mu64 + ((<usize>j) << 3), <f64>mu);
      store<f32>(u32 + ((<usize>j) << 2), <f32>(r * <f64>load<f32>(gamma + ((<usize>(c0 + j)) << 2))));
      store<f32>(mu32 + ((<usize>j) << 2), mu);
    }
  }
  let db = dy + off; // the gradient of y, row stride dStride
  let dStride = stride;
  if (silu) {
    // Pass 0: dy_y = dy·SiLU'(y), y = (x − μ)·(rstd·γ_c) + β_c.
    const bb = beta + ((<usize>c0) << 2);
    const gs = dy + off;
    const sb = saved + off;
    const rowOut = (<usize>L) << 2;
    let o: usize = 0;
    let d = gyBuf;
    for (let p = 0; p < hw; p++) {
      let j = 0;
      for (; j + 4 <= L; j += 4) {
        const q = (<usize>j) << 2;
        const y = fma(f32x4.sub(v128.load(xb + o + q), v128.load(mu32 + q)), v128.load(u32 + q), v128.load(bb + q));
        v128.store(d + q, f32x4.mul(v128.load(gs + o + q), siluGradFromSaved(y, v128.load(sb + o + q))));
      }
      for (; j < L; j++) {
        const q = (<usize>j) << 2;
        const xc = f32x4.splat(load<f32>(xb + o + q) - load<f32>(mu32 + q));
        const y = fma(xc, f32x4.splat(load<f32>(u32 + q)), f32x4.splat(load<f32>(bb + q)));
        const g = f32x4.mul(f32x4.splat(load<f32>(gs + o + q)), siluGradFromSaved(y, f32x4.splat(load<f32>(sb + o + q))));
        store<f32>(d + q, f32x4.extract_lane(g, 0));
      }
      o += stride;
      d += rowOut;
    }
    db = gyBuf;
    dStride = rowOut;
  }
  // Pass 1: per-channel Σ dy and Σ dy·(x − μ).
  columnDyStatsF64(xb, db, C, <i32>(dStride >> 2), hw, L, mu64, sDy, sDyXc);
  for (let g = ga; g < gb; g++) {
    const ng = (<usize>(n * G + g)) << 2;
    const r = <f64>load<f32>(rstd + ng);
    const j0 = (g - ga) * cg;
    let A: f64 = 0; // Σ dy·γ
    let B: f64 = 0; // Σ dy·γ·x̂
    for (let j = j0; j < j0 + cg; j++) {
      const c = (<usize>(c0 + j)) << 2;
      const gm = <f64>load<f32>(gamma + c);
      const sd = load<f64>(sDy + ((<usize>j) << 3));
      const dg = r * load<f64>(sDyXc + ((<usize>j) << 3)); // Σ dy·x̂ over this channel's pixels
      const pc = ((<usize>n * <usize>C) << 2) + c;
      store<f32>(dBeta + pc, <f32>sd);
      store<f32>(dGamma + pc, <f32>dg);
      A += gm * sd;
      B += gm * dg;
    }
    const c2 = <f32>((-r * r * B) / M);
    const c3 = <f32>((-r * A) / M);
    for (let j = j0; j < j0 + cg; j++) {
      const q = (<usize>j) << 2;
      store<f32>(k2 + q, c2);
      store<f32>(k3 + q, c3);
    }
  }
  // Pass 2: dx = u·dy + (x − μ)·k2 + k3.
  const ob = dx + off;
  let o: usize = 0;
  let od: usize = 0;
  for (let p = 0; p < hw; p++) {
    let j = 0;
    for (; j + 4 <= L; j += 4) {
      const q = (<usize>j) << 2;
      const xc = f32x4.sub(v128.load(xb + o + q), v128.load(mu32 + q));
      const t = fma(xc, v128.load(k2 + q), v128.load(k3 + q));
      v128.store(ob + o + q, fma(v128.load(db + od + q), v128.load(u32 + q), t));
    }
    for (; j < L; j++) {
      const q = (<usize>j) << 2;
      const xc = f32x4.splat(load<f32>(xb + o + q) - load<f32>(mu32 + q));
      const t = fma(xc, f32x4.splat(load<f32>(k2 + q)), f32x4.splat(load<f32>(k3 + q)));
      const v = fma(f32x4.splat(load<f32>(db + od + q)), f32x4.splat(load<f32>(u32 + q)), t);
      store<f32>(ob + o + q, f32x4.extract_lane(v, 0));
    }
    o += stride;
    od += dStride;
  }
}

/**
 * GroupNorm backward: dx [N, hw, C], and per-image parameter gradients dGammaPerImage[n, c] = Σ_hw dy·x̂,
 * dBetaPerImage[n, c] = Σ_hw dy (float32 [N, C]; dγ, dβ = sumColumns over N). mean, rstd: as saved by
 * groupNormForward. With silu, dy is the gradient of SiLU(y) and saved, beta as in the fused forward
 * (otherwise both may be 0). Parallel over i = n·G + g. scratch: 40 bytes per channel, and with silu 4·hw bytes
 * per channel of a chunk (chunks shrink to SILU_CHUNK_BYTES; one group of more traps).
 */
export function groupNormBackward(
  start: i32,
  end: i32,
  x: usize,
  dy: usize,
  gamma: usize,
  mean: usize,
  rstd: usize,
  dx: usize,
  dGammaPerImage: usize,
  dBetaPerImage: usize,
  hw: i32,
  C: i32,
  G: i32,
  silu: bool,
  saved: usize,
  beta: usize,
  scratch: usize,
): void {
  const cg = C / G;
  let gpc = max(1, MAX_CH / cg);
  if (silu) {
    assert(<i64>hw * <i64>cg * 4 <= SILU_CHUNK_BYTES, 'groupNormBackward: a group is too large for the fused SiLU');
    gpc = min(gpc, <i32>(SILU_CHUNK_BYTES / (<i64>hw * <i64>cg * 4)));
  }
  let i = start;
  while (i < end) {
    const n = i / G;
    const ga = i - n * G;
    const gb = min(G, ga + min(end - i, gpc));
    backwardChunk(x, dy, gamma, beta, saved, silu, mean, rstd, dx, dGammaPerImage, dBetaPerImage, hw, C, G, n, ga, gb, scratch);
    i += gb - ga;
  }
}
