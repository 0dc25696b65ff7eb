import { describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import { qSample } from './forward.js';
import { minSnrLossWeight } from './lossWeight.js';
import { computeV, predictX0 } from './parameterization.js';
import { noiseSchedule } from './schedule.js';

const sq = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
};

describe('minSnrLossWeight', () => {
  const schedule = noiseSchedule('linear', 1000);
  const gamma = 5;

  it('turns each target’s squared error into min(SNR, γ)‖x0 − x̂0‖² (the same x̂0 through the exact conversions)', () => {
    const rng = Rng.fromSeed(3);
    const D = 32;
    for (const t of [0, 10, 120, 140, 500, 999]) {
      const x0 = rng.fillNormal(new Float64Array(D));
      const eps = rng.fillNormal(new Float64Array(D));
      const xt = qSample(schedule, x0, t, eps);
      // An imperfect network: some x̂0, expressed as the ε̂ and v̂ it implies.
      const x0Hat = x0.map((v) => v + 0.3 * rng.normal());
      const epsHat = new Float64Array(D).map(
        (_, i) => (xt[i] - schedule.sqrtAlphaBar[t] * x0Hat[i]) / schedule.sqrtOneMinusAlphaBar[t],
      );
      const v = computeV(schedule, x0, t, eps);
      const vHat = computeV(schedule, x0Hat, t, epsHat);
      const back = predictX0(schedule, 'eps', xt, t, epsHat); // the ε̂ really implies x̂0
      expect(Math.max(...back.map((x, i) => Math.abs(x - x0Hat[i])))).toBeLessThan(1e-9);
      const snr = schedule.snr[t];
      const target = Math.min(snr, gamma) * sq(x0, x0Hat);
      const rel = { eps: sq(eps, epsHat), x0: sq(x0, x0Hat), v: sq(v, vHat) };
      for (const p of ['eps', 'x0', 'v'] as const)
        expect(minSnrLossWeight(snr, gamma, p) * rel[p], `${p} at t = ${t}`).toBeCloseTo(target, 8);
    }
  });

  it('is 1 for ε where SNR ≤ γ and below 1 only on the nearly clean steps (linear schedule, T = 1000)', () => {
    const w = Array.from(schedule.snr, (s) => minSnrLossWeight(s, gamma, 'eps'));
    const firstFull = w.findIndex((x) => x === 1);
    expect(w.slice(firstFull).every((x) => x === 1)).toBe(true);
    expect(w.slice(0, firstFull).every((x) => x < 1)).toBe(true);
    // ᾱ_t/(1 − ᾱ_t) = 5 at ᾱ_t = 5/6, which the linear schedule passes between t = 120 and 140.
    expect(firstFull).toBeGreaterThan(120);
    expect(firstFull).toBeLessThan(140);
    expect(w[0]).toBeCloseTo(gamma / schedule.snr[0], 12);
  });

  it('refuses a negative SNR or a γ that is not positive', () => {
    expect(() => minSnrLossWeight(-1, 5, 'eps')).toThrow(/SNR must be ≥ 0/);
    expect(() => minSnrLossWeight(1, 0, 'eps')).toThrow(/γ must be positive/);
  });
});
