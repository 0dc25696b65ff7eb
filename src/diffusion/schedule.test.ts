import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { Rng } from '../random/rng.js';
import {
  betaSchedule,
  fromLaiBeta,
  isScheduleName,
  makeNoiseSchedule,
  type NoiseSchedule,
  noiseSchedule,
  SCHEDULE_NAMES,
  type ScheduleName,
  toLaiNotation,
} from './schedule.js';

describe('beta schedules', () => {
  it('give β ∈ (0, 1), ᾱ strictly decreasing, ᾱ_0 = 1 − β_0 and ᾱ_{−1} = 1 for every schedule and T', () => {
    for (const name of SCHEDULE_NAMES) {
      for (const T of [1, 2, 10, 1000]) {
        const s = noiseSchedule(name, T);
        expect(s.T).toBe(T);
        for (let t = 0; t < T; t++) {
          expect(s.beta[t]).toBeGreaterThan(0);
          expect(s.beta[t]).toBeLessThan(1);
          if (t > 0) {
            expect(s.alphaBar[t]).toBeLessThan(s.alphaBar[t - 1]);
            expect(s.alphaBarPrev[t]).toBe(s.alphaBar[t - 1]);
            expect(s.logSnr[t]).toBeLessThan(s.logSnr[t - 1]);
          }
        }
        expect(s.alphaBar[0]).toBe(1 - s.beta[0]);
        expect(s.alphaBarPrev[0]).toBe(1);
      }
    }
  });

  it('linear, T = 1000: β from 1e-4 to 0.02 and ᾱ_999 = 4.0358297653756835e-5 (mpmath product, 1e-12)', () => {
    // Reference: mpmath 1.3.0 (50 digits), Π_{i<1000} (1 − (1e-4 + (0.02 − 1e-4)·i/999)).
    const s = noiseSchedule('linear', 1000);
    expect(s.beta[0]).toBe(1e-4);
    expect(s.beta[999]).toBe(0.02);
    assertAllClose(s.beta[500], 1e-4 + (0.02 - 1e-4) * (500 / 999), { rtol: 1e-15 });
    assertAllClose(s.alphaBar[999], 4.0358297653756835e-5, { rtol: 1e-12 });
  });

  it("linear with scaleWithT multiplies both ends by 1000/T (improved-diffusion's convention)", () => {
    const b = betaSchedule('linear', 250, { scaleWithT: true });
    assertAllClose([b[0], b[249]], [4e-4, 0.08], { rtol: 1e-15 });
    expect(betaSchedule('linear', 3, { betaStart: 0.1, betaEnd: 0.3 })).toEqual(
      new Float64Array([0.1, 0.2, 0.3]),
    );
    expect(betaSchedule('linear', 1)).toEqual(new Float64Array([1e-4]));
  });

  it("scaledLinear: β = linspace(√βstart, √βend, T)² (diffusers' scaled_linear), closed form", () => {
    assertAllClose(betaSchedule('scaledLinear', 3, { betaStart: 0.01, betaEnd: 0.09 }), [0.01, 0.04, 0.09], {
      rtol: 1e-15,
    });
    // Stable Diffusion's 0.00085 … 0.012 over T = 1000: the middle entry by hand.
    const b = betaSchedule('scaledLinear', 1000, { betaStart: 0.00085, betaEnd: 0.012 });
    const mid = (Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * 500) / 999) ** 2;
    assertAllClose([b[0], b[500], b[999]], [0.00085, mid, 0.012], { rtol: 1e-14 });
    expect(() => betaSchedule('scaledLinear', 10, { tau: 1 })).toThrow(/option 'tau' does not apply/);
  });

  it('cosine: ᾱ_t = f(t+1)/f(0), f(t) = cos²((t/T + s)/(1 + s)·π/2), before the clip ([ND21] eq. 17, 1e-11)', () => {
    for (const T of [10, 1000]) {
      const s = noiseSchedule('cosine', T);
      const f = (t: number) => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      for (let t = 0; t < T - 1; t++)
        assertAllClose(s.alphaBar[t], f(t + 1) / f(0), { rtol: 1e-11 }, `t=${t}`);
      expect(s.beta[T - 1]).toBe(0.999); // the clipped last step (unclipped it would be 1)
    }
  });

  it('cosine β matches mpmath where 1 − ratio cancels (β_0, T = 1000: 4.1284224821777805e-5, 1e-14)', () => {
    // mpmath 1.3.0 (50 digits): 1 − f(1)/f(0), 1 − f(501)/f(500), f(999)/f(0).
    const s = noiseSchedule('cosine', 1000);
    assertAllClose(s.beta[0], 4.1284224821777805e-5, { rtol: 1e-14 });
    assertAllClose(s.beta[500], 0.003155691441585003, { rtol: 1e-14 });
    assertAllClose(s.alphaBar[998], 2.428766907034468e-6, { rtol: 1e-12 });
  });

  it('sigmoid: ᾱ_t = γ((t+1)/T) of [Chen23] Algorithm 1 (start −3, end 3, tau 1), before the clip (1e-10)', () => {
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    for (const [T, opts] of [
      [1000, { start: -3, end: 3, tau: 1 }],
      [50, { start: 0, end: 3, tau: 0.7 }],
    ] as const) {
      const s = noiseSchedule('sigmoid', T, opts);
      const { start, end, tau } = opts;
      const gamma = (u: number) =>
        (sig(end / tau) - sig((u * (end - start) + start) / tau)) / (sig(end / tau) - sig(start / tau));
      for (let t = 0; t < T - 1; t++)
        assertAllClose(s.alphaBar[t], gamma((t + 1) / T), { rtol: 1e-10 }, `t=${t}`);
      expect(s.beta[T - 1]).toBe(0.999);
    }
    // mpmath 1.3.0 (50 digits), T = 1000, defaults: β_0 = 1 − γ(1/T)/γ(0), ᾱ_500 = γ(501/T).
    const s = noiseSchedule('sigmoid', 1000);
    assertAllClose(s.beta[0], 0.000300279199749186, { rtol: 1e-14 });
    assertAllClose(s.alphaBar[500], 0.4983428178820696, { rtol: 1e-12 });
  });

  it('rejects bad input with messages naming the value and what is allowed', () => {
    expect(() => betaSchedule('linear', 0)).toThrow(/T must be an integer ≥ 1, got 0/);
    expect(() => betaSchedule('linear', 2.5)).toThrow(/got 2.5/);
    expect(() => betaSchedule('linear', Number.NaN)).toThrow(/got NaN/);
    expect(() => betaSchedule('quadratic' as ScheduleName, 10)).toThrow(
      /unknown schedule 'quadratic'; expected one of 'linear', 'cosine', 'sigmoid', 'scaledLinear'/,
    );
    expect(() => betaSchedule('linear', 10, { betaEnd: 1.5 })).toThrow(
      /betaEnd must be in \(0, 1\), got 1.5/,
    );
    expect(() => betaSchedule('linear', 10, { scaleWithT: true })).toThrow(
      /betaEnd·1000\/T must be in \(0, 1\), got 2/,
    );
    expect(() => betaSchedule('linear', 10, { tau: 1 })).toThrow(
      /option 'tau' does not apply to the 'linear' schedule/,
    );
    expect(() => betaSchedule('cosine', 10, { s: -1 })).toThrow(/s must be finite and ≥ 0, got -1/);
    expect(() => betaSchedule('cosine', 10, { maxBeta: 1 })).toThrow(/maxBeta must be in \(0, 1\), got 1/);
    expect(() => betaSchedule('sigmoid', 10, { start: 3, end: 3 })).toThrow(/need finite start < end/);
    expect(() => betaSchedule('sigmoid', 10, { tau: 0 })).toThrow(/tau must be > 0, got 0/);
    expect(() => makeNoiseSchedule(new Float64Array([0.5, 1]))).toThrow(
      /beta\[1\] must be in \(0, 1\), got 1/,
    );
    expect(() => makeNoiseSchedule(new Float64Array(0))).toThrow(/at least one entry/);
    expect(isScheduleName('cosine')).toBe(true);
    expect(isScheduleName('Cosine')).toBe(false);
  });
});

describe('derived tables', () => {
  const schedules: [string, NoiseSchedule][] = [
    ['linear 1000', noiseSchedule('linear', 1000)],
    ['cosine 1000', noiseSchedule('cosine', 1000)],
    ['sigmoid 100', noiseSchedule('sigmoid', 100)],
  ];

  it('ᾱ (cumulative product) agrees with exp(Σ log1p(−β)) (1e-12 relative)', () => {
    for (const [name, s] of schedules) {
      for (let t = 0; t < s.T; t++)
        assertAllClose(s.alphaBar[t], Math.exp(s.logAlphaBar[t]), { rtol: 1e-12 }, name);
    }
  });

  it('1 − ᾱ_t keeps full precision at t = 0 (= β_0 to 2e-16) and matches 1 − ᾱ_t later (1e-12)', () => {
    for (const [name, s] of schedules) {
      assertAllClose(s.oneMinusAlphaBar[0], s.beta[0], { rtol: 2.3e-16 }, name);
      for (let t = 10; t < s.T; t++)
        assertAllClose(s.oneMinusAlphaBar[t], 1 - s.alphaBar[t], { rtol: 1e-12 }, name);
    }
  });

  it('log SNR = log(ᾱ/(1 − ᾱ)) and SNR = exp(log SNR) (1e-12, mid-range t)', () => {
    for (const [name, s] of schedules) {
      for (let t = 10; t < s.T - 1; t++) {
        const ab = s.alphaBar[t];
        assertAllClose(s.logSnr[t], Math.log(ab / (1 - ab)), { rtol: 1e-12, atol: 1e-12 }, `${name} t=${t}`);
        assertAllClose(s.snr[t], Math.exp(s.logSnr[t]), { rtol: 1e-12 }, `${name} t=${t}`);
      }
    }
  });

  it('β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t ≤ β_t, β̃_0 = 0, and the clipped log uses β̃_1 at t = 0', () => {
    for (const [name, s] of schedules) {
      expect(s.posteriorVariance[0]).toBe(0);
      expect(s.posteriorLogVarianceClipped[0]).toBe(Math.log(s.posteriorVariance[1]));
      for (let t = 1; t < s.T; t++) {
        const ref = ((1 - s.alphaBar[t - 1]) / (1 - s.alphaBar[t])) * s.beta[t];
        assertAllClose(s.posteriorVariance[t], ref, { rtol: 1e-10 }, `${name} t=${t}`);
        expect(s.posteriorVariance[t]).toBeLessThanOrEqual(s.beta[t]);
        expect(s.posteriorLogVarianceClipped[t]).toBe(Math.log(s.posteriorVariance[t]));
      }
    }
  });

  it('with T = 1 the clipped log variance falls back to log β_0 (no β̃_1 exists)', () => {
    const s = noiseSchedule('linear', 1);
    expect(s.posteriorLogVarianceClipped[0]).toBe(Math.log(1e-4));
  });
});

describe("bridge to seed 001's notation (Lai et al.)", () => {
  const s = noiseSchedule('cosine', 200);
  const lai = toLaiNotation(s);

  it("satisfies Lai's own definitions: α_i = √(1 − β_i²), ᾱ_i = Π α_k; and fromLaiBeta inverts it", () => {
    let prod = 1;
    for (let t = 0; t < s.T; t++) {
      // Absolute tolerance: 1 − β² cancels in the reference when β ≈ 1 (the clipped last step, β² = 0.999).
      assertAllClose(lai.alphaLai[t], Math.sqrt(1 - lai.betaLai[t] ** 2), { atol: 4e-15 }, `α t=${t}`);
      prod *= lai.alphaLai[t];
      assertAllClose(lai.alphaBarLai[t], prod, { rtol: 1e-12 }, `ᾱ t=${t}`);
    }
    assertAllClose(fromLaiBeta(lai.betaLai), s.beta, { rtol: 1e-15 });
    expect(() => fromLaiBeta([0.5, 1])).toThrow(/betaLai\[1\] must be in \(0, 1\), got 1/);
  });

  it('both notations give the same x_t from the same x0 and ε, by the closed form (1e-14)', () => {
    const rng = Rng.fromSeed(21);
    for (const t of [0, 17, 199]) {
      const x0 = rng.normal();
      const eps = rng.normal();
      const ho = Math.sqrt(s.alphaBar[t]) * x0 + Math.sqrt(1 - s.alphaBar[t]) * eps;
      const ab = lai.alphaBarLai[t];
      const laiXt = ab * x0 + Math.sqrt(1 - ab * ab) * eps; // not (1 − ᾱ²) ε as the seed once writes
      assertAllClose(laiXt, ho, { rtol: 1e-14, atol: 1e-14 }, `t=${t}`);
    }
  });

  it('both notations give the same x_t by iterating one-step transitions with the same per-step noise (1e-13)', () => {
    const rng = Rng.fromSeed(22);
    let xHo = 0.8;
    let xLai = 0.8;
    for (let t = 0; t < s.T; t++) {
      const e = rng.normal();
      xHo = Math.sqrt(1 - s.beta[t]) * xHo + Math.sqrt(s.beta[t]) * e; // [Ho20] eq. 2
      xLai = lai.alphaLai[t] * xLai + lai.betaLai[t] * e; // [Lai25]: x_i = α_i x_{i−1} + β_i ε
      assertAllClose(xLai, xHo, { rtol: 1e-13, atol: 1e-13 }, `t=${t}`);
    }
  });

  it("Lai's posterior variance (1 − ᾱ²_{i−1})/(1 − ᾱ²_i)·β²_i is Ho's β̃_t; the seed's unsquared form is not (1e-12)", () => {
    for (const t of [1, 50, 199]) {
      const abPrev = lai.alphaBarLai[t - 1];
      const ab = lai.alphaBarLai[t];
      const b = lai.betaLai[t];
      const correct = ((1 - abPrev ** 2) / (1 - ab ** 2)) * b * b;
      assertAllClose(correct, s.posteriorVariance[t], { rtol: 1e-12 }, `t=${t}`);
      // Posterior mean coefficients in Lai's notation: ᾱ_{i−1}β_i²/(1 − ᾱ_i²) and (1 − ᾱ²_{i−1})α_i/(1 − ᾱ²_i).
      assertAllClose((abPrev * b * b) / (1 - ab ** 2), s.posteriorMeanCoefX0[t], { rtol: 1e-12 });
      assertAllClose(((1 - abPrev ** 2) * lai.alphaLai[t]) / (1 - ab ** 2), s.posteriorMeanCoefXt[t], {
        rtol: 1e-12,
      });
      // The seed's (1 − ᾱ_{i−1})/(1 − ᾱ_i)·β_i² is off by the factor (1 + ᾱ_i)/(1 + ᾱ_{i−1}) < 1.
      const asWritten = ((1 - abPrev) / (1 - ab)) * b * b;
      assertAllClose(asWritten / s.posteriorVariance[t], (1 + ab) / (1 + abPrev), { rtol: 1e-12 });
      expect(asWritten).toBeLessThan(s.posteriorVariance[t]);
    }
  });
});
