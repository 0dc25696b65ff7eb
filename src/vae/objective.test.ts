/**
 * The VAE objective on a model where log p(x) is exact: a VAE with a linear encoder, a linear decoder and a
 * Gaussian decoder of fixed variance is the linear-Gaussian model p(x) = N(b, WᵀW + σ²I) (linearGaussian.ts).
 * The engine's ELBO (elboTerms) and the float64 evaluation (evaluateVae) are checked against it:
 *   - with q(z|x) = p(z|x) every importance weight equals p(x), so every L_k equals log p(x), and so does the
 *     ELBO (in expectation);
 *   - with another q, the ELBO is log p(x) − KL(q ‖ p(z|x)) (Monte Carlo, within 4 standard errors);
 *   - the IWAE bound L_k rises with k towards log p(x) ([BGS16] Theorem 1);
 *   - the analytic KL(q ‖ N(0, I)) agrees with a Monte Carlo estimate within 4 standard errors.
 * Seeds are fixed, so the Monte Carlo checks are reproducible.
 */
import { describe, expect, it } from 'vitest';
import { startTestEngine } from '../../test/helpers/engine.js';
import { bernoulliLogProbSum } from '../math/bernoulli.js';
import { gaussianLogProb, klToStandardNormal, normalKlSum } from '../math/gaussian.js';
import { estimateExpectation, logMeanExp } from '../math/montecarlo.js';
import { Rng } from '../random/rng.js';
import { klToStandardNormalPerExample } from '../tensor/ops/likelihood.js';
import type { VaeConfig } from './config.js';
import { decoderLogLikelihoodRows, evaluateVae, summarizeVaeEvaluation } from './evaluate.js';
import {
  type LinearGaussianModel,
  linearGaussianLogMarginal,
  linearGaussianPosterior,
} from './linearGaussian.js';
import { VaeModel } from './nets.js';
import { elboTerms, iwaeBound, logImportanceWeight, reparameterize } from './objective.js';

const { ctx } = await startTestEngine({ threads: 1 });

const L = 2;
const D = 4;
const LOG_VAR = Math.log(0.25);
// Orthogonal rows: WWᵀ is diagonal, so the exact posterior is a diagonal Gaussian the encoder can represent.
const W = [0.9, 0.9, 0, 0, 0.6, -0.6, 0.8, 0.3];
const b = [0.1, -0.2, 0.3, 0];
const x = [0.7, 0.2, -0.5, 0.4];
const lg: LinearGaussianModel = { W, b, logVar: LOG_VAR, latentDim: L, dataDim: D };
const logPx = linearGaussianLogMarginal(lg, x);
const post = linearGaussianPosterior(lg, x);

const config: VaeConfig = {
  dataset: 'linear-gaussian',
  dataShape: [1, D, 1],
  latentDim: L,
  architecture: { kind: 'mlp', hidden: [], activation: 'tanh' },
  likelihood: { kind: 'gaussian', logVar: LOG_VAR },
  binarize: 'none',
  batchSize: 1,
  lr: 1e-3,
  warmupSteps: 0,
  lrHalfLife: 0,
  klWarmupSteps: 0,
  gradClip: 0,
  emaDecay: 0,
  seed: 0,
};

/**
 * A VAE whose decoder is x = Wᵀz + b and whose encoder maps x to the exact posterior's mean and log-variance,
 * shifted by `meanShift` and `logVarShift` (zero shifts: q(z|x) = p(z|x) for every x).
 */
function linearVae(meanShift = [0, 0], logVarShift = [0, 0]): VaeModel {
  const vae = new VaeModel(ctx, config, Rng.fromSeed(1));
  const p = new Map(vae.namedParameters());
  p.get('decoder.fc0.weight')!.view().set(W);
  p.get('decoder.fc0.bias')!.view().set(b);
  // Posterior precision Λ_ll = 1 + ‖W_l‖²/σ² (diagonal); mean_l = W_l·(x − b)/(σ² Λ_ll).
  const sigma2 = Math.exp(LOG_VAR);
  const ew = p.get('encoder.fc0.weight')!.view(); // [D, 2L]
  const eb = p.get('encoder.fc0.bias')!.view(); // [2L]
  ew.fill(0);
  for (let l = 0; l < L; l++) {
    let norm2 = 0;
    for (let d = 0; d < D; d++) norm2 += W[l * D + d] ** 2;
    const lambda = 1 + norm2 / sigma2;
    let bias = 0;
    for (let d = 0; d < D; d++) {
      const a = W[l * D + d] / (sigma2 * lambda);
      ew[d * 2 * L + l] = a;
      bias -= a * b[d];
    }
    eb[l] = bias + meanShift[l];
    eb[L + l] = -Math.log(lambda) + logVarShift[l];
  }
  return vae;
}

const repeat = (v: number[], n: number) => {
  const out = new Float32Array(n * v.length);
  for (let i = 0; i < n; i++) out.set(v, i * v.length);
  return out;
};

/** One-sample ELBO estimates of B copies of x through the engine (elboTerms). */
function elboSamples(vae: VaeModel, B: number, seed: number) {
  return ctx.noGrad(() =>
    ctx.scope(() => {
      const eps = Rng.fromSeed(seed).fillNormal(new Float32Array(B * L));
      const t = elboTerms(vae, ctx.fromArray(repeat(x, B), [B, 1, D, 1]), ctx.fromArray(eps, [B, L]));
      return {
        elbo: Float64Array.from(t.elbo.view()),
        kl: Float64Array.from(t.kl.view()),
        loss: t.loss.item(),
      };
    }),
  );
}

function dispose(vae: VaeModel) {
  for (const [, p] of vae.namedParameters()) p.dispose();
}

describe('a linear-Gaussian VAE, where log p(x) is exact', () => {
  it('the encoder really is the exact posterior when unshifted (1e-6)', () => {
    const vae = linearVae();
    ctx.noGrad(() =>
      ctx.scope(() => {
        const q = vae.encode(ctx.fromArray(x, [1, 1, D, 1]));
        for (let l = 0; l < L; l++) {
          expect(Math.abs(q.mean.view()[l] - post.mean[l])).toBeLessThan(1e-6);
          expect(Math.abs(Math.exp(q.logVar.view()[l]) - post.cov[l * L + l])).toBeLessThan(1e-6);
        }
        expect(Math.abs(post.cov[1])).toBeLessThan(1e-15); // diagonal posterior
      }),
    );
    dispose(vae);
  });

  it('with q = p(z|x) every weight p(x, z)/q(z|x) is p(x): L_k = log p(x) for every k (1e-4); ELBO = log p(x) ± 4 SE', () => {
    const vae = linearVae();
    for (const k of [1, 7, 50]) {
      const ev = evaluateVae(vae, repeat(x, 8), 8, k, Rng.fromSeed(3 + k), { rowsPerPass: 64 });
      for (let i = 0; i < 8; i++) expect(Math.abs(ev.iwae[i] - logPx)).toBeLessThan(1e-4);
    }
    // The one-sample estimate log p(x|z) − KL_analytic varies with z; only its expectation is log p(x).
    const { elbo, loss } = elboSamples(vae, 20_000, 2);
    const est = estimateExpectation(elbo);
    expect(Math.abs(est.mean - logPx)).toBeLessThan(4 * est.stdError);
    expect(Math.abs(-loss - est.mean)).toBeLessThan(1e-4);
    dispose(vae);
  });

  it('with another q, ELBO = log p(x) − KL(q ‖ p(z|x)) < log p(x) (Monte Carlo, n = 40000, within 4 SE)', () => {
    const meanShift = [0.5, -0.4];
    const logVarShift = [0.6, -0.5];
    const vae = linearVae(meanShift, logVarShift);
    const qMean = [0, 1].map((l) => post.mean[l] + meanShift[l]);
    const qLogVar = [0, 1].map((l) => Math.log(post.cov[l * L + l]) + logVarShift[l]);
    const gap = normalKlSum(qMean, qLogVar, post.mean, [Math.log(post.cov[0]), Math.log(post.cov[3])]);
    const { elbo, kl } = elboSamples(vae, 40_000, 4);
    const est = estimateExpectation(elbo);
    console.info(
      `log p(x) = ${logPx.toFixed(4)}; ELBO = ${est.mean.toFixed(4)} ± ${est.stdError.toFixed(4)}; exact ${(logPx - gap).toFixed(4)} (gap KL = ${gap.toFixed(4)})`,
    );
    expect(gap).toBeGreaterThan(0.3);
    expect(Math.abs(est.mean - (logPx - gap))).toBeLessThan(4 * est.stdError);
    expect(est.mean + 4 * est.stdError).toBeLessThan(logPx);
    // The KL part is the analytic KL(q ‖ N(0, I)) of the shifted q, identical for every copy.
    expect(Math.abs(kl[0] - klToStandardNormal(qMean, qLogVar))).toBeLessThan(1e-5);
    dispose(vae);
  });

  it('the IWAE bound L_k rises with k towards log p(x) (k = 1, 10, 100, 1000; 300 replicates each)', () => {
    const vae = linearVae([0.5, -0.4], [0.6, -0.5]);
    const n = 300;
    const rows: { k: number; mean: number; se: number }[] = [];
    for (const k of [1, 10, 100, 1000]) {
      const s = summarizeVaeEvaluation(evaluateVae(vae, repeat(x, n), n, k, Rng.fromSeed(10 + k)));
      rows.push({ k, mean: -s.nll.mean, se: s.nll.stdError });
    }
    console.info(
      `log p(x) = ${logPx.toFixed(4)}; ` +
        rows.map((r) => `L_${r.k} = ${r.mean.toFixed(4)} ± ${r.se.toFixed(4)}`).join(', '),
    );
    for (let i = 1; i < rows.length; i++) {
      const [a, c] = [rows[i - 1], rows[i]];
      expect(c.mean).toBeGreaterThan(a.mean - 3 * Math.hypot(a.se, c.se));
    }
    for (const r of rows) expect(r.mean).toBeLessThan(logPx + 3 * r.se + 1e-4);
    const gap1 = logPx - rows[0].mean;
    const gap1000 = logPx - rows[3].mean;
    expect(gap1000).toBeLessThan(0.05 * gap1);
    dispose(vae);
  });
});

describe('pieces of the objective', () => {
  it('analytic KL(q ‖ N(0, I)) agrees with a Monte Carlo estimate of E_q[log q − log p] (n = 100000, 4 SE)', () => {
    const mean = [0.8, -1.2, 0.1];
    const logVar = [-0.7, 0.4, -2];
    const analytic = ctx.scope(() =>
      klToStandardNormalPerExample(ctx.fromArray(mean, [1, 3]), ctx.fromArray(logVar, [1, 3])).item(),
    );
    const rng = Rng.fromSeed(21);
    const draws = new Float64Array(100_000);
    const z = new Float64Array(3);
    for (let i = 0; i < draws.length; i++) {
      for (let j = 0; j < 3; j++) z[j] = mean[j] + Math.exp(0.5 * logVar[j]) * rng.normal();
      draws[i] = gaussianLogProb(z, mean, logVar) - gaussianLogProb(z, 0, 0);
    }
    const mc = estimateExpectation(draws);
    console.info(
      `KL analytic ${analytic.toFixed(5)}, Monte Carlo ${mc.mean.toFixed(5)} ± ${mc.stdError.toFixed(5)}`,
    );
    expect(Math.abs(mc.mean - analytic)).toBeLessThan(4 * mc.stdError);
    expect(Math.abs(analytic - klToStandardNormal(mean, logVar))).toBeLessThan(1e-5);
  });

  it('reparameterize gives μ + exp(½ logVar) ε; log w and L_k are what they say', () => {
    ctx.scope(() => {
      const z = reparameterize(
        { mean: ctx.fromArray([1, -2], [1, 2]), logVar: ctx.fromArray([0, Math.log(4)], [1, 2]) },
        ctx.fromArray([0.5, 0.25], [1, 2]),
      ).toFloat32Array();
      expect([...z]).toEqual([1.5, -1.5]);
    });
    // log w = log p(x|z) + log N(z; 0, I) − log N(z; μ, σ²), with z = μ + σ ε.
    const mu = [0.3, -0.2];
    const lv = [-0.5, 0.2];
    const eps = [0.7, -1.1];
    const z = mu.map((m, j) => m + Math.exp(0.5 * lv[j]) * eps[j]);
    const ref = -3.5 + gaussianLogProb(z, 0, 0) - gaussianLogProb(z, mu, lv);
    expect(Math.abs(logImportanceWeight(-3.5, z, lv, eps) - ref)).toBeLessThan(1e-12);
    expect(iwaeBound([-3])).toBe(-3);
    expect(iwaeBound([-1000, -1000 + Math.log(3)])).toBeCloseTo(logMeanExp([-1000, -1000 + Math.log(3)]), 12);
  });

  it('KL warm-up weights the KL in the loss, not in the ELBO', () => {
    const vae = linearVae([0.5, -0.4], [0.6, -0.5]);
    const r = ctx.noGrad(() =>
      ctx.scope(() => {
        const xs = ctx.fromArray(repeat(x, 4), [4, 1, D, 1]);
        const eps = ctx.fromArray(Rng.fromSeed(5).fillNormal(new Float32Array(4 * L)), [4, L]);
        const full = elboTerms(vae, xs, eps, 1);
        const half = elboTerms(vae, xs, eps, 0.5);
        const mean = (t: { view(): Float32Array }) => t.view().reduce((a, v) => a + v, 0) / 4;
        return {
          elboSame: mean(full.elbo) - mean(half.elbo),
          lossDiff: half.loss.item() - full.loss.item(),
          halfKl: 0.5 * mean(full.kl),
        };
      }),
    );
    expect(r.elboSame).toBe(0);
    expect(Math.abs(r.lossDiff + r.halfKl)).toBeLessThan(1e-4);
    expect(() => ctx.scope(() => elboTerms(vae, ctx.zeros([1, 1, D, 1]), ctx.zeros([1, L]), -1))).toThrow(
      /klWeight/,
    );
    dispose(vae);
  });
});

describe('the evaluation log-likelihood', () => {
  it('decoderLogLikelihoodRows (Bernoulli, product of runs) equals Σ bernoulliLogProb for logits up to ±80 (1e-12 relative)', () => {
    const D = 300;
    const rng = Rng.fromSeed(31);
    const logits = Float32Array.from({ length: 3 * D }, () => 25 * rng.normal());
    logits[0] = 80;
    logits[1] = -80;
    const xb = Float32Array.from({ length: D }, () => (rng.uniform() < 0.3 ? 1 : 0));
    const xg = Float32Array.from(xb, (v, i) => (i % 7 === 0 ? 0.3 : v));
    for (const xs of [xb, xg]) {
      const out = new Float64Array(3);
      decoderLogLikelihoodRows({ kind: 'bernoulli' }, xs, logits, 0, 3, out);
      for (let r = 0; r < 3; r++) {
        const ref = bernoulliLogProbSum(xs, logits.subarray(r * D, (r + 1) * D));
        expect(Math.abs(out[r] - ref)).toBeLessThan(1e-12 * Math.abs(ref));
      }
    }
  });
});
