import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference xoshiro128** output for a known state', () => {
    // Reference: the C code at https://prng.di.unimi.it/xoshiro128starstar.c run from s = {1, 2, 3, 4}
    // gives 11520, 0, 5927040, 70819200, 2031721883 as its first five outputs.
    const rng = Rng.fromState([1, 2, 3, 4]);
    const got = [0, 1, 2, 3, 4].map(() => rng.nextUint32());
    expect(got).toEqual([11520, 0, 5927040, 70819200, 2031721883]);
  });

  it('is reproducible from a seed and resumable from its state', () => {
    const a = Rng.fromSeed(42);
    const b = Rng.fromSeed(42);
    for (let i = 0; i < 10; i++) a.uniform();
    for (let i = 0; i < 10; i++) b.uniform();
    const saved = a.state();
    const seqA = Array.from({ length: 5 }, () => a.normal());
    const resumed = Rng.fromState(saved);
    const seqR = Array.from({ length: 5 }, () => resumed.normal());
    expect(seqR).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => b.normal())).toEqual(seqA);
    expect(Rng.fromSeed(43).uniform()).not.toBe(Rng.fromSeed(42).uniform());
  });

  it('draws standard normals with mean 0 and variance 1 within Monte Carlo error', () => {
    const n = 200_000;
    const x = Rng.fromSeed(7).fillNormal(new Float64Array(n));
    let s = 0;
    let s2 = 0;
    let s4 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
      s4 += v ** 4;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    // Standard errors: sd(mean) = 1/√n; sd(var) = √((E[x⁴]−1)/n) = √(2/n). Allow 4σ.
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(s4 / n - 3)).toBeLessThan(4 * Math.sqrt(96 / n)); // Var(x⁴) = 105 − 9 = 96
  });

  it('draws integers uniformly (chi-square over 10 bins)', () => {
    const rng = Rng.fromSeed(3);
    const counts = new Array(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[rng.int(10)]++;
    const expected = n / 10;
    const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: P(χ² > 27.88) = 0.001.
    expect(chi2).toBeLessThan(27.88);
  });

  it('split() gives a stream different from the parent and reproducible', () => {
    const p1 = Rng.fromSeed(5);
    const p2 = Rng.fromSeed(5);
    const c1 = p1.split();
    const c2 = p2.split();
    expect(c1.nextUint32()).toBe(c2.nextUint32());
    expect(c1.nextUint32()).not.toBe(p1.nextUint32());
  });

  it('permutation() contains each index once', () => {
    const p = Rng.fromSeed(1).permutation(1000);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('rejects bad seeds and states', () => {
    expect(() => Rng.fromSeed(1.5)).toThrow(/safe integer/);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/all zeros/);
  });
});
