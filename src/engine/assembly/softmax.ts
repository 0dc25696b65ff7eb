// Row-wise softmax (attention weights) and its backward, on [rows, cols] float32 matrices.
//
//   y_j = e^(s·x_j − m) / Σ_k e^(s·x_k − m),   m = max_k s·x_k,   s = scale,
// subtracting the row maximum so that no exponential overflows (the largest term is e^0 = 1). The
// exponentials use the vector exp of vexp.ts; the row sum accumulates in float64 and is applied as one
// float32 reciprocal. The shift m only needs to be near the maximum (softmax is shift-invariant), so it is
// the float32 max of the float32 products, while the exponent z = s·x − m is formed in float64 (the product
// of two float32 is exact there) and rounded once: z then carries error ≤ 2^-24·|z| instead of
// 2^-24·|s·x|, which matters when the logits are large. So y has relative error ≲ 4e-7 + 2^-24·|z| (exp
// ≲ 1e-7, z's rounding, and two roundings in the normalization).
//
// Backward: with L a function of y, dL/dx_i = s·y_i·(dy_i − Σ_j dy_j·y_j) (the softmax Jacobian
// ∂y_j/∂z_i = y_j·(δ_ij − y_i), z = s·x, chained with dz/dx = s); the dot product is in float64.
import { expf1, expv } from './vexp';

/** out[r, :] = softmax(scale·x[r, :]). Parallel over rows. out may equal x. */
export function softmaxRows(
  start: i32,
  end: i32,
  x: usize,
  out: usize,
  cols: i32,
  scale: f32,
  _scratch: usize,
): void {
  const sv = f32x4.splat(scale);
  for (let r = start; r < end; r++) {
    const xr = x + ((<usize>r * <usize>cols) << 2);
    const yr = out + ((<usize>r * <usize>cols) << 2);
    // m = max_j scale·x_j (a NaN anywhere makes the row NaN, like the reference).
    let mv = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= cols; j += 4) mv = f32x4.max(mv, f32x4.mul(v128.load(xr + (<usize>j << 2)), sv));
    let m = max(
      max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
      max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)),
    );
    for (; j < cols; j++) m = max(m, load<f32>(xr + (<usize>j << 2)) * scale);
    // y_j = e^(z_j) (unnormalized), z_j = fl32(scale·x_j − m) computed in float64; Σ_j in float64.
    const s64 = f64x2.splat(<f64>scale);
    const m64 = f64x2.splat(<f64>m);
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const q = <usize>j << 2;
      const v = v128.load(xr + q);
      const z0 = f64x2.sub(f64x2.mul(f64x2.promote_low_f32x4(v), s64), m64);
      const z1 = f64x2.sub(f64x2.mul(f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1)), s64), m64);
      const z = f32x4.shuffle(f32x4.demote_f64x2_zero(z0), f32x4.demote_f64x2_zero(z1), 0, 1, 4, 5);
      const e = expv(z);
      v128.store(yr + q, e);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(e));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(f32x4.shuffle(e, e, 2, 3, 0, 1)));
    }
    const s = f64x2.add(s0, s1);
    let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (; j < cols; j++) {
      const q = <usize>j << 2;
      const e = expf1(<f32>(<f64>load<f32>(xr + q) * <f64>scale - <f64>m));
      store<f32>(yr + q, e);
      sum += <f64>e;
    }
    // y_j /= Σ, as one multiplication by the float32 reciprocal.
    const inv = <f32>(1 / sum);
    const iv = f32x4.splat(inv);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const q = <usize>j << 2;
      v128.store(yr + q, f32x4.mul(v128.load(yr + q), iv));
    }
    for (; j < cols; j++) {
      const q = <usize>j << 2;
      store<f32>(yr + q, load<f32>(yr + q) * inv);
    }
  }
}

/** dx[r, :] = scale·y ⊙ (dy − Σ_j dy_j·y_j), y = softmaxRows(x, scale). Parallel over rows. dx may be dy. */
export function softmaxRowsBackward(
  start: i32,
  end: i32,
  y: usize,
  dy: usize,
  dx: usize,
  cols: i32,
  scale: f32,
  _scratch: usize,
): void {
  const sv = f32x4.splat(scale);
  for (let r = start; r < end; r++) {
    const o = (<usize>r * <usize>cols) << 2;
    const yr = y + o;
    const dr = dy + o;
    const xr = dx + o;
    // dot = Σ_j dy_j·y_j in float64.
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const q = <usize>j << 2;
      const a = v128.load(yr + q);
      const b = v128.load(dr + q);
      s0 = f64x2.add(s0, f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b)));
      s1 = f64x2.add(
        s1,
        f64x2.mul(
          f64x2.promote_low_f32x4(f32x4.shuffle(a, a, 2, 3, 0, 1)),
          f64x2.promote_low_f32x4(f32x4.shuffle(b, b, 2, 3, 0, 1)),
        ),
      );
    }
    const s = f64x2.add(s0, s1);
    let dot = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (; j < cols; j++) {
      const q = <usize>j << 2;
      dot += <f64>load<f32>(yr + q) * <f64>load<f32>(dr + q);
    }
    // dx_j = (scale·y_j)·(dy_j − dot).
    const d32 = <f32>dot;
    const dv = f32x4.splat(d32);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const q = <usize>j << 2;
      v128.store(xr + q, f32x4.mul(f32x4.mul(sv, v128.load(yr + q)), f32x4.sub(v128.load(dr + q), dv)));
    }
    for (; j < cols; j++) {
      const q = <usize>j << 2;
      store<f32>(xr + q, scale * load<f32>(yr + q) * (load<f32>(dr + q) - d32));
    }
  }
}
