/**
 * The exact linear-Gaussian formulas against brute-force quadrature over a 1-D latent (trapezoid rule on
 * [−12, 12] with 24001 points: the integrands are Gaussians, so the error is far below the 1e-9 tolerance).
 */
import { describe, expect, it } from 'vitest';
import { gaussianLogProb, normalLogProb } from '../math/gaussian.js';
import {
  cholesky,
  type LinearGaussianModel,
  linearGaussianLogMarginal,
  linearGaussianPosterior,
} from './linearGaussian.js';

const model: LinearGaussianModel = {
  W: [0.8, -1.3, 0.4],
  b: [0.2, -0.1, 0.5],
  logVar: Math.log(0.3),
  latentDim: 1,
  dataDim: 3,
};
const x = [1.1, -0.7, 0.2];

function quadrature(f: (z: number) => number): number {
  const n = 24001;
  const h = 24 / (n - 1);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const z = -12 + i * h;
    s += (i === 0 || i === n - 1 ? 0.5 : 1) * f(z);
  }
  return s * h;
}

const joint = (z: number) =>
  Math.exp(
    normalLogProb(z, 0, 0) +
      gaussianLogProb(
        x,
        [0, 1, 2].map((d) => (model.W[d] as number) * z + (model.b[d] as number)),
        model.logVar,
      ),
  );

describe('linear-Gaussian model: exact formulas vs quadrature over z', () => {
  it('log p(x) = log ∫ p(x|z) p(z) dz (1e-9)', () => {
    const ref = Math.log(quadrature(joint));
    expect(Math.abs(linearGaussianLogMarginal(model, x) - ref)).toBeLessThan(1e-9);
  });

  it('p(z|x): mean and variance equal the moments of p(x|z)p(z)/p(x) (1e-9)', () => {
    const px = quadrature(joint);
    const m = quadrature((z) => z * joint(z)) / px;
    const v = quadrature((z) => (z - m) ** 2 * joint(z)) / px;
    const post = linearGaussianPosterior(model, x);
    expect(Math.abs(post.mean[0] - m)).toBeLessThan(1e-9);
    expect(Math.abs(post.cov[0] - v)).toBeLessThan(1e-9);
  });

  it('cholesky reproduces A = L Lᵀ and refuses an indefinite matrix', () => {
    const a = [4, 2, 0.6, 2, 5, 1, 0.6, 1, 3];
    const l = cholesky(a, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += l[i * 3 + k] * l[j * 3 + k];
        expect(Math.abs(s - a[i * 3 + j])).toBeLessThan(1e-14);
      }
    expect(() => cholesky([1, 2, 2, 1], 2)).toThrow(/not positive definite/);
  });
});
