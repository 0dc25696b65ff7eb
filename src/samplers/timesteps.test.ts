import { describe, expect, it } from 'vitest';
import { noiseSchedule } from '../diffusion/schedule.js';
import { checkTimesteps, CLEAN, noiseLevel, spacedTimesteps } from './timesteps.js';

// The lists for T = 1000, N = 10 as diffusers' DPMSolverMultistepScheduler.set_timesteps prints them (the fixture
// test/fixtures/diffusers-samplers checks 10 and 20 steps of every spacing against diffusers itself).
describe('spacedTimesteps', () => {
  it('linspace, leading (steps_offset 1) and trailing for T = 1000, N = 10', () => {
    expect(spacedTimesteps(1000, 10, 'linspace')).toEqual([999, 899, 799, 699, 599, 500, 400, 300, 200, 100]);
    expect(spacedTimesteps(1000, 10, 'leading', 1)).toEqual([
      901, 811, 721, 631, 541, 451, 361, 271, 181, 91,
    ]);
    expect(spacedTimesteps(1000, 10, 'trailing')).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
  });

  it('trailing with N = T visits every timestep; one step is the pure-noise end', () => {
    expect(spacedTimesteps(50, 50, 'trailing')).toEqual(Array.from({ length: 50 }, (_, i) => 49 - i));
    expect(spacedTimesteps(1000, 1, 'trailing')).toEqual([999]);
  });

  it('refuses repeated timesteps, bad step counts and offsets outside leading, naming the cause', () => {
    expect(() => spacedTimesteps(1000, 1000, 'linspace')).toThrow(/strictly decrease/);
    expect(() => spacedTimesteps(1000, 0, 'trailing')).toThrow(/integer in \[1, 1000\]/);
    expect(() => spacedTimesteps(1000, 10, 'trailing', 1)).toThrow(/'leading' spacing only/);
    expect(() => spacedTimesteps(1000, 10, 'leading', 200)).toThrow(/not an integer in \[0, 999\]/);
  });
});

describe('checkTimesteps and noiseLevel', () => {
  it('accepts strictly decreasing integer lists in range only', () => {
    expect(checkTimesteps(10, [9, 4, 0])).toEqual([9, 4, 0]);
    expect(() => checkTimesteps(10, [])).toThrow(/at least one/);
    expect(() => checkTimesteps(10, [3, 5])).toThrow(/strictly decrease/);
    expect(() => checkTimesteps(10, [10])).toThrow(/\[0, 9\]/);
    expect(() => checkTimesteps(10, [2.5])).toThrow(/integer/);
  });

  it('gives α² + σ² = 1 and λ = log(α/σ), and the clean end α = 1, σ = 0, λ = ∞', () => {
    const s = noiseSchedule('linear', 1000);
    for (const t of [0, 1, 500, 999]) {
      const { alpha, sigma, lambda, alphaBar } = noiseLevel(s, t);
      expect(alpha * alpha + sigma * sigma).toBeCloseTo(1, 14);
      expect(alphaBar).toBe(s.alphaBar[t]);
      expect(lambda).toBeCloseTo(Math.log(alpha / sigma), 12);
    }
    expect(noiseLevel(s, CLEAN)).toEqual({ alphaBar: 1, alpha: 1, sigma: 0, lambda: Infinity });
  });
});
