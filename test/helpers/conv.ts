/** Float64 definitions of NHWC convolution for the kernel tests (written independently of the kernels). */

export interface ConvShape {
  N: number;
  H: number;
  W: number;
  Cin: number;
  Cout: number;
  k: number;
  stride: number;
  pad: number;
}

export const outSize = (size: number, s: ConvShape) => Math.floor((size + 2 * s.pad - s.k) / s.stride) + 1;

/** Naive float64 NHWC convolution, weights [k][k][Cin][Cout] (the definition, written independently). */
export function convReference(x: Float64Array, w: Float64Array, s: ConvShape): Float64Array {
  const Ho = outSize(s.H, s);
  const Wo = outSize(s.W, s);
  const out = new Float64Array(s.N * Ho * Wo * s.Cout);
  for (let n = 0; n < s.N; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let co = 0; co < s.Cout; co++) {
          let acc = 0;
          for (let ky = 0; ky < s.k; ky++)
            for (let kx = 0; kx < s.k; kx++) {
              const iy = oy * s.stride - s.pad + ky;
              const ix = ox * s.stride - s.pad + kx;
              if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;
              for (let ci = 0; ci < s.Cin; ci++) {
                acc +=
                  x[((n * s.H + iy) * s.W + ix) * s.Cin + ci] *
                  w[((ky * s.k + kx) * s.Cin + ci) * s.Cout + co];
              }
            }
          out[((n * Ho + oy) * Wo + ox) * s.Cout + co] = acc;
        }
  return out;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The gradients of L = Σ dy ⊙ conv(x, w) with respect to x and w, by scattering each output's taps: the
 * adjoint of convReference, in float64.
 */
export function convGradReference(
  x: Float64Array,
  w: Float64Array,
  dy: Float64Array,
  s: ConvShape,
): { dx: Float64Array; dw: Float64Array } {
  const Ho = outSize(s.H, s);
  const Wo = outSize(s.W, s);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let n = 0; n < s.N; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let ky = 0; ky < s.k; ky++)
          for (let kx = 0; kx < s.k; kx++) {
            const iy = oy * s.stride - s.pad + ky;
            const ix = ox * s.stride - s.pad + kx;
            if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;
            for (let ci = 0; ci < s.Cin; ci++) {
              const xi = ((n * s.H + iy) * s.W + ix) * s.Cin + ci;
              for (let co = 0; co < s.Cout; co++) {
                const g = dy[((n * Ho + oy) * Wo + ox) * s.Cout + co];
                const wi = ((ky * s.k + kx) * s.Cin + ci) * s.Cout + co;
                dx[xi] += g * w[wi];
                dw[wi] += g * x[xi];
              }
            }
          }
  return { dx, dw };
}
