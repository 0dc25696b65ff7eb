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
  return relayout(data, n, c, h * w, true);
}

/** NHWC → NCHW, the inverse of {@link nchwToNhwc}. */
export function nhwcToNchw(
  data: ArrayLike<number>,
  n: number,
  c: number,
  h: number,
  w: number,
): Float64Array {
  return relayout(data, n, c, h * w, false);
}

function relayout(
  data: ArrayLike<number>,
  n: number,
  c: number,
  pixels: number,
  toNhwc: boolean,
): Float64Array {
  if (data.length !== n * c * pixels)
    throw new Error(
      `image layout: ${data.length} values are not ${n} images of ${c} channels × ${pixels} pixels`,
    );
  const out = new Float64Array(data.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let p = 0; p < pixels; p++) {
        const [nhwc, nchw] = [(b * pixels + p) * c + k, (b * c + k) * pixels + p];
        if (toNhwc) out[nhwc] = data[nchw];
        else out[nchw] = data[nhwc];
      }
  return out;
}
