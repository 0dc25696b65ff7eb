/**
 * Image layouts: diffusers and PyTorch hold image batches as NCHW, elbo's engine and samplers as NHWC (a sample
 * flattened to H·W·C values, channels fastest).
 */

/** NCHW → NHWC for a batch of n images of c channels, h×w pixels. */
export function nchwToNhwc(
  data: ArrayLike<number>,
  n: number,
  c: number,
  h: number,
  w: number,
): Float64Array {
  checkSize(data.length, n, c, h, w);
  const out = new Float64Array(data.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let p = 0; p < h * w; p++) out[(b * h * w + p) * c + k] = data[(b * c + k) * h * w + p];
  return out;
}

/** NHWC → NCHW, the inverse of {@link nchwToNhwc}. */
export function nhwcToNchw(
  data: ArrayLike<number>,
  n: number,
  c: number,
  h: number,
  w: number,
): Float64Array {
  checkSize(data.length, n, c, h, w);
  const out = new Float64Array(data.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let p = 0; p < h * w; p++) out[(b * c + k) * h * w + p] = data[(b * h * w + p) * c + k];
  return out;
}

function checkSize(length: number, n: number, c: number, h: number, w: number): void {
  if (length !== n * c * h * w)
    throw new Error(`image layout: ${length} values are not ${n} images of ${c}×${h}×${w}`);
}
