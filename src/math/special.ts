/**
 * Special functions in float64: erf, erfc, the scaled erfcx, the standard normal CDF Φ and log Φ
 * (stable far into both tails), and the small log/exp helpers the likelihoods need.
 *
 * References:
 * - [Cody69] W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23
 *   (1969) 631–637; coefficients as in his SPECFUN routine CALERF (https://www.netlib.org/specfun/erf).
 * - [Mae12] M. Mächler, "Accurately computing log(1 − exp(−|a|))", Rmpfr package vignette, 2012.
 *
 * Why not the tanh approximation of improved-diffusion (`approx_standard_normal_cdf`,
 * Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³)))): its absolute error is ~1e-4, which breaks the
 * "the 256 bin probabilities sum to 1" property and is far too coarse in the tails, where the
 * discretized likelihood lives. Cody's rational approximations are accurate to a few ulps.
 */

const SQRT_1_2 = Math.SQRT1_2;
/** 1/√π */
const SQRPI = 0.5641895835477563; // CALERF: 5.6418958354775628695E-1
/** |x|/√2 threshold of Cody's first interval (erf by a rational function of x²). */
const THRESH = 0.46875;
/** The same threshold on the Φ scale: |x| ≤ 0.46875·√2. */
const THRESH_PHI = THRESH * Math.SQRT2;
const LN2 = Math.LN2;

// [Cody69] CALERF coefficients. A/B: erf on |x| ≤ 0.46875; C/D: exp(x²)·erfc(x) on [0.46875, 4];
// P/Q: exp(x²)·erfc(x) on (4, ∞) as a function of 1/x². CALERF prints 18 significant digits; these
// are the same numbers rounded to float64 and written in their shortest round-trip form (Biome's
// noPrecisionLoss rejects longer literals), e.g. 3.16112374387056560E00 → 3.1611237438705655.
const A = [3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315];
const B = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
const C = [
  0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.6351381974001, 881.952221241769,
  1712.0476126340707, 2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8,
];
const D = [
  15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597,
  4362.619090143247, 3439.3676741437216, 1230.3393548037495,
];
const P = [
  0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275, 0.0006587491615298378,
  0.016315387137302097,
];
const Q = [
  2.568520192289822, 1.8729528499234604, 0.5279051029514285, 0.06051834131244132, 0.0023352049762686918,
];

/** erf(x) for |x| ≤ 0.46875 ([Cody69] first interval). */
function erfSmall(x: number): number {
  const ysq = x * x;
  let xnum = A[4] * ysq;
  let xden = ysq;
  for (let i = 0; i < 3; i++) {
    xnum = (xnum + A[i]) * ysq;
    xden = (xden + B[i]) * ysq;
  }
  return (x * (xnum + A[3])) / (xden + B[3]);
}

/** exp(y²)·erfc(y) for y > 0.46875 ([Cody69] second and third intervals, without the exp factor). */
function erfcxLarge(y: number): number {
  if (y <= 4) {
    let xnum = C[8] * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + C[i]) * y;
      xden = (xden + D[i]) * y;
    }
    return (xnum + C[7]) / (xden + D[7]);
  }
  const ysq = 1 / (y * y);
  let xnum = P[5] * ysq;
  let xden = ysq;
  for (let i = 0; i < 4; i++) {
    xnum = (xnum + P[i]) * ysq;
    xden = (xden + Q[i]) * ysq;
  }
  const r = (ysq * (xnum + P[4])) / (xden + Q[4]);
  return (SQRPI - r) / y;
}

/**
 * exp(−y²) for y ≥ 0 without the rounding error of forming y²: y = yh + (y − yh) with yh a
 * multiple of 1/16, so yh² is exact and exp(−y²) = exp(−yh²)·exp(−(y − yh)(y + yh)) ([Cody69] CALERF).
 */
function expNegSquare(y: number): number {
  if (y > 27.3) return 0; // exp(−745.3) underflows; also avoids ∞ − ∞ below
  const yh = Math.trunc(16 * y) / 16;
  const del = (y - yh) * (y + yh);
  return Math.exp(-yh * yh) * Math.exp(-del);
}

/** exp(−x²/2) with the same splitting as {@link expNegSquare} (yh² exact for |x| < 2²²). */
function expNegHalfSquare(x: number): number {
  const a = Math.abs(x);
  if (a > 38.6) return 0; // exp(−745) underflows
  const ah = Math.trunc(16 * a) / 16;
  const del = (a - ah) * (a + ah);
  return Math.exp(-0.5 * ah * ah) * Math.exp(-0.5 * del);
}

/**
 * The error function, erf(x) = (2/√π) ∫₀ˣ e^{−s²} ds, to a few ulps.
 * @see [Cody69] (CALERF)
 */
export function erf(x: number): number {
  const y = Math.abs(x);
  if (y <= THRESH) return erfSmall(x);
  const r = 1 - expNegSquare(y) * erfcxLarge(y);
  return x < 0 ? -r : r;
}

/**
 * The complementary error function, erfc(x) = 1 − erf(x), accurate in relative terms for x → +∞.
 * @see [Cody69] (CALERF)
 */
export function erfc(x: number): number {
  const y = Math.abs(x);
  if (y <= THRESH) return 1 - erfSmall(x);
  const r = expNegSquare(y) * erfcxLarge(y);
  return x < 0 ? 2 - r : r;
}

/**
 * The scaled complementary error function, erfcx(x) = exp(x²)·erfc(x) (≈ 1/(x√π) for large x);
 * overflows to +∞ for x below about −26.6.
 * @see [Cody69] (CALERF with jint = 2)
 */
export function erfcx(x: number): number {
  const y = Math.abs(x);
  if (y <= THRESH) return Math.exp(x * x) * (1 - erfSmall(x));
  if (x > 0) return erfcxLarge(y);
  const e = expNegSquare(y);
  return e === 0 ? Infinity : 2 / e - erfcxLarge(y);
}

/**
 * The standard normal CDF, Φ(x) = ½ erfc(−x/√2), accurate in relative terms in the lower tail
 * (down to underflow near x = −38.5).
 * @see [Cody69]
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) <= THRESH_PHI) return 0.5 + 0.5 * erfSmall(x * SQRT_1_2);
  const q = 0.5 * expNegHalfSquare(x) * erfcxLarge(Math.abs(x) * SQRT_1_2); // = Φ(−|x|)
  return x < 0 ? q : 1 - q;
}

/**
 * log Φ(x), stable in both tails: for x < 0 as log ½ − x²/2 + log erfcx(−x/√2) (no underflow,
 * so log Φ(−1e5) ≈ −5e9 is exact to rounding), for x > 0 as log1p(−Φ(−x)).
 * @see [Cody69]
 */
export function normalLogCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) <= THRESH_PHI) return Math.log1p(erfSmall(x * SQRT_1_2)) - LN2;
  if (x < 0) {
    if (x === -Infinity) return -Infinity;
    return -LN2 - 0.5 * x * x + Math.log(erfcxLarge(-x * SQRT_1_2));
  }
  return Math.log1p(-0.5 * expNegHalfSquare(x) * erfcxLarge(x * SQRT_1_2));
}

/** The standard normal density, φ(x) = exp(−x²/2)/√(2π). */
export function normalPdf(x: number): number {
  return expNegHalfSquare(x) / Math.sqrt(2 * Math.PI);
}

/**
 * log(1 − exp(a)) for a ≤ 0, accurate for a near 0 and for a → −∞; NaN for a > 0.
 * @see [Mae12] eq. 7 (switch at a = −log 2)
 */
export function log1mexp(a: number): number {
  if (a > 0) return NaN;
  return a > -LN2 ? Math.log(-Math.expm1(a)) : Math.log1p(-Math.exp(a));
}

/** softplus(x) = log(1 + eˣ), computed as max(x, 0) + log1p(e^{−|x|}) so it never overflows. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** The logistic function σ(x) = 1/(1 + e^{−x}), written so that neither branch overflows. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log σ(x) = −softplus(−x). */
export function logSigmoid(x: number): number {
  return -softplus(-x);
}

/**
 * eˣ − 1 − x without cancellation near 0 (Taylor series for |x| < 0.5, else expm1(x) − x).
 * It is ≥ 0 for all x; the Gaussian KLs are built on it so that they are never negative.
 */
export function expm1MinusX(x: number): number {
  if (Math.abs(x) < 0.5) {
    // Σ_{k≥2} xᵏ/k!: at |x| < 0.5 the terms fall below 1e-17 of the sum by k ≈ 16.
    let term = (x * x) / 2;
    let sum = term;
    for (let k = 3; k < 30; k++) {
      term *= x / k;
      sum += term;
      if (Math.abs(term) < 1e-17 * sum) break;
    }
    return sum;
  }
  return Math.expm1(x) - x;
}
