/**
 * 2-D convolution on NHWC tensors: implicit GEMM kernels (src/engine/assembly/conv.ts), Winograd
 * F(m×m, 3×3), m = 2 or 4, for 3×3 stride-1 'same' convolutions (src/engine/assembly/winograd.ts), and
 * single-channel kernels for stride-1 convolutions with one input or output channel
 * (src/engine/assembly/thinconv.ts).
 */
import type { Engine } from '../../engine/engine.js';
import type { Tensor } from '../tensor.js';
import { MR, PARTIAL_SUMS } from './constants.js';
import { assertShape, sumColumns } from './elementwise.js';

/** Stride and zero padding of {@link conv2d} (default 1 and 0). */
export interface Conv2dOptions {
  stride?: number;
  padding?: number;
}

/**
 * y[N, Ho, Wo, Cout] = conv2d(x[N, H, W, Cin], w[kh, kw, Cin, Cout]) + b[Cout], zero padding,
 * Ho = ⌊(H + 2·pad − kh)/stride⌋ + 1; the kernels add the bias as they write y. Backward: input and weight
 * gradients by their own implicit-GEMM kernels (or Winograd's, see winogradEligible, or the single-channel
 * ones, see thinConvEligible), the bias gradient by a column sum.
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, options: Conv2dOptions = {}): Tensor {
  assertShape(x, 4, 'conv2d input (NHWC)');
  assertShape(w, 4, 'conv2d weight [kh, kw, Cin, Cout]');
  const stride = options.stride ?? 1;
  const pad = options.padding ?? 0;
  const [N, H, W, Cin] = x.shape;
  const [kh, kw, wCin, Cout] = w.shape;
  if (wCin !== Cin) throw new Error(`conv2d: input has ${Cin} channels, weight expects ${wCin}`);
  if (b && b.size !== Cout) throw new Error(`conv2d: bias of ${b.size} for ${Cout} output channels`);
  const Ho = Math.floor((H + 2 * pad - kh) / stride) + 1;
  const Wo = Math.floor((W + 2 * pad - kw) / stride) + 1;
  if (Ho < 1 || Wo < 1) throw new Error(`conv2d: output would be empty for input ${H}×${W}`);
  const ctx = x.ctx;
  const engine = ctx.engine;
  const geom = [H, W, Cin, Ho, Wo, Cout, kh, kw, stride, pad];
  const winograd = engine.winograd && winogradEligible(kh, kw, stride, pad, Cin, Cout);
  const thin = thinConvEligible(stride, Cin, Cout);
  const thinGeom: ThinConvGeometry = { N, H, W, Ho, Wo, C: Cin * Cout, kh, kw, pad }; // Cin or Cout is 1
  const y = ctx.empty([N, Ho, Wo, Cout]);
  const bias = b ? b.ptr : 0;
  if (winograd) winogradConv(engine, x.ptr, w.ptr, bias, y.ptr, [N, H, W, Cin, Cout], false);
  else if (thin) thinConvForward(engine, thin, x.ptr, w.ptr, bias, y.ptr, thinGeom);
  else engine.parallel('conv2dForward', N * Ho * Wo, MR, [x.ptr, w.ptr, y.ptr, ...geom, 0, bias]);
  return ctx.record(y, b ? [x, w, b] : [x, w], (gy) => {
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    if (x.requiresGrad) {
      gx = ctx.empty(x.shape);
      if (winograd) winogradConv(engine, gy.ptr, w.ptr, 0, gx.ptr, [N, H, W, Cin, Cout], true);
      else if (thin) thinConvInputGrad(engine, thin, gy.ptr, w.ptr, gx.ptr, thinGeom);
      else engine.parallel('conv2dBackwardInput', N * H * W, MR, [gy.ptr, w.ptr, gx.ptr, ...geom, 0]);
    }
    if (w.requiresGrad) {
      gw = ctx.empty(w.shape);
      if (winograd) winogradWeightGrad(engine, x.ptr, gy.ptr, gw.ptr, [N, H, W, Cin, Cout]);
      else if (thin) thinConvWeightGrad(engine, thin, x.ptr, gy.ptr, gw.ptr, thinGeom);
      else directWeightGrad(engine, x.ptr, gy.ptr, gw.ptr, N * Ho * Wo, geom);
    }
    return b ? [gx, gw, b.requiresGrad ? sumColumns(gy, b.shape) : null] : [gx, gw];
  });
}

/**
 * dw[kh, kw, Cin, Cout] = Σ_p patch(p)ᵀ dy[p] over the nPix output pixels, without packing: tiles of 8 input × 4
 * output channels read the image and dy directly (partial tiles at the end of the channels, as in a 1-channel
 * input or output convolution, discard the lanes and rows they read past them). Pixel ranges in parallel, then
 * their sums in a fixed order. geom = [H, W, Cin, Ho, Wo, Cout, kh, kw, stride, pad].
 */
export function directWeightGrad(
  engine: Engine,
  x: number,
  dy: number,
  dw: number,
  nPix: number,
  geom: readonly number[],
): void {
  const [, , Cin, , , Cout, kh, kw] = geom;
  const parts = PARTIAL_SUMS;
  const tiles = kh * kw * Math.ceil(Cin / 8) * Math.ceil(Cout / 4);
  const bytes = parts * tiles * 128; // [part][tile][4][8] floats
  const partials = engine.heap.alloc(bytes);
  try {
    engine.parallel('conv2dBackwardWeightDirect', parts, 1, [x, dy, partials, parts, nPix, ...geom]);
    const finish = [partials, parts, dw, Cin, Cout, kh, kw, 0]; // 0: overwrite dw, do not accumulate
    engine.parallel('conv2dBackwardWeightDirectFinish', tiles, 1, finish);
  } finally {
    engine.heap.free(partials, bytes);
  }
}

/**
 * Stride-1 convolutions with one input channel ('in', e.g. image → features) or one output channel ('out',
 * features → image) and the other side a multiple of 4 run on the single-channel kernels
 * (src/engine/assembly/thinconv.ts); null: the general ones.
 */
export function thinConvEligible(stride: number, Cin: number, Cout: number): 'in' | 'out' | null {
  if (stride !== 1) return null;
  if (Cin === 1 && Cout % 4 === 0) return 'in';
  if (Cout === 1 && Cin % 4 === 0) return 'out';
  return null;
}

/**
 * A stride-1 convolution with one input or one output channel: input x[N, H, W, ·], output [N, Ho, Wo, ·],
 * C the channel count of the other side, kh×kw taps with zero padding pad.
 */
export interface ThinConvGeometry {
  N: number;
  H: number;
  W: number;
  Ho: number;
  Wo: number;
  C: number;
  kh: number;
  kw: number;
  pad: number;
}

/** y = conv(x, w) + bias (bias = 0: none): one channel broadcast to C ('in') or C reduced to one ('out'). */
export function thinConvForward(
  engine: Engine,
  thin: 'in' | 'out',
  x: number,
  w: number,
  bias: number,
  y: number,
  g: ThinConvGeometry,
): void {
  const kernel = thin === 'in' ? 'convBroadcast' : 'convReduce';
  // Result pixel (a, b) reads source pixel (a + ky − pad, b + kx − pad): direction +1.
  const args = [x, w, y, g.H, g.W, g.Ho, g.Wo, g.C, g.kh, g.kw, g.pad, 1, 0, bias];
  engine.parallel(kernel, g.N * g.Ho, 1, args);
}

/**
 * dx of thinConvForward given dy: the transposed kernel (one channel in ↔ one out) over dy, reading dy pixel
 * (iy − (ky − pad), ix − (kx − pad)) for input pixel (iy, ix): direction −1.
 */
export function thinConvInputGrad(
  engine: Engine,
  thin: 'in' | 'out',
  dy: number,
  w: number,
  dx: number,
  g: ThinConvGeometry,
): void {
  const kernel = thin === 'in' ? 'convReduce' : 'convBroadcast';
  const args = [dy, w, dx, g.Ho, g.Wo, g.H, g.W, g.C, g.kh, g.kw, g.pad, -1, 0, 0];
  engine.parallel(kernel, g.N * g.H, 1, args);
}

/**
 * dw of thinConvForward: float64 partial sums over PARTIAL_SUMS ranges of output rows on all threads, added
 * in order (so the result does not depend on the thread count).
 */
export function thinConvWeightGrad(
  engine: Engine,
  thin: 'in' | 'out',
  x: number,
  dy: number,
  dw: number,
  g: ThinConvGeometry,
): void {
  const parts = PARTIAL_SUMS;
  const cols = g.kh * g.kw * g.C;
  const bytes = parts * cols * 8;
  const partials = engine.heap.alloc(bytes);
  try {
    const dims = [g.N, g.H, g.W, g.Ho, g.Wo, g.C, g.kh, g.kw, g.pad];
    engine.parallel('convThinWeightGrad', parts, 1, [x, dy, partials, parts, ...dims, thin === 'in' ? 1 : 0]);
    engine.parallel('sumColumnsFinish', cols, Math.max(cols / 2, 64), [partials, parts, dw, cols, 0]);
  } finally {
    engine.heap.free(partials, bytes);
  }
}

/** The Winograd kernels apply to 3×3 kernels with stride 1 and padding 1 ('same') and channels divisible by 8. */
export function winogradEligible(
  kh: number,
  kw: number,
  stride: number,
  pad: number,
  Cin: number,
  Cout: number,
): boolean {
  return kh === 3 && kw === 3 && stride === 1 && pad === 1 && Cin % 8 === 0 && Cout % 8 === 0;
}

/**
 * The Winograd output tile m for an H×W image: F(4×4, 3×3) needs 2.25 multiplies per output against 4 for
 * F(2×2, 3×3), but its 4×4 tiles waste more on images whose sides are not multiples of 4.
 */
export function winogradTile(engine: Engine, H: number, W: number): 2 | 4 {
  if (engine.winogradTile !== 'auto') return engine.winogradTile;
  const waste = (m: number) => (Math.ceil(H / m) * Math.ceil(W / m) * (m + 2) ** 2) / (H * W);
  return waste(4) < waste(2) ? 4 : 2;
}

/** [N, H, W, Cin, Cout] of a 'same' 3×3 convolution. */
type SameConvShape = readonly [number, number, number, number, number];

/**
 * out = conv(src, w) + bias (flip = false; src has Cin channels; bias = 0: none) or its input gradient, the
 * convolution of src = dy with w flipped in space and transposed in channels (flip = true; src has Cout
 * channels; bias = 0).
 */
function winogradConv(
  engine: Engine,
  src: number,
  w: number,
  bias: number,
  out: number,
  shape: SameConvShape,
  flip: boolean,
): void {
  const [N, H, W, Cin, Cout] = shape;
  const [K, Nc] = flip ? [Cout, Cin] : [Cin, Cout];
  const m = winogradTile(engine, H, W);
  const bytes = (m + 2) ** 2 * K * Nc * 4;
  const u = engine.heap.alloc(bytes); // U = G g Gᵀ, packed for the micro-kernel
  try {
    engine.parallel('winogradWeightTransform', K, 4, [w, u, Cin, Cout, flip ? 1 : 0, m]);
    const tiles = N * Math.ceil(H / m) * Math.ceil(W / m);
    engine.parallel('winogradConv', tiles, MR, [src, u, out, N, H, W, K, Nc, m, 0, bias]);
  } finally {
    engine.heap.free(u, bytes);
  }
}

/** dw = Gᵀ [Σ_tiles V ⊙ (A dY Aᵀ)] G: partial sums over tile ranges, then summed and transformed. */
function winogradWeightGrad(engine: Engine, x: number, dy: number, dw: number, shape: SameConvShape): void {
  const [N, H, W, Cin, Cout] = shape;
  const m = winogradTile(engine, H, W);
  const chunks = PARTIAL_SUMS;
  const bytes = chunks * (m + 2) ** 2 * Cin * Cout * 4;
  const partials = engine.heap.alloc(bytes);
  try {
    engine.parallel('winogradWeightGradPartial', chunks, 1, [x, dy, partials, chunks, N, H, W, Cin, Cout, m]);
    engine.parallel('winogradWeightGradFinish', Cin, 1, [partials, chunks, dw, Cin, Cout, m, 0]);
  } finally {
    engine.heap.free(partials, bytes);
  }
}
