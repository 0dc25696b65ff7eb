import { describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import {
  IMPORTANCE_HISTORY,
  importanceProbabilities,
  initialImportanceState,
  sampleImportanceTimesteps,
  updateImportanceState,
  validateImportanceState,
} from './importanceSampler.js';

const T = 50;
/** Terms of a bound that fall by orders of magnitude with t, as the DDPM's do; each draw noisy (±50 %). */
const meanTerm = (t: number) => 10 * Math.exp(-t / 5) + 0.01;
const drawTerm = (t: number, rng: Rng) => meanTerm(t) * (0.5 + rng.uniform());

describe('importance sampling of timesteps ([ND21] §3.3)', () => {
  it('is uniform until every timestep has 10 values, then p_t ∝ √mean(L_t²) mixed with 0.1 % uniform', () => {
    const state = initialImportanceState(T);
    const rng = Rng.fromSeed(1);
    for (let t = 0; t < T; t++)
      for (let k = 0; k < (t === 7 ? IMPORTANCE_HISTORY - 1 : IMPORTANCE_HISTORY + 3); k++)
        updateImportanceState(state, [t], [drawTerm(t, rng)]);
    expect(Array.from(importanceProbabilities(state))).toEqual(new Array(T).fill(1 / T));
    updateImportanceState(state, [7], [drawTerm(7, rng)]);
    expect(state.history.every((h) => h.length === IMPORTANCE_HISTORY)).toBe(true);
    const p = importanceProbabilities(state);
    const rms = state.history.map((h) => Math.sqrt(h.reduce((s, x) => s + x * x, 0) / h.length));
    const sum = rms.reduce((a, b) => a + b, 0);
    for (let t = 0; t < T; t++) expect(p[t]).toBeCloseTo(0.999 * (rms[t] / sum) + 0.001 / T, 15);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(() => validateImportanceState(state, T)).not.toThrow();
    expect(() => validateImportanceState(state, T + 1)).toThrow(/each of the 51 timesteps/);
  });

  it('estimates Σ_t L_t without bias, like uniform sampling, with a smaller spread (Monte Carlo, 4 SE)', () => {
    const rng = Rng.fromSeed(2);
    const state = initialImportanceState(T);
    for (let t = 0; t < T; t++)
      for (let k = 0; k < IMPORTANCE_HISTORY; k++) updateImportanceState(state, [t], [drawTerm(t, rng)]);
    const p = importanceProbabilities(state);
    const truth = Array.from({ length: T }, (_, t) => meanTerm(t)).reduce((a, b) => a + b, 0);
    const n = 20000;
    const estimate = (draws: { t: ArrayLike<number>; weight: ArrayLike<number> }) => {
      const values = Array.from(draws.t, (t, i) => draws.weight[i] * T * drawTerm(t, rng));
      const mean = values.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
      return { mean, se: sd / Math.sqrt(n), sd };
    };
    const importance = estimate(sampleImportanceTimesteps(p, n, rng));
    const uniform = estimate({
      t: Array.from({ length: n }, () => rng.int(T)),
      weight: new Float64Array(n).fill(1),
    });
    expect(Math.abs(importance.mean - truth)).toBeLessThan(4 * importance.se);
    expect(Math.abs(uniform.mean - truth)).toBeLessThan(4 * uniform.se);
    expect(Math.abs(importance.mean - uniform.mean)).toBeLessThan(4 * Math.hypot(importance.se, uniform.se));
    expect(importance.sd).toBeLessThan(0.5 * uniform.sd);
  });

  it('draws t with frequencies p_t (chi-square-like check on 40,000 draws, 4 SE per bin)', () => {
    const p = new Float64Array([0.1, 0.6, 0.05, 0.25]);
    const n = 40000;
    const { t, weight } = sampleImportanceTimesteps(p, n, Rng.fromSeed(3));
    const counts = new Array(4).fill(0);
    for (const x of t) counts[x]++;
    for (let k = 0; k < 4; k++) {
      expect(Math.abs(counts[k] / n - p[k])).toBeLessThan(4 * Math.sqrt((p[k] * (1 - p[k])) / n));
    }
    expect(weight[0]).toBeCloseTo(1 / (4 * p[t[0]]), 14);
  });
});
