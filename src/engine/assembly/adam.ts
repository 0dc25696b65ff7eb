// Adam / AdamW parameter updates and the exponential moving average of parameters.
//
// adamStep follows torch.optim.Adam (Kingma & Ba 2015, Algorithm 1) and, with decoupled = 1,
// torch.optim.AdamW (Loshchilov & Hutter 2019), in PyTorch's operation order (torch/optim/adam.py,
// _single_tensor_adam, amsgrad = maximize = False), step t ≥ 1:
//   decoupled = 0, wd ≠ 0:  g ← g + wd·θ                  (L2 penalty folded into the gradient)
//   decoupled = 1, wd ≠ 0:  θ ← θ·(1 − lr·wd)             (decoupled weight decay, applied first)
//   m ← m + (1 − β1)·(g − m)          (= β1·m + (1 − β1)·g; PyTorch's exp_avg.lerp_(g, 1 − β1))
//   v ← β2·v + (1 − β2)·g·g
//   θ ← θ − (lr/bc1)·m / (√v/√bc2 + eps),   bc1 = 1 − β1^t,  bc2 = 1 − β2^t (passed in by the caller)
// which equals θ − lr·(m/bc1)/(√(v/bc2) + eps). The gradient array itself is not modified. The scalars
// lr/bc1, √bc2 and 1 − lr·wd are formed in float64 and rounded once, as PyTorch does with Python floats.
import { fma } from './simd';

/** One 4-lane Adam update of θ, m, v at byte offset o (g is read only). */
function adam4(
  param: usize,
  grad: usize,
  m: usize,
  v: usize,
  o: usize,
  oneMinusB1: v128,
  b2: v128,
  oneMinusB2: v128,
  eps: v128,
  wd: v128,
  decay: v128,
  stepSize: v128,
  bc2Sqrt: v128,
  mode: i32,
): void {
  let p = v128.load(param + o);
  let g = v128.load(grad + o);
  if (mode === 1) g = fma(wd, p, g); // Adam: g + wd·θ
  else if (mode === 2) p = f32x4.mul(p, decay); // AdamW: θ·(1 − lr·wd)
  let mm = v128.load(m + o);
  mm = fma(oneMinusB1, f32x4.sub(g, mm), mm);
  let vv = f32x4.mul(b2, v128.load(v + o));
  vv = fma(f32x4.mul(oneMinusB2, g), g, vv);
  const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), bc2Sqrt), eps);
  p = f32x4.sub(p, f32x4.mul(stepSize, f32x4.div(mm, denom)));
  v128.store(m + o, mm);
  v128.store(v + o, vv);
  v128.store(param + o, p);
}

/**
 * One Adam (decoupled = 0) or AdamW (decoupled = 1) step on float32 arrays param, grad, m, v; bc1 = 1 − β1^t,
 * bc2 = 1 − β2^t for the step t being taken (t = 1 first). Parallel over elements. scratch: 64 bytes (tail).
 */
export function adamStep(
  start: i32,
  end: i32,
  param: usize,
  grad: usize,
  m: usize,
  v: usize,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weightDecay: f32,
  biasCorrection1: f32,
  biasCorrection2: f32,
  decoupled: i32,
  scratch: usize,
): void {
  const mode = weightDecay === 0 ? 0 : decoupled !== 0 ? 2 : 1;
  const oneMinusB1 = f32x4.splat(<f32>(1 - <f64>beta1));
  const b2 = f32x4.splat(beta2);
  const oneMinusB2 = f32x4.splat(<f32>(1 - <f64>beta2));
  const ev = f32x4.splat(eps);
  const wd = f32x4.splat(weightDecay);
  const decay = f32x4.splat(<f32>(1 - <f64>lr * <f64>weightDecay));
  const stepSize = f32x4.splat(<f32>(<f64>lr / <f64>biasCorrection1));
  const bc2Sqrt = f32x4.splat(<f32>Math.sqrt(<f64>biasCorrection2));
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = (<usize>i) << 2;
    adam4(param, grad, m, v, o, oneMinusB1, b2, oneMinusB2, ev, wd, decay, stepSize, bc2Sqrt, mode);
  }
  const rest = end - i;
  if (rest > 0) {
    // Tail: stage the last < 4 elements of each array in scratch and run the same 4-lane update there.
    const o = <usize>i << 2;
    const n = <usize>rest << 2;
    memory.fill(scratch, 0, 64);
    memory.copy(scratch, param + o, n);
    memory.copy(scratch + 16, grad + o, n);
    memory.copy(scratch + 32, m + o, n);
    memory.copy(scratch + 48, v + o, n);
    const s = scratch;
    adam4(s, s + 16, s + 32, s + 48, 0, oneMinusB1, b2, oneMinusB2, ev, wd, decay, stepSize, bc2Sqrt, mode);
    memory.copy(param + o, scratch, n);
    memory.copy(m + o, scratch + 32, n);
    memory.copy(v + o, scratch + 48, n);
  }
}

/** ema ← decay·ema + (1 − decay)·param (e.g. the EMA of DDPM weights). Parallel over elements. */
export function emaUpdate(start: i32, end: i32, ema: usize, param: usize, decay: f32, _scratch: usize): void {
  const d = f32x4.splat(decay);
  const w = f32x4.splat(<f32>(1 - <f64>decay));
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(ema + o, fma(d, v128.load(ema + o), f32x4.mul(w, v128.load(param + o))));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const r = fma(d, f32x4.splat(load<f32>(ema + o)), f32x4.mul(w, f32x4.splat(load<f32>(param + o))));
    store<f32>(ema + o, f32x4.extract_lane(r, 0));
  }
}
