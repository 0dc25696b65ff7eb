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
import { respacedSchedule, sample, samplerTimesteps } from './index.js';
import { gaussianDataOptimalEps, gaussianDataReverseLogVar } from '../diffusion/gaussianData.js';
import { learnedRangeVFromLogVariance } from '../diffusion/learnedVariance.js';
import type { AncestralConfig, BatchModel, SamplerConfig } from './types.js';

const MU = 0.3;
const S = 0.5;
const schedule = noiseSchedule('linear', 1000);

const optimalEps = gaussianDataOptimalEps(schedule, MU, S);

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
  [
    'respaced ancestral, 50 steps, σ² = β',
    { kind: 'ancestral', steps: 50, variance: 'beta', meanFrom: 'eps', clip: false },
  ],
  ['DPM-Solver++(2M), 20 steps', { kind: 'dpm-solver++', order: 2, steps: 20, clip: false }],
  ['DPM-Solver++(3M), 20 steps', { kind: 'dpm-solver++', order: 3, steps: 20, clip: false }],
  ['SDE-DPM-Solver++(2M), 50 steps', { kind: 'dpm-solver++', order: 2, sde: true, steps: 50, clip: false }],
  ['SDE-DPM-Solver++(3M), 50 steps', { kind: 'dpm-solver++', order: 3, sde: true, steps: 50, clip: false }],
  ['UniPC-2, 20 steps', { kind: 'unipc', order: 2, steps: 20, clip: false }],
])('%s on Gaussian data', (_name, sampler) => {
  it('reproduces μ and s within Monte Carlo error', () => {
    const n = 4000;
    const { x } = sample(schedule, optimalEps, {
      batch: n,
      dims: 1,
      rng: Rng.fromSeed(12),
      prediction: 'eps',
      sampler,
    });
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

describe('what the samplers need', () => {
  const xT = Rng.fromSeed(1).fillNormal(new Float64Array(50));
  const sdeConfig = { kind: 'dpm-solver++', order: 1, sde: true, steps: 20, clip: false } as const;
  it('deterministic samplers run from a given x_T without a random generator, and repeat exactly', () => {
    for (const sampler of [
      { kind: 'ddim', steps: 10, eta: 0, clip: false },
      { kind: 'dpm-solver++', order: 3, steps: 10, clip: false },
      { kind: 'unipc', order: 3, steps: 10, clip: false },
    ] as const) {
      const run = () => sample(schedule, optimalEps, { batch: 50, dims: 1, prediction: 'eps', sampler, xT });
      const r = run();
      expect(r.nfe).toBe(10);
      expect(run().x).toEqual(r.x);
    }
  });

  it('stochastic samplers refuse to run without one', () => {
    const ancestral: SamplerConfig = {
      kind: 'ancestral',
      steps: 10,
      variance: 'beta',
      meanFrom: 'eps',
      clip: false,
    };
    expect(() =>
      sample(schedule, optimalEps, { batch: 50, dims: 1, prediction: 'eps', sampler: ancestral, xT }),
    ).toThrow(/needs a random generator/);
  });

  /** The largest difference between two samplers' samples from the same seed. */
  const largestDifference = (a: SamplerConfig, b: SamplerConfig, seed: number) => {
    const run = (sampler: SamplerConfig) =>
      sample(schedule, optimalEps, {
        batch: 50,
        dims: 1,
        prediction: 'eps',
        rng: Rng.fromSeed(seed),
        sampler,
      }).x;
    const [xa, xb] = [run(a), run(b)];
    return xa.reduce((m, v, i) => Math.max(m, Math.abs(v - xb[i])), 0);
  };
  const ddimEta1: SamplerConfig = { kind: 'ddim', steps: 20, eta: 1, clip: false };

  it('DDIM with η = 1 is the respaced ancestral chain with σ² = β̃: same seed, same samples ([Song21] §4.1)', () => {
    const ancestral: SamplerConfig = {
      kind: 'ancestral',
      steps: 20,
      variance: 'posterior',
      meanFrom: 'eps',
      clip: false,
    };
    expect(largestDifference(ddimEta1, ancestral, 8)).toBeLessThan(1e-12);
    expect(largestDifference(ddimEta1, { ...ancestral, variance: 'beta' }, 8)).toBeGreaterThan(1e-3);
  });

  it('SDE-DPM-Solver++ of order 1 is DDIM with η = 1: same seed, same samples (1 − e^{−2h} = σ_DDIM²/σ_t²)', () => {
    expect(largestDifference(ddimEta1, { ...sdeConfig, order: 1 }, 9)).toBeLessThan(1e-12);
    expect(largestDifference(ddimEta1, { ...sdeConfig, order: 2 }, 9)).toBeGreaterThan(1e-3);
    expect(() =>
      sample(schedule, optimalEps, { batch: 50, dims: 1, prediction: 'eps', xT, sampler: sdeConfig }),
    ).toThrow(/needs a random generator/);
  });

  it("lastStepNoise adds σ z on the last ancestral step: x differs by noise of std √β'_1, mean 0", () => {
    const n = 4000;
    const sampler: AncestralConfig = {
      kind: 'ancestral',
      steps: 20,
      variance: 'beta',
      meanFrom: 'eps',
      clip: false,
    };
    const run = (lastStepNoise: boolean) =>
      sample(schedule, optimalEps, {
        batch: n,
        dims: 1,
        prediction: 'eps',
        rng: Rng.fromSeed(21),
        sampler: { ...sampler, lastStepNoise },
      }).x;
    const clean = run(false);
    const diff = run(true).map((v, i) => v - clean[i]);
    // β'_1 of the respaced chain: 1 − ᾱ of its last timestep (49 for 20 trailing steps), σ ≈ 0.07.
    const sigma = Math.sqrt(respacedSchedule(schedule, samplerTimesteps(1000, sampler)).beta[0]);
    const { mean, std } = moments(diff);
    expect(sigma).toBeGreaterThan(0.05);
    expect(Math.abs(mean)).toBeLessThan(4 * (sigma / Math.sqrt(n)));
    expect(Math.abs(std - sigma)).toBeLessThan(4 * (sigma / Math.sqrt(2 * n)));
  });

  it('the respaced schedule of all T timesteps is the schedule itself; of a subset, ᾱ of the subset', () => {
    expect(
      respacedSchedule(
        schedule,
        Array.from({ length: 1000 }, (_, t) => 999 - t),
      ),
    ).toBe(schedule);
    const spaced = respacedSchedule(schedule, [999, 500, 20]);
    [20, 500, 999].forEach((t, k) =>
      expect(spaced.alphaBar[k] / schedule.alphaBar[t] - 1).toBeCloseTo(0, 13),
    );
  });
});

/**
 * The respaced chain with the optimal mean is linear in x: x_{k−1} = a_k x_k + b_k + σ_k z, so Var(x_0) follows
 * from V_{k−1} = a_k² V_k + σ_k² (V_K = 1) with a_k = (1 − β'_k c_k/√(1 − ᾱ'_k))/√α'_k, c_k the slope of ε̂ in x.
 */
function respacedFinalStd(steps: number, variance: 'posterior' | 'beta'): number {
  const ts = Array.from({ length: steps }, (_, i) => Math.round(1000 - (i * 1000) / steps) - 1);
  const spaced = respacedSchedule(schedule, ts);
  let v = 1;
  for (let k = steps - 1; k >= 0; k--) {
    const ab = spaced.alphaBar[k];
    const c = Math.sqrt(1 - ab) / (ab * S * S + 1 - ab);
    const a = (1 - (spaced.beta[k] * c) / spaced.sqrtOneMinusAlphaBar[k]) / Math.sqrt(spaced.alpha[k]);
    v = a * a * v + (k > 0 ? (variance === 'beta' ? spaced.beta[k] : spaced.posteriorVariance[k]) : 0);
  }
  return Math.sqrt(v);
}

describe('respaced ancestral sampling on Gaussian data', () => {
  it.each([
    [10, 'posterior'],
    [10, 'beta'],
    [50, 'posterior'],
  ] as const)('%i steps, σ² of the %s kind: the sample spread is the closed-form one', (steps, variance) => {
    const n = 4000;
    const sampler: SamplerConfig = { kind: 'ancestral', steps, variance, meanFrom: 'eps', clip: false };
    const { x } = sample(schedule, optimalEps, {
      batch: n,
      dims: 1,
      rng: Rng.fromSeed(13),
      prediction: 'eps',
      sampler,
    });
    const exact = respacedFinalStd(steps, variance);
    console.info(
      `respaced ancestral, ${steps} steps, ${variance}: std ${moments(x).std.toFixed(4)}, closed form ${exact.toFixed(4)} (data ${S})`,
    );
    expect(Math.abs(moments(x).std - exact)).toBeLessThan(4 * (exact / Math.sqrt(2 * n)));
    // With σ² = β̃ a short chain is too narrow, the reason [ND21] learn the variances (measured: 0.33 at 10 steps).
    if (variance === 'posterior') expect(exact).toBeLessThan(0.9 * S);
  });
});

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

describe('ancestral sampling with learned-range variances', () => {
  it('with v* (the exact reverse variance as a learned-range value) reproduces μ and s, respaced too', () => {
    // The model outputs ε̂ then v* per element: Σ_θ = exp(v*-interpolation) is the true reverse variance at each
    // step of the chain it samples (for the respaced chain, the respaced schedule's).
    const n = 4000;
    for (const steps of [1000, 50]) {
      const ts = Array.from({ length: steps }, (_, i) => Math.round(1000 - (i * 1000) / steps) - 1);
      const spaced = respacedSchedule(schedule, ts);
      const kOf = new Map(ts.map((t, i) => [t, steps - 1 - i]));
      const learned: BatchModel = (xt, t) => {
        const k = kOf.get(t)!;
        const v = learnedRangeVFromLogVariance(spaced, k, gaussianDataReverseLogVar(spaced, k, S));
        return Float64Array.from([...Array.from(optimalEps(xt, t)), ...new Array<number>(xt.length).fill(v)]);
      };
      const sampler: SamplerConfig = {
        kind: 'ancestral',
        steps,
        variance: 'learned-range',
        meanFrom: 'eps',
        clip: false,
      };
      const { x } = sample(schedule, learned, {
        batch: n,
        dims: 1,
        rng: Rng.fromSeed(21),
        prediction: 'eps',
        sampler,
      });
      const { mean, std } = moments(x);
      console.info(
        `learned-range ancestral, ${steps} steps, v*: mean ${mean.toFixed(4)}, std ${std.toFixed(4)}`,
      );
      expect(Math.abs(mean - MU)).toBeLessThan(4 * (S / Math.sqrt(n)));
      expect(Math.abs(std - S)).toBeLessThan(4 * (S / Math.sqrt(2 * n)));
    }
  });

  it('refuses a model without v outputs', () => {
    const sampler: SamplerConfig = {
      kind: 'ancestral',
      steps: 10,
      variance: 'learned-range',
      meanFrom: 'eps',
      clip: false,
    };
    expect(() =>
      sample(schedule, optimalEps, { batch: 4, dims: 1, rng: Rng.fromSeed(1), prediction: 'eps', sampler }),
    ).toThrow(/learns its variances/);
  });
});
