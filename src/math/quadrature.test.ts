import { describe, expect, it } from 'vitest';
import { assertAllClose } from './checks.js';
import { gaussLegendre, integrateGaussLegendre } from './quadrature.js';

describe('Gauss–Legendre quadrature', () => {
  it('8-point nodes and weights match Abramowitz & Stegun Table 25.4 (15 digits given there)', () => {
    const { nodes, weights } = gaussLegendre(8);
    const refNodes = [0.18343464249565, 0.525532409916329, 0.796666477413627, 0.960289856497536];
    const refWeights = [0.362683783378362, 0.313706645877887, 0.222381034453374, 0.101228536290376];
    for (let k = 0; k < 4; k++) {
      assertAllClose(nodes[4 + k], refNodes[k], { atol: 1e-15 }, `node ${k}`);
      assertAllClose(nodes[3 - k], -refNodes[k], { atol: 1e-15 }, `mirrored node ${k}`);
      assertAllClose(weights[4 + k], refWeights[k], { atol: 1e-15 }, `weight ${k}`);
    }
  });

  it('integrates polynomials of degree ≤ 2n − 1 exactly (to 1e-15) and not degree 2n', () => {
    for (const n of [1, 2, 5, 8, 13]) {
      const rule = gaussLegendre(n);
      for (let k = 0; k < 2 * n; k++) {
        const exact = k % 2 === 1 ? 0 : 2 / (k + 1); // ∫_{−1}^{1} x^k dx
        assertAllClose(
          integrateGaussLegendre((x) => x ** k, -1, 1, rule),
          exact,
          { atol: 1e-15 },
          `n=${n} k=${k}`,
        );
      }
      const k = 2 * n;
      expect(Math.abs(integrateGaussLegendre((x) => x ** k, -1, 1, rule) - 2 / (k + 1))).toBeGreaterThan(
        1e-12,
      );
    }
  });

  it('maps to [a, b]: ∫_0^π sin = 2 with 16 points (1e-14)', () => {
    assertAllClose(integrateGaussLegendre(Math.sin, 0, Math.PI, gaussLegendre(16)), 2, { rtol: 1e-14 });
  });

  it('rejects a bad n', () => {
    expect(() => gaussLegendre(0)).toThrow(/n must be an integer in \[1, 1000\], got 0/);
    expect(() => gaussLegendre(2.5)).toThrow(/got 2.5/);
  });
});
