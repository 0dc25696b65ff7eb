/** Matrix products and linear layers (row-major; weights stored [in, out] so y = x·W + b). */
import type { Tensor } from '../tensor.js';
import { MR } from './constants.js';
import { addRowVector, assertShape } from './elementwise.js';

/** Rows of op(a) — the parallel grain of gemm is MR rows. */
function gemmInto(
  out: Tensor,
  a: Tensor,
  transA: boolean,
  b: Tensor,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  accumulate: boolean,
): void {
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  out.ctx.engine.parallel('gemm', m, MR, [
    n,
    k,
    a.ptr,
    lda,
    +transA,
    b.ptr,
    ldb,
    +transB,
    out.ptr,
    n,
    +accumulate,
  ]);
}

/**
 * C = op(A)·op(B) for 2-D tensors; op transposes when the flag is set.
 * Backward: dA = dC·op(B)ᵀ (transposed back if transA), dB = op(A)ᵀ·dC.
 */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error('matmul: both operands must be 2-D');
  const [m, ka] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (ka !== kb) throw new Error(`matmul: inner dimensions differ (${ka} vs ${kb})`);
  const ctx = a.ctx;
  const c = ctx.empty([m, n]);
  gemmInto(c, a, transA, b, transB, m, n, ka, false);
  return ctx.record(c, [a, b], (gc) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      if (!transA) {
        ga = ctx.empty([m, ka]); // dA = dC · op(B)ᵀ
        gemmInto(ga, gc, false, b, !transB, m, ka, n, false);
      } else {
        ga = ctx.empty([ka, m]); // A stored [k, m]: dA = op(B) · dCᵀ
        gemmInto(ga, b, transB, gc, true, ka, m, n, false);
      }
    }
    if (b.requiresGrad) {
      if (!transB) {
        gb = ctx.empty([ka, n]); // dB = op(A)ᵀ · dC
        gemmInto(gb, a, !transA, gc, false, ka, n, m, false);
      } else {
        gb = ctx.empty([n, ka]); // B stored [n, k]: dB = dCᵀ · op(A)
        gemmInto(gb, gc, true, a, transA, n, ka, m, false);
      }
    }
    return [ga, gb];
  });
}

/** y = x·W + b with x [rows, in], W [in, out], b [out]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  assertShape(weight, 2, 'linear weight');
  const y = matmul(x, weight);
  return bias ? addRowVector(y, bias) : y;
}

/**
 * Batched product over a leading batch axis: C[b] = op(A[b])·op(B[b]) for 3-D tensors.
 * Parallel over the batch.
 */
export function bmm(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  assertShape(a, 3, 'bmm a');
  assertShape(b, 3, 'bmm b');
  const batch = a.shape[0];
  if (b.shape[0] !== batch) throw new Error('bmm: batch sizes differ');
  const [m, ka] = transA ? [a.shape[2], a.shape[1]] : [a.shape[1], a.shape[2]];
  const [kb, n] = transB ? [b.shape[2], b.shape[1]] : [b.shape[1], b.shape[2]];
  if (ka !== kb) throw new Error(`bmm: inner dimensions differ (${ka} vs ${kb})`);
  const ctx = a.ctx;
  const run = (
    out: Tensor,
    x: Tensor,
    tx: boolean,
    y: Tensor,
    ty: boolean,
    mm: number,
    nn: number,
    kk: number,
  ) => {
    const lda = tx ? mm : kk;
    const ldb = ty ? kk : nn;
    const sx = x.size / batch;
    const sy = y.size / batch;
    ctx.engine.parallel('gemmBatched', batch, 1, [
      mm,
      nn,
      kk,
      x.ptr,
      lda,
      +tx,
      sx,
      y.ptr,
      ldb,
      +ty,
      sy,
      out.ptr,
      nn,
      0,
      mm * nn,
    ]);
  };
  const c = ctx.empty([batch, m, n]);
  run(c, a, transA, b, transB, m, n, ka);
  return ctx.record(c, [a, b], (gc) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      ga = ctx.empty(a.shape);
      if (!transA) run(ga, gc, false, b, !transB, m, ka, n);
      else run(ga, b, transB, gc, true, ka, m, n);
    }
    if (b.requiresGrad) {
      gb = ctx.empty(b.shape);
      if (!transB) run(gb, a, !transA, gc, false, ka, n, m);
      else run(gb, gc, true, a, transA, n, ka, m);
    }
    return [ga, gb];
  });
}
