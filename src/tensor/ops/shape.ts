/** Layout operations on NHWC tensors: nearest upsampling, channel concatenation, row softmax. */
import type { Tensor } from '../tensor.js';
import { assertShape } from './elementwise.js';

/** Nearest-neighbour 2× upsampling [N, H, W, C] → [N, 2H, 2W, C]. Backward sums each 2×2 block. */
export function upsampleNearest2x(x: Tensor): Tensor {
  assertShape(x, 4, 'upsampleNearest2x (NHWC)');
  const [N, H, W, C] = x.shape;
  const ctx = x.ctx;
  const y = ctx.empty([N, 2 * H, 2 * W, C]);
  ctx.engine.parallel('upsampleNearest2x', N * H, 1, [x.ptr, y.ptr, H, W, C]);
  return ctx.record(y, [x], (gy) => {
    const gx = ctx.empty(x.shape);
    ctx.engine.parallel('upsampleNearest2xBackward', N * H, 1, [gy.ptr, gx.ptr, H, W, C]);
    return [gx];
  });
}

/** Concatenation along the last (channel) axis. Backward splits the gradient. */
export function concatChannels(a: Tensor, b: Tensor): Tensor {
  const ca = a.shape[a.shape.length - 1];
  const cb = b.shape[b.shape.length - 1];
  const pixels = a.size / ca;
  if (b.size / cb !== pixels || a.shape.length !== b.shape.length) {
    throw new Error(
      `concatChannels: [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ outside the last axis`,
    );
  }
  const ctx = a.ctx;
  const y = ctx.empty([...a.shape.slice(0, -1), ca + cb]);
  ctx.engine.parallel('concatChannels', pixels, 16, [a.ptr, ca, b.ptr, cb, y.ptr]);
  return ctx.record(y, [a, b], (gy) => {
    const ga = ctx.empty(a.shape);
    const gb = ctx.empty(b.shape);
    ctx.engine.parallel('splitChannels', pixels, 16, [gy.ptr, ca, cb, ga.ptr, gb.ptr]);
    return [a.requiresGrad ? ga : null, b.requiresGrad ? gb : null];
  });
}

/** Softmax of scale·x over the last axis. Backward: dx = scale·y ⊙ (dy − Σ dy ⊙ y). */
export function softmax(x: Tensor, scale = 1): Tensor {
  const cols = x.shape[x.shape.length - 1];
  const rows = x.size / cols;
  const ctx = x.ctx;
  const y = ctx.empty(x.shape);
  ctx.engine.parallel('softmaxRows', rows, 4, [x.ptr, y.ptr, cols, scale]);
  return ctx.record(y, [x], (gy) => {
    const gx = ctx.empty(x.shape);
    ctx.engine.parallel('softmaxRowsBackward', rows, 4, [y.ptr, gy.ptr, gx.ptr, cols, scale]);
    return [gx];
  });
}
