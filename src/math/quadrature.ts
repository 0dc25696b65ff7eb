/**
 * Gauss–Legendre quadrature on [a, b]. Used for the probability of a narrow interval under a normal
 * density, where Φ(u) − Φ(l) would cancel.
 *
 * References:
 * - [NR07] Press, Teukolsky, Vetterling, Flannery, Numerical Recipes 3rd ed. (2007), §4.6.1 `gauleg`:
 *   nodes by Newton's method on the Legendre polynomial P_n, weights 2/((1 − z²) P_n′(z)²).
 */

/** Nodes (ascending, in (−1, 1)) and weights of the n-point Gauss–Legendre rule. */
export interface QuadratureRule {
  nodes: Float64Array;
  weights: Float64Array;
}

/** P_n(z) and P_n′(z) by the three-term recurrence. */
function legendre(n: number, z: number): [p: number, dp: number] {
  let p1 = 1;
  let p2 = 0;
  for (let j = 1; j <= n; j++) {
    const p3 = p2;
    p2 = p1;
    p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j;
  }
  return [p1, (n * (z * p1 - p2)) / (z * z - 1)];
}

/**
 * The n-point Gauss–Legendre rule on [−1, 1]: exact for polynomials of degree ≤ 2n − 1.
 * @see [NR07] §4.6.1 (gauleg): Newton on P_n(z) = 0 from z ≈ cos(π(i + 3/4)/(n + 1/2)); w = 2/((1 − z²)P_n′(z)²)
 */
export function gaussLegendre(n: number): QuadratureRule {
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new Error(`gaussLegendre: n must be an integer in [1, 1000], got ${n}`);
  }
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  const m = Math.floor((n + 1) / 2);
  for (let i = 0; i < m; i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    for (let iter = 0; iter < 100; iter++) {
      const [p, dp] = legendre(n, z);
      const dz = p / dp;
      z -= dz;
      if (Math.abs(dz) <= 1e-14) break; // quadratic convergence: the error left is ~dz²
    }
    const [, dp] = legendre(n, z);
    const w = 2 / ((1 - z * z) * dp * dp);
    nodes[i] = -z;
    nodes[n - 1 - i] = z;
    weights[i] = w;
    weights[n - 1 - i] = w;
  }
  if (n % 2 === 1) nodes[m - 1] = 0;
  return { nodes, weights };
}

/**
 * ∫_a^b f(x) dx ≈ (b − a)/2 · Σ w_i f((a + b)/2 + (b − a)/2 · z_i) with a Gauss–Legendre rule.
 * @see [NR07] §4.6.1
 */
export function integrateGaussLegendre(
  f: (x: number) => number,
  a: number,
  b: number,
  rule: QuadratureRule,
): number {
  const half = 0.5 * (b - a);
  const mid = 0.5 * (a + b);
  let sum = 0;
  for (let i = 0; i < rule.nodes.length; i++) sum += rule.weights[i] * f(mid + half * rule.nodes[i]);
  return half * sum;
}
