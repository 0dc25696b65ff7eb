import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { normalKlSum } from '../math/gaussian.js';
import { estimateExpectation } from '../math/montecarlo.js';
import { Rng } from '../random/rng.js';
import {
  linearRegressionLogEvidence,
  linearRegressionLogJoint,
  linearRegressionPosterior,
  linearRegressionPredictive,
  meanFieldElbo,
  meanFieldOptimum,
  syntheticLinearRegression,
} from './linearRegression.js';
import {
  choleskyLower,
  diagonalMvNormal,
  inverseSpd,
  logDetSpd,
  marginalVariances,
  mvNormalKl,
  mvNormalLogPdf,
  sampleMvNormal,
} from './mvn.js';
import { elboMonteCarlo } from './vi.js';

/** The demo's problem: a line fitted to inputs in [1, 3], so intercept and slope are strongly anti-correlated. */
function problem(seed = 1) {
  const rng = Rng.fromSeed(seed);
  const x = Array.from({ length: 12 }, () => 1 + 2 * rng.uniform());
  return syntheticLinearRegression(
    { x, degree: 1, trueWeights: [-0.5, 1.2], noiseStd: 0.6, priorStd: 2 },
    rng,
  );
}

describe('multivariate normal helpers', () => {
  const a = Float64Array.of(4, 1.2, -0.4, 1.2, 2, 0.3, -0.4, 0.3, 1.5);

  it('Cholesky reconstructs A, the inverse gives A·A⁻¹ = I and log det matches the cofactor expansion (1e-14)', () => {
    const l = choleskyLower(a);
    const back = new Float64Array(9);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) back[i * 3 + j] += l[i * 3 + k] * l[j * 3 + k];
    assertAllClose(back, a, { rtol: 1e-14, atol: 1e-15 });
    const inv = inverseSpd(a);
    const eye = new Float64Array(9);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) eye[i * 3 + j] += a[i * 3 + k] * inv[k * 3 + j];
    assertAllClose(eye, [1, 0, 0, 0, 1, 0, 0, 0, 1], { atol: 1e-14 });
    const det = 4 * (2 * 1.5 - 0.09) - 1.2 * (1.2 * 1.5 + 0.12) + -0.4 * (1.2 * 0.3 + 0.8);
    assertAllClose(logDetSpd(a), Math.log(det), { rtol: 1e-14 });
    expect(() => choleskyLower([1, 2, 2, 1])).toThrow(/not positive definite/);
  });

  it('KL between full Gaussians: 0 for equal, the diagonal case equals normalKlSum, and a Monte Carlo estimate (n = 100000, seed 2) agrees within 4 SE', () => {
    const p0 = { mean: Float64Array.of(0.5, -1, 2), covariance: a };
    const p1 = {
      mean: Float64Array.of(0, 0, 1),
      covariance: Float64Array.of(2, -0.5, 0, -0.5, 1, 0.2, 0, 0.2, 3),
    };
    expect(mvNormalKl(p0, p0)).toBeCloseTo(0, 14);
    const d0 = diagonalMvNormal([1, 2], [0.5, 3]);
    const d1 = diagonalMvNormal([0, -1], [2, 0.25]);
    assertAllClose(
      mvNormalKl(d0, d1),
      normalKlSum([1, 2], [Math.log(0.5), Math.log(3)], [0, -1], [Math.log(2), Math.log(0.25)]),
      { rtol: 1e-13 },
    );
    const xs = sampleMvNormal(p0, 100_000, Rng.fromSeed(2));
    const terms = new Float64Array(100_000);
    for (let i = 0; i < terms.length; i++) {
      const x = xs.subarray(i * 3, i * 3 + 3);
      terms[i] = mvNormalLogPdf(x, p0) - mvNormalLogPdf(x, p1);
    }
    const mc = estimateExpectation(terms);
    expect(Math.abs(mc.mean - mvNormalKl(p0, p1))).toBeLessThan(4 * mc.stdError);
  });
});

describe('Bayesian linear regression: exact posterior', () => {
  const p = problem();
  const post = linearRegressionPosterior(p);

  it('m_N is the maximum of log p(t, w) (gradient < 1e-10) and S_N⁻¹ its negative Hessian by central differences (1e-6)', () => {
    const g = new Float64Array(2);
    linearRegressionLogJoint(p, post.mean, g);
    expect(Math.max(...g.map(Math.abs))).toBeLessThan(1e-10);
    const h = 1e-4;
    const hess = new Float64Array(4);
    for (let k = 0; k < 2; k++) {
      const up = Float64Array.from(post.mean);
      const dn = Float64Array.from(post.mean);
      up[k] += h;
      dn[k] -= h;
      const gu = new Float64Array(2);
      const gd = new Float64Array(2);
      linearRegressionLogJoint(p, up, gu);
      linearRegressionLogJoint(p, dn, gd);
      for (let j = 0; j < 2; j++) hess[j * 2 + k] = -(gu[j] - gd[j]) / (2 * h);
    }
    assertAllClose(hess, post.precision, { rtol: 1e-6 });
    // and the gradient itself against central differences of the log joint at another point
    const w = Float64Array.of(0.3, 0.7);
    const gw = new Float64Array(2);
    linearRegressionLogJoint(p, w, gw);
    for (let k = 0; k < 2; k++) {
      const up = Float64Array.from(w);
      const dn = Float64Array.from(w);
      up[k] += 1e-5;
      dn[k] -= 1e-5;
      const fd = (linearRegressionLogJoint(p, up) - linearRegressionLogJoint(p, dn)) / 2e-5;
      assertAllClose(gw[k], fd, { rtol: 1e-7 });
    }
  });

  it('log p(t) = log p(t, w) − log p(w | t) at any w (Bayes rule, 1e-12), and the posterior is strongly correlated (ρ < −0.9)', () => {
    const logZ = linearRegressionLogEvidence(p);
    for (const w of [post.mean, Float64Array.of(1, -1), Float64Array.of(-2, 3)]) {
      assertAllClose(linearRegressionLogJoint(p, w) - mvNormalLogPdf(w, post), logZ, { rtol: 1e-12 });
    }
    const rho = post.covariance[1] / Math.sqrt(post.covariance[0] * post.covariance[3]);
    expect(rho).toBeLessThan(-0.9);
  });

  it('the predictive N(φᵀm_N, σ² + φᵀS_Nφ) matches draws w ~ posterior, t = φᵀw + σε (n = 100000, seed 3, 4 SE)', () => {
    const rng = Rng.fromSeed(3);
    const phi = [1, 4.5]; // extrapolation, where the parameter uncertainty dominates
    const pred = linearRegressionPredictive(post, phi, p.noiseVariance);
    const ws = sampleMvNormal(post, 100_000, rng);
    const ts = new Float64Array(100_000);
    for (let i = 0; i < ts.length; i++)
      ts[i] = ws[2 * i] + phi[1] * ws[2 * i + 1] + Math.sqrt(p.noiseVariance) * rng.normal();
    const m = estimateExpectation(ts);
    expect(Math.abs(m.mean - pred.mean)).toBeLessThan(4 * m.stdError);
    const v = estimateExpectation(ts.map((t) => (t - pred.mean) ** 2));
    expect(Math.abs(v.mean - pred.variance)).toBeLessThan(4 * v.stdError);
  });

  it('the mean-field optimum q_j = N(m_j, 1/Λ_jj) is a stationary point of the ELBO, ELBO = log p(t) − KL(q‖p) (1e-12), and its variances are < 20 % of the marginals', () => {
    const q = meanFieldOptimum(post);
    const elbo = meanFieldElbo(p, q);
    const kl = mvNormalKl(diagonalMvNormal(q.mean, q.variance), post);
    assertAllClose(elbo, linearRegressionLogEvidence(p) - kl, { rtol: 1e-12 });
    // stationary: central differences in the means and log variances vanish
    const h = 1e-5;
    for (let j = 0; j < 2; j++) {
      for (const field of ['mean', 'logVar'] as const) {
        const shift = (s: number) => {
          const mean = Float64Array.from(q.mean);
          const variance = Float64Array.from(q.variance);
          if (field === 'mean') mean[j] += s;
          else variance[j] *= Math.exp(s);
          return meanFieldElbo(p, { mean, variance });
        };
        expect(Math.abs((shift(h) - shift(-h)) / (2 * h))).toBeLessThan(1e-6);
      }
    }
    // the marginal variances (what forward KL would give) lose ELBO: reverse KL prefers the narrow q
    const wide = { mean: q.mean, variance: marginalVariances(post.covariance) };
    expect(meanFieldElbo(p, wide)).toBeLessThan(elbo - 0.1);
    for (let j = 0; j < 2; j++) expect(q.variance[j]).toBeLessThan(0.2 * post.covariance[j * 3]);
  });

  it('the ELBO by Monte Carlo (n = 50000, seed 4) agrees with the closed form within 4 SE', () => {
    const q = meanFieldOptimum(post);
    const mc = elboMonteCarlo((w) => linearRegressionLogJoint(p, w), q, 50_000, Rng.fromSeed(4));
    expect(Math.abs(mc.mean - meanFieldElbo(p, q))).toBeLessThan(4 * mc.stdError);
  });
});
