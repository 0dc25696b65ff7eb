// Elementwise and row/column kernels on float32 arrays in the shared memory.
//
// Convention (see gemm.ts): kernel(start, end, ...args, scratch) processes only its slice [start, end) of
// the parallel dimension named in its comment (the element index unless stated), so threads never write
// the same bytes. Pointers are byte offsets, counts are elements. Main loops are 4-lane SIMD; tails are
// scalar with the same operation order. Outputs may alias inputs element for element (out = a is fine).
// Sums over many terms (column sums, squared error) accumulate in float64.
//
// The exp/SiLU helpers carry AssemblyScript's @inline (like simd.ts and gemm.ts): Binaryen's own inliner
// did not reliably inline the ~60-instruction vector exp at every call site. biome cannot parse decorators
// on functions; biome.json excludes src/engine/assembly.
import { fma } from './simd';
import { expf1, expv, onev } from './vexp';

// ---------------------------------------------------------------------------------------------------
// Copies and fills

/** out[i] = value. Parallel over elements. */
export function fill(start: i32, end: i32, out: usize, value: f32, _scratch: usize): void {
  const v = f32x4.splat(value);
  let i = start;
  for (; i + 4 <= end; i += 4) v128.store(out + ((<usize>i) << 2), v);
  for (; i < end; i++) store<f32>(out + ((<usize>i) << 2), value);
}

/** dst[i] = src[i]. Parallel over elements. The ranges must not overlap (other threads copy other slices). */
export function copy(start: i32, end: i32, src: usize, dst: usize, _scratch: usize): void {
  if (end <= start) return;
  memory.copy(dst + ((<usize>start) << 2), src + ((<usize>start) << 2), (<usize>(end - start)) << 2);
}

/** Copies n floats from src to dst (4-lane body, scalar tail). */
export function copyRun(src: usize, dst: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(dst + ((<usize>j) << 2), v128.load(src + ((<usize>j) << 2)));
  for (; j < n; j++) store<f32>(dst + ((<usize>j) << 2), load<f32>(src + ((<usize>j) << 2)));
}

// ---------------------------------------------------------------------------------------------------
// Binary and scaled elementwise operations

/** out = a + b. Parallel over elements. */
export function add(start: i32, end: i32, a: usize, b: usize, out: usize, _scratch: usize): void {
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < end; i++) {
    const o = (<usize>i) << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/** out = a − b. Parallel over elements. */
export function sub(start: i32, end: i32, a: usize, b: usize, out: usize, _scratch: usize): void {
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(out + o, f32x4.sub(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < end; i++) {
    const o = (<usize>i) << 2;
    store<f32>(out + o, load<f32>(a + o) - load<f32>(b + o));
  }
}

/** out = a ⊙ b. Parallel over elements. */
export function mul(start: i32, end: i32, a: usize, b: usize, out: usize, _scratch: usize): void {
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < end; i++) {
    const o = (<usize>i) << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/** out = s·a. Parallel over elements. */
export function scale(start: i32, end: i32, a: usize, s: f32, out: usize, _scratch: usize): void {
  const sv = f32x4.splat(s);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), sv));
  }
  for (; i < end; i++) {
    const o = (<usize>i) << 2;
    store<f32>(out + o, load<f32>(a + o) * s);
  }
}

/** y += alpha·x (fused in the relaxed-SIMD build, the tail too). Parallel over elements. */
export function axpy(start: i32, end: i32, x: usize, alpha: f32, y: usize, _scratch: usize): void {
  const av = f32x4.splat(alpha);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(y + o, fma(av, v128.load(x + o), v128.load(y + o)));
  }
  for (; i < end; i++) {
    const o = (<usize>i) << 2;
    const r = fma(av, f32x4.splat(load<f32>(x + o)), f32x4.splat(load<f32>(y + o)));
    store<f32>(y + o, f32x4.extract_lane(r, 0));
  }
}

/** out = a + beta·b. Parallel over elements. */
export function addScaled(
  start: i32,
  end: i32,
  a: usize,
  b: usize,
  beta: f32,
  out: usize,
  _scratch: usize,
): void {
  const bv = f32x4.splat(beta);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(out + o, fma(bv, v128.load(b + o), v128.load(a + o)));
  }
  for (; i < end; i++) {
    const o = (<usize>i) << 2;
    const r = fma(bv, f32x4.splat(load<f32>(b + o)), f32x4.splat(load<f32>(a + o)));
    store<f32>(out + o, f32x4.extract_lane(r, 0));
  }
}

// ---------------------------------------------------------------------------------------------------
// Row vectors (biases) and their gradients

/** out[j] = x[j] + v[j] for j < n (4-lane body, scalar tail). */
function addRun(x: usize, v: usize, out: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = (<usize>j) << 2;
    v128.store(out + o, f32x4.add(v128.load(x + o), v128.load(v + o)));
  }
  for (; j < n; j++) {
    const o = (<usize>j) << 2;
    store<f32>(out + o, load<f32>(x + o) + load<f32>(v + o));
  }
}

/** out[r, c] = x[r, c] + bias[c] for a [rows, cols] matrix. Parallel over rows. */
export function addRowVector(
  start: i32,
  end: i32,
  x: usize,
  bias: usize,
  out: usize,
  cols: i32,
  _scratch: usize,
): void {
  for (let r = start; r < end; r++) {
    const o = (<usize>r * <usize>cols) << 2;
    addRun(x + o, bias, out + o, cols);
  }
}

/**
 * out[r, c] = x[r, c] + v[floor(r / rowsPerGroup), c]: adds one vector per group of rows, e.g. a
 * per-image vector to every pixel of an NHWC batch (rowsPerGroup = H·W). Parallel over rows.
 */
export function addGroupRowVector(
  start: i32,
  end: i32,
  x: usize,
  v: usize,
  out: usize,
  rowsPerGroup: i32,
  cols: i32,
  _scratch: usize,
): void {
  for (let r = start; r < end; r++) {
    const o = (<usize>r * <usize>cols) << 2;
    addRun(x + o, v + ((<usize>(r / rowsPerGroup) * <usize>cols) << 2), out + o, cols);
  }
}

/** Columns per block of float64 column accumulators (16 KiB, stays in L1). */
const COL_BLOCK: i32 = 2048;

/** The low and high halves of a float32 quad, widened to float64. */
@inline
export function low64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
@inline
export function high64(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1));
}

/**
 * acc[j] = Σ_{r < rows} x[r·ld + j] for j < w, in float64 (acc: w doubles). x points at column 0 of the
 * block, ld is the row stride in floats. Each float32 quad is widened to two f64x2 halves; four rows are added
 * in registers before the accumulator in memory is updated (a quarter of the loads and stores, and no chain of
 * store-to-load forwarding from row to row).
 */
export function columnSumsF64(x: usize, ld: i32, rows: i32, w: i32, acc: usize): void {
  memory.fill(acc, 0, (<usize>w) << 3);
  const stride = (<usize>ld) << 2;
  let row = x;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    let j = 0;
    for (; j + 4 <= w; j += 4) {
      const q = row + ((<usize>j) << 2);
      const v0 = v128.load(q);
      const v1 = v128.load(q + stride);
      const v2 = v128.load(q + 2 * stride);
      const v3 = v128.load(q + 3 * stride);
      const p = acc + ((<usize>j) << 3);
      const s0 = f64x2.add(f64x2.add(low64(v0), low64(v1)), f64x2.add(low64(v2), low64(v3)));
      const s1 = f64x2.add(f64x2.add(high64(v0), high64(v1)), f64x2.add(high64(v2), high64(v3)));
      v128.store(p, f64x2.add(v128.load(p), s0));
      v128.store(p, f64x2.add(v128.load(p, 16), s1), 16);
    }
    for (; j < w; j++) {
      const q = row + ((<usize>j) << 2);
      const p = acc + ((<usize>j) << 3);
      const s =
        <f64>load<f32>(q) + <f64>load<f32>(q + stride) +
        (<f64>load<f32>(q + 2 * stride) + <f64>load<f32>(q + 3 * stride));
      store<f64>(p, load<f64>(p) + s);
    }
    row += 4 * stride;
  }
  for (; r < rows; r++) {
    let j = 0;
    for (; j + 4 <= w; j += 4) {
      const v = v128.load(row + ((<usize>j) << 2));
      const p = acc + ((<usize>j) << 3);
      v128.store(p, f64x2.add(v128.load(p), low64(v)));
      v128.store(p, f64x2.add(v128.load(p, 16), high64(v)), 16);
    }
    for (; j < w; j++) {
      const p = acc + ((<usize>j) << 3);
      store<f64>(p, load<f64>(p) + <f64>load<f32>(row + ((<usize>j) << 2)));
    }
    row += stride;
  }
}

/**
 * Column sums of a [rows, cols] matrix (bias gradients) in `parts` fixed row ranges:
 * partials[p][c] = Σ_{r in range p} x[r, c] (float64 [parts][cols]). Parallel dimension: parts (grain 1); sumColumnsFinish adds the parts in a fixed order,
 * so the sums do not depend on the number of threads.
 */
export function sumColumnsPartial(
  p0: i32,
  p1: i32,
  x: usize,
  partials: usize,
  parts: i32,
  rows: i32,
  cols: i32,
  scratch: usize,
): void {
  const per = (rows + parts - 1) / parts;
  for (let p = p0; p < p1; p++) {
    const r0 = min(rows, p * per);
    const r1 = min(rows, r0 + per);
    const dst = partials + ((<usize>p * <usize>cols) << 3);
    for (let c0 = 0; c0 < cols; c0 += COL_BLOCK) {
      const w = min(COL_BLOCK, cols - c0);
      columnSumsF64(x + ((<usize>r0 * <usize>cols + <usize>c0) << 2), cols, r1 - r0, w, dst + ((<usize>c0) << 3));
    }
  }
}

/**
 * out[c] (+)= Σ_p partials[p][c] (p = 0, 1, … in order) rounded once to float32; accumulate = 1 adds to out.
 * Parallel over columns.
 */
export function sumColumnsFinish(
  start: i32,
  end: i32,
  partials: usize,
  parts: i32,
  out: usize,
  cols: i32,
  accumulate: i32,
  scratch: usize,
): void {
  for (let c = start; c < end; c++) {
    let s: f64 = 0;
    for (let p = 0; p < parts; p++) s += load<f64>(partials + ((<usize>p * <usize>cols + <usize>c) << 3));
    const o = out + ((<usize>c) << 2);
    store<f32>(o, accumulate !== 0 ? <f32>(<f64>load<f32>(o) + s) : <f32>s);
  }
}

/**
 * out[g, c] = Σ_{r = g·rowsPerGroup}^{(g+1)·rowsPerGroup − 1} x[r, c] (per-image sums of an NHWC batch with
 * rowsPerGroup = H·W), accumulated in float64. Parallel over groups g. scratch: 16 KiB.
 */
export function sumGroupRows(
  start: i32,
  end: i32,
  x: usize,
  out: usize,
  rowsPerGroup: i32,
  cols: i32,
  scratch: usize,
): void {
  for (let g = start; g < end; g++) {
    const base = x + ((<usize>g * <usize>rowsPerGroup * <usize>cols) << 2);
    for (let c0 = 0; c0 < cols; c0 += COL_BLOCK) {
      const w = min(COL_BLOCK, cols - c0);
      columnSumsF64(base + ((<usize>c0) << 2), cols, rowsPerGroup, w, scratch);
      const o = out + ((<usize>g * <usize>cols + <usize>c0) << 2);
      for (let j = 0; j < w; j++)
        store<f32>(o + ((<usize>j) << 2), <f32>load<f64>(scratch + ((<usize>j) << 3)));
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// SiLU

/** SiLU(x) = x·s(x), s(x) = 1 / (1 + e^(−x)) (the logistic sigmoid). */
@inline
export function siluv(x: v128): v128 {
  const one = onev();
  const s = f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
  return f32x4.mul(x, s);
}

/** out = SiLU(x) = x·sigmoid(x). Parallel over elements. */
export function siluForward(start: i32, end: i32, x: usize, out: usize, _scratch: usize): void {
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(out + o, siluv(v128.load(x + o)));
  }
  for (; i < end; i++) {
    const o = (<usize>i) << 2;
    store<f32>(out + o, f32x4.extract_lane(siluv(f32x4.splat(load<f32>(x + o))), 0));
  }
}

/** Stores SiLU(x) at y and q = min(s, 1 − s) at q (see siluForwardSaving), four lanes. */
@inline
export function siluStoreSaving(x: v128, y: usize, q: usize): void {
  const one = onev();
  const e = expv(f32x4.neg(x));
  const s = f32x4.div(one, f32x4.add(one, e));
  v128.store(y, f32x4.mul(x, s));
  v128.store(q, v128.bitselect(f32x4.mul(e, s), s, f32x4.ge(x, f32x4.splat(0))));
}

/**
 * y = SiLU(x) and q = sigmoid(−|x|) = min(s, 1 − s), s = sigmoid(x), for siluBackwardSaved. q holds whichever
 * of s and 1 − s is the smaller, so both come back without cancellation: with e = e^(−x), 1 − s = e·s for x ≥ 0;
 * where e overflows (x < −88.7) s = 0 is taken directly. Parallel over elements.
 */
export function siluForwardSaving(start: i32, end: i32, x: usize, y: usize, q: usize, _scratch: usize): void {
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    siluStoreSaving(v128.load(x + o), y + o, q + o);
  }
  for (; i < end; i++) {
    const o = (<usize>i) << 2;
    siluStoreSavingScalar(load<f32>(x + o), y + o, q + o);
  }
}

/** siluStoreSaving for one float. */
@inline
export function siluStoreSavingScalar(x: f32, y: usize, q: usize): void {
  const e = expf1(-x);
  const s: f32 = 1 / (1 + e);
  store<f32>(y, x * s);
  store<f32>(q, x >= 0 ? e * s : s);
}

/**
 * SiLU'(x) = s·(1 + x·(1 − s)) from q = min(s, 1 − s) of siluForwardSaving: s = 1 − q and 1 − s = q for x ≥ 0,
 * s = q and 1 − s = 1 − q for x < 0 (1 − q ≥ ½ has no cancellation).
 */
@inline
export function siluGradFromSaved(x: v128, q: v128): v128 {
  const one = onev();
  const positive = f32x4.ge(x, f32x4.splat(0));
  const rest = f32x4.sub(one, q);
  const s = v128.bitselect(rest, q, positive);
  const oneMinusS = v128.bitselect(q, rest, positive);
  return f32x4.mul(s, fma(x, oneMinusS, one));
}

/** dx = dy·SiLU'(x), from q of siluForwardSaving (no exponential). Parallel over elements. */
export function siluBackwardSaved(
  start: i32, end: i32, x: usize, q: usize, dy: usize, dx: usize, _scratch: usize,
): void {
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), siluGradFromSaved(v128.load(x + o), v128.load(q + o))));
  }
  for (; i < end; i++) {
    const o = (<usize>i) << 2;
    const g = siluGradFromSaved(f32x4.splat(load<f32>(x + o)), f32x4.splat(load<f32>(q + o)));
    store<f32>(dx + o, load<f32>(dy + o) * f32x4.extract_lane(g, 0));
  }
}

/** out = e^x (vector exp of vexp.ts: +0 below −87.3365, +∞ from 88.7228). Parallel over elements. */
export function expForward(start: i32, end: i32, x: usize, out: usize, _scratch: usize): void {
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(out + o, expv(v128.load(x + o)));
  }
  for (; i < end; i++) {
    const o = (<usize>i) << 2;
    store<f32>(out + o, expf1(load<f32>(x + o)));
  }
}

// ---------------------------------------------------------------------------------------------------
// Reductions

/**
 * Σ_i (a[i] − b[i])² over [start, end), each term and the sum in float64 (the float32 inputs are widened
 * before subtracting, so the result is the exact-input float64 sum up to float64 rounding). Called
 * single-threaded over the whole range; returns the value.
 */
export function squaredErrorSum(start: i32, end: i32, a: usize, b: usize, _scratch: usize): f64 {
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    const va = v128.load(a + o);
    const vb = v128.load(b + o);
    const d0 = f64x2.sub(f64x2.promote_low_f32x4(va), f64x2.promote_low_f32x4(vb));
    const d1 = f64x2.sub(
      f64x2.promote_low_f32x4(f32x4.shuffle(va, va, 2, 3, 0, 1)),
      f64x2.promote_low_f32x4(f32x4.shuffle(vb, vb, 2, 3, 0, 1)),
    );
    s0 = f64x2.add(s0, f64x2.mul(d0, d0));
    s1 = f64x2.add(s1, f64x2.mul(d1, d1));
  }
  const s = f64x2.add(s0, s1);
  let total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < end; i++) {
    const o = (<usize>i) << 2;
    const d = <f64>load<f32>(a + o) - <f64>load<f32>(b + o);
    total += d * d;
  }
  return total;
}
