/**
 * Units of likelihood: nats (natural log) vs bits per dimension (bpd), the unit image models report.
 *
 * References:
 * - [Ho20] Ho, Jain, Abbeel 2020, arXiv:2006.11239v2, §4.2 and Table 2 (NLL in bits/dim on CIFAR-10)
 * - [TOB16] Theis, van den Oord, Bethge 2016, "A note on the evaluation of generative models",
 *   arXiv:1511.01844 (ICLR 2016 version), the discussion of log-likelihoods of dequantized data
 *
 * Scale matters for continuous densities, not for discrete ones. A probability mass over the 256
 * levels of 8-bit data (the discretized decoder of [Ho20] eq. 13) gives the same bpd whether the
 * levels are written as 0…255 or as points in [−1, 1]. A density does not: if y = s·x (e.g. y in
 * [0, 255], x in [−1, 1] with s = 127.5 — the shift does not matter), then
 * log p_y(y) = log p_x(x) − D log s, so bpd_y = bpd_x + log₂ s: 6.994 more bits/dim for s = 127.5.
 * Published bpd numbers are on the 0…255 scale (of dequantized or discrete data).
 */

/**
 * Bits per dimension from a negative log-likelihood in nats over `dims` dimensions.
 * Formula: bpd = nats / (dims · ln 2)
 */
export function natsToBitsPerDim(nats: number, dims: number): number {
  checkDims(dims);
  return nats / (dims * Math.LN2);
}

/**
 * Nats (total over `dims` dimensions) from bits per dimension.
 * Formula: nats = bpd · dims · ln 2
 */
export function bitsPerDimToNats(bitsPerDim: number, dims: number): number {
  checkDims(dims);
  return bitsPerDim * dims * Math.LN2;
}

/**
 * The bpd of a continuous density after rescaling the data by y = scale·x (+ any shift): the
 * Jacobian adds log₂|scale| bits per dimension. Use scale = 127.5 to go from data in [−1, 1] to
 * data in [0, 255]. Not for discrete (probability-mass) bpd, which no rescaling changes.
 * Formula: bpd_y = bpd_x + log₂ |scale|
 * @see [TOB16]
 */
export function rescaleContinuousBitsPerDim(bitsPerDim: number, scale: number): number {
  if (!Number.isFinite(scale) || scale === 0) {
    throw new Error(`rescaleContinuousBitsPerDim: scale must be finite and non-zero, got ${scale}`);
  }
  return bitsPerDim + Math.log2(Math.abs(scale));
}

/** Scale from 8-bit data mapped to [−1, 1] (x = y/127.5 − 1) back to [0, 255]. */
export const UNIT_TO_BYTE_SCALE = 127.5;

function checkDims(dims: number): void {
  if (!Number.isInteger(dims) || dims < 1) {
    throw new Error(`dims must be a positive integer (the number of data dimensions), got ${dims}`);
  }
}
