/**
 * Pointwise functions, reductions and small layout ops computed with plain loops over the heap (for the
 * small tensors of MLPs, VAEs and losses; the UNet's hot paths use SIMD kernels instead).
 */
import type { Tensor } from '../tensor.js';

type Unary = { f: (x: number) => number; df: (x: number, y: number) => number };

/** f and its derivative written in terms of x and y = f(x). */
const UNARY = {
  relu: { f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0) },
  tanh: { f: Math.tanh, df: (_x, y) => 1 - y * y },
  sigmoid: { f: (x) => 1 / (1 + Math.exp(-x)), df: (_x, y) => y * (1 - y) },
  /** softplus(x) = log(1 + eˣ), computed stably. */
  softplus: {
    f: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
    df: (x) => 1 / (1 + Math.exp(-x)),
  },
  exp: { f: Math.exp, df: (_x, y) => y },
  log: { f: Math.log, df: (x) => 1 / x },
  square: { f: (x) => x * x, df: (x) => 2 * x },
} satisfies Record<string, Unary>;

/** The functions {@link unary} knows. */
export type UnaryName = keyof typeof UNARY;

/** y = f(x) elementwise for a named f (relu, tanh, sigmoid, softplus, exp, log, square). */
export function unary(name: UnaryName, x: Tensor): Tensor {
  const { f, df } = UNARY[name] as Unary;
  const ctx = x.ctx;
  const y = ctx.empty(x.shape);
  const xv = x.view();
  const yv = y.view();
  for (let i = 0; i < xv.length; i++) yv[i] = f(xv[i]);
  return ctx.record(y, [x], (gy) => {
    const gx = ctx.empty(x.shape);
    const [xs, ys, gys, gxs] = [x.view(), y.view(), gy.view(), gx.view()];
    for (let i = 0; i < xs.length; i++) gxs[i] = gys[i] * df(xs[i], ys[i]);
    return [gx];
  });
}

/** max(x, 0) elementwise. */
export const relu = (x: Tensor) => unary('relu', x);
/** tanh x elementwise. */
export const tanh = (x: Tensor) => unary('tanh', x);
/** σ(x) = 1/(1 + e^{−x}) elementwise. */
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
/** log(1 + eˣ) elementwise. */
export const softplus = (x: Tensor) => unary('softplus', x);
/** eˣ elementwise. */
export const exp = (x: Tensor) => unary('exp', x);
/** log x elementwise. */
export const log = (x: Tensor) => unary('log', x);

/** Σ of all elements, as a one-element tensor (float64 accumulation). */
export function sum(x: Tensor): Tensor {
  const ctx = x.ctx;
  let s = 0;
  for (const v of x.view()) s += v;
  const y = ctx.fromArray([s], [1]);
  return ctx.record(y, [x], (gy) => [ctx.full(x.shape, gy.item())]);
}

/** Mean of all elements. */
export function mean(x: Tensor): Tensor {
  const ctx = x.ctx;
  let s = 0;
  for (const v of x.view()) s += v;
  const y = ctx.fromArray([s / x.size], [1]);
  return ctx.record(y, [x], (gy) => [ctx.full(x.shape, gy.item() / x.size)]);
}

/** Σ over the last axis: [..., n] → [...]. */
export function sumLastAxis(x: Tensor): Tensor {
  const n = x.shape[x.shape.length - 1];
  const rows = x.size / n;
  const ctx = x.ctx;
  const y = ctx.empty(x.shape.slice(0, -1).length ? x.shape.slice(0, -1) : [1]);
  const xv = x.view();
  const yv = y.view();
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += xv[r * n + j];
    yv[r] = s;
  }
  return ctx.record(y, [x], (gy) => {
    const gx = ctx.empty(x.shape);
    const [g, gxv] = [gy.view(), gx.view()];
    for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) gxv[r * n + j] = g[r];
    return [gx];
  });
}

/**
 * log Σ_j exp(x_j) over the last axis, stably (subtracting the row maximum).
 * Backward: ∂/∂x_j = softmax(x)_j.
 */
export function logSumExp(x: Tensor): Tensor {
  const n = x.shape[x.shape.length - 1];
  const rows = x.size / n;
  const ctx = x.ctx;
  const y = ctx.empty(x.shape.slice(0, -1).length ? x.shape.slice(0, -1) : [1]);
  const xv = x.view();
  const yv = y.view();
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, xv[r * n + j]);
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(xv[r * n + j] - m);
    yv[r] = m === -Infinity ? -Infinity : m + Math.log(s);
  }
  return ctx.record(y, [x], (gy) => {
    const gx = ctx.empty(x.shape);
    const [xs, ys, g, gxv] = [x.view(), y.view(), gy.view(), gx.view()];
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < n; j++) gxv[r * n + j] = g[r] * Math.exp(xs[r * n + j] - ys[r]);
    return [gx];
  });
}

/** Transpose of a 2-D tensor (a copy). */
export function transpose(x: Tensor): Tensor {
  if (x.shape.length !== 2) throw new Error(`transpose: expected a 2-D tensor, got [${x.shape.join(', ')}]`);
  const [r, c] = x.shape;
  const ctx = x.ctx;
  const y = ctx.empty([c, r]);
  const [xv, yv] = [x.view(), y.view()];
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) yv[j * r + i] = xv[i * c + j];
  return ctx.record(y, [x], (gy) => [transpose(gy)]);
}

/** Columns [start, end) of the last axis: [..., n] → [..., end − start]. Backward scatters into zeros. */
export function sliceLastAxis(x: Tensor, start: number, end: number): Tensor {
  const n = x.shape[x.shape.length - 1];
  if (!(0 <= start && start < end && end <= n))
    throw new Error(`sliceLastAxis: [${start}, ${end}) outside [0, ${n})`);
  const w = end - start;
  const rows = x.size / n;
  const ctx = x.ctx;
  const y = ctx.empty([...x.shape.slice(0, -1), w]);
  const [xv, yv] = [x.view(), y.view()];
  for (let r = 0; r < rows; r++) yv.set(xv.subarray(r * n + start, r * n + end), r * w);
  return ctx.record(y, [x], (gy) => {
    const gx = ctx.zeros(x.shape);
    const [g, gxv] = [gy.view(), gx.view()];
    for (let r = 0; r < rows; r++) gxv.set(g.subarray(r * w, (r + 1) * w), r * n + start);
    return [gx];
  });
}

/**
 * Cross-entropy of logits [rows, classes] against integer labels, averaged over rows:
 * mean_r (logΣ_j exp(z_rj) − z_r,label). Backward: (softmax(z) − onehot)/rows.
 */
export function crossEntropy(logits: Tensor, labels: ArrayLike<number>): Tensor {
  const [rows, k] = logits.shape;
  if (logits.shape.length !== 2 || labels.length !== rows) {
    throw new Error(`crossEntropy: logits [${logits.shape.join(', ')}] vs ${labels.length} labels`);
  }
  const ctx = logits.ctx;
  const z = logits.view();
  const lse = new Float64Array(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, z[r * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(z[r * k + j] - m);
    lse[r] = m + Math.log(s);
    const label = labels[r];
    if (!Number.isInteger(label) || label < 0 || label >= k)
      throw new Error(`crossEntropy: label ${label} outside [0, ${k})`);
    total += lse[r] - z[r * k + label];
  }
  const y = ctx.fromArray([total / rows], [1]);
  return ctx.record(y, [logits], (gy) => {
    const g = gy.item() / rows;
    const gx = ctx.empty(logits.shape);
    const [zs, gxv] = [logits.view(), gx.view()];
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < k; j++)
        gxv[r * k + j] = g * (Math.exp(zs[r * k + j] - lse[r]) - (j === labels[r] ? 1 : 0));
    }
    return [gx];
  });
}
