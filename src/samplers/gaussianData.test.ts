/**
 * The analytic check that needs no training: for data x0 ~ N(μ, s² I) the optimal ε-predictor is closed-form,
 *   ε̂(x_t, t) = E[ε | x_t] = √(1 − ᾱ_t)(x_t − √ᾱ_t μ)/(ᾱ_t s² + 1 − ᾱ_t),
 * (x_t ~ N(√ᾱ μ, ᾱ s² + 1 − ᾱ) is Gaussian, and ε and x_t are jointly Gaussian). Samplers driven by it must
 * reproduce μ and s, and its negative ELBO must bound the exact NLL from above, closely.
 */
import { describe, expect, it } from 'vitest';
import { negativeElbo } from '../diffusion/vlb.js';
import { noiseSchedule } from '../diffusion/schedule.js';
import { Rng } from '../random/rng.js';
import { sample } from './index.js';
import type { BatchModel, SamplerConfig } from './types.js';

const MU = 0.3;
const S = 0.5;
const schedule = noiseSchedule('linear', 1000);

const optimalEps: BatchModel = (xt, t) => {
  const ab = schedule.alphaBar[t];
  const c = Math.sqrt(1 - ab) / (ab * S * S + 1 - ab);
  return xt.map((x) => c * (x - Math.sqrt(ab) * MU));
};

function moments(x: Float64Array): { mean: number; std: number } {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / (x.length - 1);
  return { mean, std: Math.sqrt(v) };
}

describe.each<[string, SamplerConfig]>([
  [
    'ancestral, σ² = β̃, mean by eq. 11',
    { kind: 'ancestral', variance: 'posterior', meanFrom: 'eps', clip: false },
  ],
  [
    'ancestral, σ² = β, mean by eq. 11',
    { kind: 'ancestral', variance: 'beta', meanFrom: 'eps', clip: false },
  ],
  [
    'ancestral with clean prediction (x̂0 → posterior)',
    { kind: 'ancestral', variance: 'posterior', meanFrom: 'x0', clip: false },
  ],
  ['DDIM η = 0, 100 steps', { kind: 'ddim', steps: 100, eta: 0, clip: false }],
  ['DDIM η = 1, 250 steps', { kind: 'ddim', steps: 250, eta: 1, clip: false }],
])('%s on Gaussian data', (_name, sampler) => {
  it('reproduces μ and s within Monte Carlo error', () => {
    const n = 4000;
    const { x } = sample(schedule, optimalEps, n, 1, Rng.fromSeed(12), { prediction: 'eps', sampler });
    const { mean, std } = moments(x);
    // 4 standard errors: se(mean) = s/√n = 0.0079, se(std) ≈ s/√(2n) = 0.0056; plus 0.01 allowance on the
    // std for the discretisation of the reverse chain (measured deviations are below 0.006).
    expect(Math.abs(mean - MU)).toBeLessThan(4 * (S / Math.sqrt(n)));
    expect(Math.abs(std - S)).toBeLessThan(4 * (S / Math.sqrt(2 * n)) + 0.01);
  });
});

/**
 * Exact reverse variance for Gaussian data: q(x_{t−1} | x_t) = ∫ q(x_{t−1} | x_t, x0) q(x0 | x_t) dx0 has
 * variance β̃_t + c0² Var(x0 | x_t), c0 = √ᾱ_{t−1} β_t/(1 − ᾱ_t), Var(x0 | x_t) = s²(1 − ᾱ_t)/(ᾱ_t s² + 1 − ᾱ_t).
 * (At code t = 0 the "previous" state is x0 itself: β̃ = 0, c0 = √ᾱ_{−1}·β_0/(1 − ᾱ_0) = 1.)
 */
function exactReverseLogVar(t: number): number {
  const ab = schedule.alphaBar[t];
  const c0 = schedule.posteriorMeanCoefX0[t];
  const varX0 = (S * S * (1 - ab)) / (ab * S * S + 1 - ab);
  return Math.log(schedule.posteriorVariance[t] + c0 * c0 * varX0);
}

function elboGap(variance: Parameters<typeof negativeElbo>[5]['variance'], seed: number) {
  const rng = Rng.fromSeed(seed);
  const batch = 1000;
  const dims = 1;
  const x0 = rng.fillNormal(new Float64Array(batch * dims), MU, S);
  const r = negativeElbo(schedule, optimalEps, x0, batch, rng, {
    prediction: 'eps',
    variance,
    data: 'continuous',
    terms: 'all',
  });
  // Per example: −ELBO − (exact NLL of that very point under N(μ, s²)).
  const diffs = r.total.map((v, b) => {
    let nll = 0;
    for (let d = 0; d < dims; d++)
      nll += 0.5 * Math.log(2 * Math.PI * S * S) + (x0[b * dims + d] - MU) ** 2 / (2 * S * S);
    return v - nll;
  });
  const gap = diffs.reduce((a, b) => a + b, 0) / batch;
  const se = Math.sqrt(diffs.reduce((a, b) => a + (b - gap) ** 2, 0) / (batch - 1) / batch);
  return { gap: gap / dims, se: se / dims, r, diffs };
}

describe('the negative ELBO of the optimal Gaussian model', () => {
  it('with the exact reverse variance, equals the exact NLL up to Monte Carlo error', () => {
    const { gap, se, r } = elboGap({ logVar: exactReverseLogVar }, 5);
    console.info(`exact reverse variance: −ELBO − NLL = ${gap.toFixed(5)} ± ${se.toFixed(5)} nats/dim`);
    // The only true gap left is KL(q(x_T) ‖ N(0, 1)) ≈ 1e-5: the estimate must be 0 within 4 standard errors,
    // and the standard error small enough for that to mean something.
    expect(Math.abs(gap)).toBeLessThan(4 * se);
    expect(se).toBeLessThan(0.05);
    expect(r.prior.every((p) => p > 0 && p < 1e-3)).toBe(true); // ᾱ_T ≈ 4e-5: q(x_T|x0) ≈ N(0, I)
  });

  it('with the fixed variances of [Ho20], is a strictly looser bound (β̃ looser than β)', () => {
    // Same seed: the same x0 and the same x_t draws, so the paired difference has a small standard error.
    const exact = elboGap({ logVar: exactReverseLogVar }, 6);
    const post = elboGap('posterior', 6);
    const beta = elboGap('beta', 6);
    const paired = (a: Float64Array, b: Float64Array) => {
      const d = a.map((v, i) => v - b[i]);
      const m = d.reduce((x, y) => x + y, 0) / d.length;
      return { m, se: Math.sqrt(d.reduce((x, y) => x + (y - m) ** 2, 0) / (d.length - 1) / d.length) };
    };
    const betaVsExact = paired(beta.diffs, exact.diffs);
    const postVsBeta = paired(post.diffs, beta.diffs);
    console.info(
      `fixed variances, nats/dim: β − exact = ${betaVsExact.m.toFixed(4)} ± ${betaVsExact.se.toFixed(4)}, β̃ − β = ${postVsBeta.m.toFixed(4)} ± ${postVsBeta.se.toFixed(4)}`,
    );
    // The mean is optimal but σ_t² ≠ the true reverse variance at small t, so the L_{t−1} pay for the
    // mismatch. Same seed ⇒ same x0 and x_t draws, so paired differences have small standard errors.
    expect(betaVsExact.m).toBeGreaterThan(4 * betaVsExact.se);
    expect(postVsBeta.m).toBeGreaterThan(4 * postVsBeta.se);
  });
});
