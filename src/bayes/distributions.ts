/**
 * The distributions the conjugate examples need, in float64: log Γ, the Beta density, CDF
 * (regularised incomplete beta) and quantile, the standard normal quantile, and samplers for the
 * Gamma, Beta and binomial distributions driven by an explicit {@link Rng}.
 *
 * They live here rather than in `src/math` because only the Bayesian examples use them so far; move
 * them when a second user appears.
 *
 * References:
 * - [DLMF] NIST Digital Library of Mathematical Functions, https://dlmf.nist.gov (release 1.2.1):
 *   5.11.1 (Stirling series for log Γ), 5.5.1 (Γ(z + 1) = zΓ(z)), 8.17.22 (continued fraction of I_x(a, b)),
 *   8.17.4 (I_x(a, b) = 1 − I_{1−x}(b, a))
 * - [NR07] Press, Teukolsky, Vetterling, Flannery, Numerical Recipes 3rd ed. (2007), §6.4 `betacf`
 *   (the modified Lentz evaluation of that continued fraction), §5.2 (Lentz's method)
 * - [Wic88] M. J. Wichura, "Algorithm AS 241: The percentage points of the normal distribution",
 *   Applied Statistics 37 (1988) 477–484 (PPND16, accurate to about 1e-16)
 * - [MT00] G. Marsaglia & W. W. Tsang, "A simple method for generating gamma variables", ACM TOMS 26
 *   (2000) 363–372
 */

import type { Rng } from '../random/rng.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Stirling-series coefficients B_{2k} / (2k(2k − 1)), k = 1…7 ([DLMF] 5.11.1). */
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156];

/**
 * log Γ(x) for x > 0, to about 1e-15 relative (absolute near the zeros at x = 1, 2): shift x up to
 * ≥ 10 with Γ(x + 1) = xΓ(x), then the Stirling series
 * log Γ(x) ≈ (x − ½) log x − x + ½ log 2π + Σ_{k=1}^{7} B_{2k} / (2k(2k − 1) x^{2k−1}).
 * @see [DLMF] 5.11.1, 5.5.1
 */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new Error(`logGamma: x must be > 0, got ${x}`);
  if (x === Infinity) return Infinity;
  let shift = 0;
  let prod = 1;
  while (x < 10) {
    prod *= x;
    x += 1;
    if (prod > 1e280) {
      shift += Math.log(prod);
      prod = 1;
    }
  }
  shift += Math.log(prod);
  const inv = 1 / x;
  const inv2 = inv * inv;
  let series = 0;
  let p = inv;
  for (const c of STIRLING) {
    series += c * p;
    p *= inv2;
  }
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series - shift;
}

/** log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b). @see [DLMF] 5.12.1 */
export function logBetaFunction(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/**
 * log of the Beta(a, b) density at x ∈ [0, 1]: (a − 1) log x + (b − 1) log(1 − x) − log B(a, b).
 * @see [Bis06] Bishop PRML 2006 eq. 2.13
 */
export function betaLogPdf(x: number, a: number, b: number): number {
  if (x < 0 || x > 1) return -Infinity;
  const lx = a === 1 ? 0 : (a - 1) * Math.log(x);
  const l1x = b === 1 ? 0 : (b - 1) * Math.log1p(-x);
  return lx + l1x - logBetaFunction(a, b);
}

/** Evaluates the continued fraction of I_x(a, b) by the modified Lentz method ([NR07] §6.4 `betacf`). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const EPS = 1e-16;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    // even step: d_{2m} = m(b − m)x / ((a + 2m − 1)(a + 2m))
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    // odd step: d_{2m+1} = −(a + m)(a + b + m)x / ((a + 2m)(a + 2m + 1))
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h;
  }
  throw new Error(`regularizedIncompleteBeta: continued fraction did not converge (x ${x}, a ${a}, b ${b})`);
}

/**
 * The regularised incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), the CDF of Beta(a, b):
 * I_x(a, b) = x^a (1 − x)^b / (a B(a, b)) · 1/(1+ d₁/(1+ d₂/(1+ …))), using the symmetry
 * I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly (x > (a + 1)/(a + b + 2)).
 * @see [DLMF] 8.17.22, 8.17.4
 * @see [NR07] §6.4 (betai, betacf)
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new Error(`regularizedIncompleteBeta: need a, b > 0, got ${a}, ${b}`);
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = a * Math.log(x) + b * Math.log1p(-x) - logBetaFunction(a, b);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** The Beta(a, b) CDF, P(θ ≤ x) = I_x(a, b). @see [DLMF] 8.17.2 */
export function betaCdf(x: number, a: number, b: number): number {
  return regularizedIncompleteBeta(x, a, b);
}

/**
 * The p-quantile of Beta(a, b): the x with I_x(a, b) = p, by bisection on [0, 1] to 1e-15 (the CDF is
 * monotone, so bisection cannot fail; 60 halvings reach double precision).
 */
export function betaQuantile(p: number, a: number, b: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`betaQuantile: p must be in [0, 1], got ${p}`);
  if (p === 0) return 0;
  if (p === 1) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 80 && hi - lo > 1e-15; i++) {
    const mid = 0.5 * (lo + hi);
    if (regularizedIncompleteBeta(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

// [Wic88] PPND16 coefficients, constant term first. AS 241 prints 20 significant digits; these are the
// same numbers rounded to float64 in their shortest round-trip form (ESLint rejects longer literals), e.g.
// 3.3871328727963666080 → 3.3871328727963665.
const AS241_A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const AS241_B = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852854,
];
const AS241_C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
];
const AS241_D = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-9,
];
const AS241_E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 0.000027115555687434876, 2.0103343992922881e-7,
];
const AS241_F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  0.000018463183175100548, 1.421511758316446e-7, 2.0442631033899397e-15,
];

function horner(c: readonly number[], x: number): number {
  let v = c[c.length - 1];
  for (let i = c.length - 2; i >= 0; i--) v = v * x + c[i];
  return v;
}

/**
 * The standard normal quantile Φ⁻¹(p) (Wichura's PPND16, relative error about 1e-16): a rational
 * function of r = 0.180625 − (p − ½)² in the centre (|p − ½| ≤ 0.425), of r = √(−log min(p, 1 − p))
 * in the tails. ±∞ at p = 0, 1.
 * @see [Wic88] (AS 241, PPND16)
 */
export function standardNormalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`standardNormalQuantile: p must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * horner(AS241_A, r)) / horner(AS241_B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let v: number;
  if (r <= 5) {
    r -= 1.6;
    v = horner(AS241_C, r) / horner(AS241_D, r);
  } else {
    r -= 5;
    v = horner(AS241_E, r) / horner(AS241_F, r);
  }
  return q < 0 ? -v : v;
}

/** The p-quantile of N(mean, std²): mean + std·Φ⁻¹(p). @see [Wic88] */
export function normalQuantileAt(p: number, mean: number, std: number): number {
  return mean + std * standardNormalQuantile(p);
}

/**
 * One draw from Gamma(shape, 1) (rate 1): Marsaglia–Tsang for shape ≥ 1 (d = shape − ⅓, c = 1/√(9d),
 * x = d(1 + cz)³ accepted when log u < z²/2 + d − d·v + d·log v), and the boost
 * Gamma(a) = Gamma(a + 1)·U^{1/a} for shape < 1.
 * @see [MT00] §4 (the algorithm) and §6 (shape < 1)
 */
export function sampleGamma(shape: number, rng: Rng): number {
  if (!(shape > 0)) throw new Error(`sampleGamma: shape must be > 0, got ${shape}`);
  if (shape < 1) return sampleGamma(shape + 1, rng) * Math.pow(rng.uniformOpen(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let z: number;
    let v: number;
    do {
      z = rng.normal();
      v = 1 + c * z;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniformOpen();
    if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** One draw from Beta(a, b) as G_a / (G_a + G_b) with independent G ~ Gamma(·, 1). @see [MT00] §1 */
export function sampleBeta(a: number, b: number, rng: Rng): number {
  const x = sampleGamma(a, rng);
  const y = sampleGamma(b, rng);
  return x / (x + y);
}

/** One draw from Binomial(trials, p) as a sum of Bernoulli draws (O(trials): for the small counts here). */
export function sampleBinomial(trials: number, p: number, rng: Rng): number {
  if (!Number.isInteger(trials) || trials < 0) throw new Error(`sampleBinomial: bad trials ${trials}`);
  let k = 0;
  for (let i = 0; i < trials; i++) if (rng.uniform() < p) k++;
  return k;
}
