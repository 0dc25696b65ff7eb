/**
 * Layout operations on NHWC tensors: nearest upsampling, spatial crop and zero padding, channel concatenation, row
 * softmax.
 */
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

/**
 * The top-left corner [N, height, width, C] of x [N, H, W, C]: rows h < height, columns w < width. Backward:
 * the gradient in that corner, zeros elsewhere (the adjoint of the crop). The UNet's decoder uses it to bring a
 * 2× upsampled map back to an odd skip size (7×7 → 4×4 → 8×8 → 7×7). A copy in JavaScript: one run of
 * width·C floats per kept row, no kernel needed.
 */
export function cropSpatial(x: Tensor, height: number, width: number): Tensor {
  assertShape(x, 4, 'cropSpatial (NHWC)');
  const [N, H, W, C] = x.shape;
  if (!(
    Number.isInteger(height) &&
    Number.isInteger(width) &&
    height >= 1 &&
    width >= 1 &&
    height <= H &&
    width <= W
  ))
    throw new Error(`cropSpatial: cannot crop [${x.shape.join(', ')}] to ${height}×${width}`);
  const ctx = x.ctx;
  // Row r = n·height + h of the crop is row n·H + h of x, its first width·C floats.
  const copyRows = (from: Float32Array, to: Float32Array, fromIsX: boolean) => {
    const run = width * C;
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < height; h++) {
        const xRow = (n * H + h) * W * C;
        const cRow = (n * height + h) * width * C;
        const src = fromIsX ? xRow : cRow;
        const dst = fromIsX ? cRow : xRow;
        to.set(from.subarray(src, src + run), dst);
      }
    }
  };
  const y = ctx.empty([N, height, width, C]);
  copyRows(x.view(), y.view(), true);
  return ctx.record(y, [x], (gy) => {
    const gx = ctx.zeros(x.shape);
    copyRows(gy.view(), gx.view(), false);
    return [gx];
  });
}

/**
 * Zero padding at the bottom and right: [N, H, W, C] → [N, H + bottom, W + right, C], x in the top-left corner
 * (torch.nn.functional.pad(x, (0, right, 0, bottom)) in NCHW). diffusers' Downsample2D pads (0, 1, 0, 1) before
 * its stride-2 convolution when downsample_padding is 0. Backward: the gradient's top-left corner (cropSpatial).
 */
export function padBottomRight(x: Tensor, bottom: number, right: number): Tensor {
  assertShape(x, 4, 'padBottomRight (NHWC)');
  if (!(Number.isInteger(bottom) && Number.isInteger(right) && bottom >= 0 && right >= 0))
    throw new Error(`padBottomRight: padding must be integers ≥ 0, got ${bottom}, ${right}`);
  const [N, H, W, C] = x.shape;
  const ctx = x.ctx;
  const [Hp, Wp] = [H + bottom, W + right];
  const y = ctx.zeros([N, Hp, Wp, C]);
  const [xv, yv] = [x.view(), y.view()];
  for (let r = 0; r < N * H; r++) {
    const [n, h] = [Math.floor(r / H), r % H];
    yv.set(xv.subarray(r * W * C, (r + 1) * W * C), (n * Hp + h) * Wp * C);
  }
  return ctx.record(y, [x], (gy) => [cropSpatial(gy, H, W)]);
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
