/** Elementwise arithmetic, broadcasting of row vectors, reductions, activations and the MSE loss. */
import type { Tensor } from '../tensor.js';
import { ELEMENT_GRAIN, PARTIAL_SUMS } from './constants.js';

/** Throws unless `t` has rank `rank`, naming `what`. */
export function assertShape(t: Tensor, rank: number, what: string): void {
  if (t.shape.length !== rank)
    throw new Error(`${what}: expected a ${rank}-D tensor, got [${t.shape.join(', ')}]`);
}

function assertSameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: shapes differ: [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
  }
}

function elementwise(kernel: string, out: Tensor, args: readonly number[]): void {
  out.ctx.engine.parallel(kernel, out.size, ELEMENT_GRAIN, args);
}

/** Last dimension (columns) and the product of the others (rows). */
function rowsCols(t: Tensor): [number, number] {
  const cols = t.shape[t.shape.length - 1];
  return [t.size / cols, cols];
}

/** a + b elementwise (same shapes). */
export function add(a: Tensor, b: Tensor): Tensor {
  assertSameShape(a, b, 'add');
  const ctx = a.ctx;
  const y = ctx.empty(a.shape);
  elementwise('add', y, [a.ptr, b.ptr, y.ptr]);
  return ctx.record(y, [a, b], (gy) => [a.requiresGrad ? gy : null, b.requiresGrad ? copy(gy) : null]);
}

/** a − b elementwise (same shapes). */
export function sub(a: Tensor, b: Tensor): Tensor {
  assertSameShape(a, b, 'sub');
  const ctx = a.ctx;
  const y = ctx.empty(a.shape);
  elementwise('sub', y, [a.ptr, b.ptr, y.ptr]);
  return ctx.record(y, [a, b], (gy) => [a.requiresGrad ? gy : null, b.requiresGrad ? scale(gy, -1) : null]);
}

/** a ⊙ b elementwise (same shapes). */
export function mul(a: Tensor, b: Tensor): Tensor {
  assertSameShape(a, b, 'mul');
  const ctx = a.ctx;
  const y = ctx.empty(a.shape);
  elementwise('mul', y, [a.ptr, b.ptr, y.ptr]);
  return ctx.record(y, [a, b], (gy) => [
    a.requiresGrad ? mul(gy, b) : null,
    b.requiresGrad ? mul(gy, a) : null,
  ]);
}

/** y = s·a for a constant s. */
export function scale(a: Tensor, s: number): Tensor {
  const ctx = a.ctx;
  const y = ctx.empty(a.shape);
  elementwise('scale', y, [a.ptr, s, y.ptr]);
  return ctx.record(y, [a], (gy) => [scale(gy, s)]);
}

/** A copy of a (no gradient is recorded). */
export function copy(a: Tensor): Tensor {
  const y = a.ctx.empty(a.shape);
  elementwise('copy', y, [a.ptr, y.ptr]);
  return y;
}

/** y[r, c] = x[r, c] + v[c] over the last dimension (bias addition). Backward: dv = Σ_r dy[r, :]. */
export function addRowVector(x: Tensor, v: Tensor): Tensor {
  const [rows, cols] = rowsCols(x);
  if (v.size !== cols) throw new Error(`addRowVector: vector of ${v.size} for ${cols} columns`);
  const ctx = x.ctx;
  const y = ctx.empty(x.shape);
  ctx.engine.parallel('addRowVector', rows, 16, [x.ptr, v.ptr, y.ptr, cols]);
  return ctx.record(y, [x, v], (gy) => [
    x.requiresGrad ? gy : null,
    v.requiresGrad ? sumColumns(gy, v.shape) : null,
  ]);
}

/**
 * y[n, …, c] = x[n, …, c] + v[n, c]: one vector per leading index (e.g. a timestep embedding added to
 * every pixel of image n). Backward: dv[n] = Σ over the image's rows.
 */
export function addPerImage(x: Tensor, v: Tensor): Tensor {
  const n = x.shape[0];
  const cols = x.shape[x.shape.length - 1];
  if (v.size !== n * cols) throw new Error(`addPerImage: vector of ${v.size} for ${n}×${cols}`);
  const rowsPer = x.size / n / cols;
  const ctx = x.ctx;
  const y = ctx.empty(x.shape);
  ctx.engine.parallel('addGroupRowVector', x.size / cols, 16, [x.ptr, v.ptr, y.ptr, rowsPer, cols]);
  return ctx.record(y, [x, v], (gy) => {
    let gv: Tensor | null = null;
    if (v.requiresGrad) {
      gv = ctx.empty(v.shape);
      ctx.engine.parallel('sumGroupRows', n, 1, [gy.ptr, gv.ptr, rowsPer, cols]);
    }
    return [x.requiresGrad ? gy : null, gv];
  });
}

/**
 * Rows from which a column sum is split into PARTIAL_SUMS row ranges summed on all threads (below it, one
 * range: one thread reads the whole matrix faster than the others can be woken).
 */
const PARALLEL_COLUMN_SUM_ROWS = 4096;

/**
 * Σ over all but the last dimension: out[c] = Σ_r x[r, c] in float64, rounded once (no gradient recorded).
 * Tall matrices (bias gradients of convolutions: one row per pixel) are summed in PARTIAL_SUMS fixed row
 * ranges added up in order, so the result depends on the shape only, not on the threads.
 */
export function sumColumns(x: Tensor, shape?: readonly number[]): Tensor {
  const [rows, cols] = rowsCols(x);
  const engine = x.ctx.engine;
  const out = x.ctx.empty(shape ?? [cols]);
  const parts = rows < PARALLEL_COLUMN_SUM_ROWS ? 1 : PARTIAL_SUMS;
  const bytes = parts * cols * 8;
  const partials = engine.heap.alloc(bytes);
  try {
    engine.parallel('sumColumnsPartial', parts, 1, [x.ptr, partials, parts, rows, cols]);
    engine.parallel('sumColumnsFinish', cols, Math.max(cols / 2, 64), [partials, parts, out.ptr, cols, 0]);
  } finally {
    engine.heap.free(partials, bytes);
  }
  return out;
}

/**
 * SiLU(x) = x·σ(x). Backward: SiLU'(x) = σ(x)(1 + x(1 − σ(x))), from min(σ(x), 1 − σ(x)) saved by the forward
 * pass (one tensor more until the backward; no exponential in it).
 */
export function silu(x: Tensor): Tensor {
  const ctx = x.ctx;
  const y = ctx.empty(x.shape);
  if (!ctx.willRecord([x])) {
    elementwise('siluForward', y, [x.ptr, y.ptr]);
    return y;
  }
  const q = ctx.empty(x.shape);
  elementwise('siluForwardSaving', y, [x.ptr, y.ptr, q.ptr]);
  return ctx.record(y, [x], (gy) => {
    const gx = ctx.empty(x.shape);
    elementwise('siluBackwardSaved', gx, [x.ptr, q.ptr, gy.ptr, gx.ptr]);
    return [gx];
  });
}

/**
 * Mean squared error mean((a − b)²) as a one-element tensor (float64 accumulation).
 * Backward: da = 2(a − b)/n · dy.
 */
export function mseLoss(a: Tensor, b: Tensor): Tensor {
  assertSameShape(a, b, 'mseLoss');
  const ctx = a.ctx;
  const sum = ctx.engine.k['squaredErrorSum'](0, a.size, a.ptr, b.ptr, ctx.engine.scratch[0]);
  const loss = ctx.fromArray([sum / a.size], [1]);
  return ctx.record(loss, [a, b], (gl) => {
    const g = (2 / a.size) * gl.item();
    const diff = ctx.empty(a.shape);
    elementwise('sub', diff, [a.ptr, b.ptr, diff.ptr]);
    elementwise('scale', diff, [diff.ptr, g, diff.ptr]);
    return [a.requiresGrad ? diff : null, b.requiresGrad ? scale(diff, -1) : null];
  });
}
