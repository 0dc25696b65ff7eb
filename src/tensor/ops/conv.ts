/** 2-D convolution on NHWC tensors (implicit GEMM kernels in src/engine/assembly/conv.ts). */
import type { Tensor } from '../tensor.js';
import { MR } from './constants.js';
import { addRowVector, assertShape } from './elementwise.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
}

/**
 * y[N, Ho, Wo, Cout] = conv2d(x[N, H, W, Cin], w[kh, kw, Cin, Cout]) + b[Cout], zero padding,
 * Ho = ⌊(H + 2·pad − kh)/stride⌋ + 1. Backward: input and weight gradients by their own implicit-GEMM
 * kernels, the bias gradient by a column sum.
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, options: Conv2dOptions = {}): Tensor {
  assertShape(x, 4, 'conv2d input (NHWC)');
  assertShape(w, 4, 'conv2d weight [kh, kw, Cin, Cout]');
  const stride = options.stride ?? 1;
  const pad = options.padding ?? 0;
  const [N, H, W, Cin] = x.shape;
  const [kh, kw, wCin, Cout] = w.shape;
  if (wCin !== Cin) throw new Error(`conv2d: input has ${Cin} channels, weight expects ${wCin}`);
  const Ho = Math.floor((H + 2 * pad - kh) / stride) + 1;
  const Wo = Math.floor((W + 2 * pad - kw) / stride) + 1;
  if (Ho < 1 || Wo < 1) throw new Error(`conv2d: output would be empty for input ${H}×${W}`);
  const ctx = x.ctx;
  const engine = ctx.engine;
  const geom = [H, W, Cin, Ho, Wo, Cout, kh, kw, stride, pad];
  const y = ctx.empty([N, Ho, Wo, Cout]);
  engine.parallel('conv2dForward', N * Ho * Wo, MR, [x.ptr, w.ptr, y.ptr, ...geom, 0]);
  const out = ctx.record(y, [x, w], (gy) => {
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    if (x.requiresGrad) {
      gx = ctx.empty(x.shape);
      engine.parallel('conv2dBackwardInput', N * H * W, MR, [gy.ptr, w.ptr, gx.ptr, ...geom, 0]);
    }
    if (w.requiresGrad) {
      gw = ctx.empty(w.shape);
      const args = [x.ptr, gy.ptr, gw.ptr, N * Ho * Wo, ...geom, 0];
      if (Cin % 8 === 0 && Cout % 4 === 0) {
        // No packing: tiles of 8 input × 4 output channels read the image and dy directly.
        engine.parallel('conv2dBackwardWeightDirect', ((kh * kw * Cin) / 8) * (Cout / 4), 1, args);
      } else {
        engine.parallel('conv2dBackwardWeight', kh * kw * Cin, MR, args);
      }
    }
    return [gx, gw];
  });
  return b ? addRowVector(out, b) : out;
}
