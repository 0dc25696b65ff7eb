import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { normalKl } from '../math/gaussian.js';
import { gaussLegendre, integrateGaussLegendre } from '../math/quadrature.js';
import { Rng } from '../random/rng.js';
import {
  fitForwardKl,
  fitReverseKl,
  forwardKlMonteCarlo,
  forwardKlQuadrature,
  type GaussianMixture1d,
  linspace,
  mixtureGradLogPdf,
  mixtureLogPdf,
  mixtureMoments,
  reverseKlGridSearch,
  reverseKlMonteCarlo,
  reverseKlQuadrature,
  reverseKlReparamGradient,
  sampleMixture,
} from './klFit.js';

/** The demo's mixture: 0.4 N(−2.5, 0.6²) + 0.6 N(2, 0.8²). */
const MIX: GaussianMixture1d = { weights: [0.4, 0.6], means: [-2.5, 2], stds: [0.6, 0.8] };

describe('Gaussian mixture', () => {
  it('density integrates to 1, moments match quadrature (1e-12), the score matches finite differences (1e-8)', () => {
    const rule = gaussLegendre(200);
    const moment = (k: number) =>
      integrateGaussLegendre((x) => x ** k * Math.exp(mixtureLogPdf(x, MIX)), -12, 12, rule);
    const { mean, std } = mixtureMoments(MIX);
    assertAllClose([moment(0), moment(1), moment(2) - moment(1) ** 2], [1, mean, std * std], { rtol: 1e-12 });
    for (const x of [-3, -0.4, 0, 1.7, 5]) {
      const fd = (mixtureLogPdf(x + 1e-5, MIX) - mixtureLogPdf(x - 1e-5, MIX)) / 2e-5;
      assertAllClose(mixtureGradLogPdf(x, MIX), fd, { rtol: 1e-8, atol: 1e-9 });
    }
  });
});

describe('KL estimates: Monte Carlo against closed forms and quadrature', () => {
  it('Gaussian to Gaussian: both directions by Monte Carlo (n = 100000, seed 1) are within 4 SE of normalKl, and quadrature within 1e-10', () => {
    const p = { weights: [1], means: [0.5], stds: [1.3] };
    const q = { mean: -0.2, std: 0.7 };
    const fwd = normalKl(0.5, 2 * Math.log(1.3), -0.2, 2 * Math.log(0.7)); // KL(p ‖ q)
    const rev = normalKl(-0.2, 2 * Math.log(0.7), 0.5, 2 * Math.log(1.3)); // KL(q ‖ p)
    const rng = Rng.fromSeed(1);
    const f = forwardKlMonteCarlo(p, q, 100_000, rng);
    const r = reverseKlMonteCarlo(q, p, 100_000, rng);
    expect(Math.abs(f.mean - fwd)).toBeLessThan(4 * f.stdError);
    expect(Math.abs(r.mean - rev)).toBeLessThan(4 * r.stdError);
    assertAllClose([forwardKlQuadrature(p, q), reverseKlQuadrature(q, p)], [fwd, rev], { rtol: 1e-10 });
  });

  it('mixture: Monte Carlo KLs in both directions (n = 50000, seed 2) are within 4 SE of quadrature', () => {
    const q = { mean: 0.3, std: 2 };
    const rng = Rng.fromSeed(2);
    const f = forwardKlMonteCarlo(MIX, q, 50_000, rng);
    const r = reverseKlMonteCarlo(q, MIX, 50_000, rng);
    expect(Math.abs(f.mean - forwardKlQuadrature(MIX, q))).toBeLessThan(4 * f.stdError);
    expect(Math.abs(r.mean - reverseKlQuadrature(q, MIX))).toBeLessThan(4 * r.stdError);
  });

  it('the reparameterised gradient is the exact derivative of the fixed-ε estimate (central differences, 1e-7)', () => {
    const eps = Rng.fromSeed(3).fillNormal(new Float64Array(64));
    const at = (m: number, ls: number) => reverseKlReparamGradient(MIX, m, ls, eps);
    const g = at(0.4, -0.1);
    const h = 1e-5;
    assertAllClose(g.dMean, (at(0.4 + h, -0.1).value - at(0.4 - h, -0.1).value) / (2 * h), { rtol: 1e-7 });
    assertAllClose(g.dLogStd, (at(0.4, -0.1 + h).value - at(0.4, -0.1 - h).value) / (2 * h), { rtol: 1e-7 });
  });
});

describe('fitting one Gaussian to a two-mode mixture', () => {
  const exact = mixtureMoments(MIX);

  it('forward KL (maximum likelihood on 20000 samples, seed 4) covers both modes: mean and std within 4 SE of the mixture moments', () => {
    const fit = fitForwardKl(sampleMixture(MIX, 20_000, Rng.fromSeed(4)));
    expect(Math.abs(fit.mean - exact.mean)).toBeLessThan(4 * fit.meanStdError);
    expect(Math.abs(fit.std - exact.std)).toBeLessThan(4 * fit.stdStdError);
    expect(fit.std).toBeGreaterThan(2); // wider than either component: the fit spans the gap
  });

  it('reverse KL (reparameterised Adam from N(0, 1), seed 5) seeks a mode: mean within 0.1 of 2, std within 10 % of 0.8, KL ≈ −log 0.6; the grid search finds the same mode', () => {
    const fit = fitReverseKl(
      MIX,
      { init: { mean: 0, std: 1 }, steps: 1500, samples: 32, lr: 0.05 },
      Rng.fromSeed(5),
    );
    expect(Math.abs(fit.mean - 2)).toBeLessThan(0.1);
    expect(Math.abs(fit.std / 0.8 - 1)).toBeLessThan(0.1);
    // q sits on one component, where p ≈ 0.6 N(2, 0.8²): KL(q ‖ p) ≈ −log 0.6 = 0.511
    expect(Math.abs(reverseKlQuadrature(fit, MIX) + Math.log(0.6))).toBeLessThan(0.02);
    const grid = reverseKlGridSearch(MIX, linspace(-4, 4, 81), linspace(-1.5, 1, 26));
    expect(Math.abs(grid.mean - fit.mean)).toBeLessThanOrEqual(0.1 + 1e-9);
    expect(grid.kl).toBeLessThanOrEqual(reverseKlQuadrature(fit, MIX) + 1e-3);
    // started on the other side it settles on the lighter mode: a worse local minimum, KL ≈ −log 0.4
    const left = fitReverseKl(
      MIX,
      { init: { mean: -1.5, std: 1 }, steps: 1500, samples: 32, lr: 0.05 },
      Rng.fromSeed(6),
    );
    expect(Math.abs(left.mean + 2.5)).toBeLessThan(0.1);
    expect(Math.abs(reverseKlQuadrature(left, MIX) + Math.log(0.4))).toBeLessThan(0.02);
  });

  it('each fit wins its own objective and loses the other (Monte Carlo, n = 20000, seed 7, separated by > 4 SE)', () => {
    const fwdFit = { mean: exact.mean, std: exact.std };
    const revFit = fitReverseKl(
      MIX,
      { init: { mean: 0, std: 1 }, steps: 1500, samples: 32, lr: 0.05 },
      Rng.fromSeed(5),
    );
    const rng = Rng.fromSeed(7);
    const f1 = forwardKlMonteCarlo(MIX, fwdFit, 20_000, rng);
    const f2 = forwardKlMonteCarlo(MIX, revFit, 20_000, rng);
    const r1 = reverseKlMonteCarlo(fwdFit, MIX, 20_000, rng);
    const r2 = reverseKlMonteCarlo(revFit, MIX, 20_000, rng);
    expect(f2.mean - f1.mean).toBeGreaterThan(4 * Math.hypot(f1.stdError, f2.stdError));
    expect(r1.mean - r2.mean).toBeGreaterThan(4 * Math.hypot(r1.stdError, r2.stdError));
  });
});
