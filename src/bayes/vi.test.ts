/**
 * Mean-field VI with the engine's gradients against the closed-form mean-field optimum
 * q_j = N(m_j, 1/Λ_jj) of the exact posterior ([Bis06] §10.1.2), on the strongly correlated posterior of a
 * line fitted to inputs in [1, 3].
 */
import { describe, expect, it } from 'vitest';
import { startTestEngine } from '../../test/helpers/engine.js';
import { Rng } from '../random/rng.js';
import {
  linearRegressionLogEvidence,
  linearRegressionLogJoint,
  linearRegressionPosterior,
  meanFieldElbo,
  meanFieldOptimum,
  syntheticLinearRegression,
} from './linearRegression.js';
import { diagonalMvNormal, mvNormalKl } from './mvn.js';
import { elboMonteCarlo, fitMeanFieldGaussian, linearRegressionTensorLogJoint } from './vi.js';

const { ctx } = await startTestEngine({ threads: 1 });

describe('mean-field Gaussian VI (reparameterised ELBO, engine gradients, Adam)', () => {
  it('reaches the mean-field optimum: means within 0.03 posterior sd, sds within 5 %, KL(q‖p) within 0.01 nats of the optimum; the sds are < 45 % of the exact marginals', () => {
    const rng = Rng.fromSeed(1);
    const x = Array.from({ length: 12 }, () => 1 + 2 * rng.uniform());
    const p = syntheticLinearRegression(
      { x, degree: 1, trueWeights: [-0.5, 1.2], noiseStd: 0.6, priorStd: 2 },
      rng,
    );
    const post = linearRegressionPosterior(p);
    const best = meanFieldOptimum(post);
    const target = linearRegressionTensorLogJoint(ctx, p, 16);
    const before = ctx.liveBytes;
    const fit = fitMeanFieldGaussian(ctx, target, { steps: 1500, samples: 16, lr: 0.05 }, Rng.fromSeed(7));
    expect(ctx.liveBytes).toBe(before); // every step's tensors and the optimiser state are freed
    target.dispose();

    for (let j = 0; j < 2; j++) {
      const sd = Math.sqrt(post.covariance[j * 3]);
      expect(Math.abs(fit.q.mean[j] - post.mean[j])).toBeLessThan(0.03 * sd);
      expect(Math.abs(Math.sqrt(fit.q.variance[j] / best.variance[j]) - 1)).toBeLessThan(0.05);
      expect(Math.sqrt(fit.q.variance[j])).toBeLessThan(0.45 * sd); // mean-field underestimates the spread
    }
    const kl = mvNormalKl(diagonalMvNormal(fit.q.mean, fit.q.variance), post);
    const klBest = mvNormalKl(diagonalMvNormal(best.mean, best.variance), post);
    expect(kl - klBest).toBeGreaterThanOrEqual(-1e-12); // the optimum is optimal
    expect(kl - klBest).toBeLessThan(0.01);

    // The engine's −ELBO estimates average to the closed form near the end (last 200 steps, 4 SE).
    const tail = fit.negElboTrace.subarray(1300);
    const mean = tail.reduce((a, b) => a + b, 0) / tail.length;
    const sd = Math.sqrt(tail.reduce((a, b) => a + (b - mean) ** 2, 0) / (tail.length - 1));
    expect(Math.abs(-mean - meanFieldElbo(p, fit.q))).toBeLessThan(4 * (sd / Math.sqrt(tail.length)) + 0.01);
    // and the float64 Monte Carlo ELBO of the fit equals log p(t) − KL(q‖p) within 4 SE
    const mc = elboMonteCarlo((w) => linearRegressionLogJoint(p, w), fit.q, 20_000, Rng.fromSeed(8));
    expect(Math.abs(mc.mean - (linearRegressionLogEvidence(p) - kl))).toBeLessThan(4 * mc.stdError);
  });
});
