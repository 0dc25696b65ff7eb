import { describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import {
  checkerboard,
  eightGaussians,
  mmdRbf,
  slicedWasserstein2d,
  swissRoll,
  TOY2D_NAMES,
  type Toy2dName,
  toy2d,
  twoMoons,
} from './toy2d.js';

/** Mean of each coordinate and mean squared norm. */
function moments(p: Float32Array): { mx: number; my: number; sq: number } {
  const n = p.length / 2;
  let mx = 0;
  let my = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    mx += p[2 * i];
    my += p[2 * i + 1];
    sq += p[2 * i] ** 2 + p[2 * i + 1] ** 2;
  }
  return { mx: mx / n, my: my / n, sq: sq / n };
}

describe('toy 2-D data sets', () => {
  it.each(TOY2D_NAMES)(
    '%s: seeded, [n·2] floats, mean ≈ 0 and mean squared norm ≈ 2 (n = 20 000, seed 11, ±0.06)',
    (name) => {
      const n = 20_000;
      const p = toy2d(name, n, Rng.fromSeed(11));
      expect(p).toBeInstanceOf(Float32Array);
      expect(p.length).toBe(2 * n);
      expect(Array.from(toy2d(name, 5, Rng.fromSeed(3)))).toEqual(
        Array.from(toy2d(name, 5, Rng.fromSeed(3))),
      );
      const { mx, my, sq } = moments(p);
      // Noise-free second moment is exactly 2; the default noise adds 2·noise² ≤ 0.02.
      expect(Math.abs(mx)).toBeLessThan(0.06);
      expect(Math.abs(my)).toBeLessThan(0.06);
      expect(Math.abs(sq - 2)).toBeLessThan(0.06);
    },
  );

  it('two moons without noise lie on two unit circles (up to the documented scale)', () => {
    const p = twoMoons(400, Rng.fromSeed(1), 0);
    // Undo the scaling via the known geometry: upper moon centred at (−1/2, −1/4)/s, lower at (1/2, 1/4)/s.
    const s = Math.sqrt((0.75 + 0.5 - 4 / Math.PI ** 2 + (4 / Math.PI - 0.5) ** 2 / 4) / 2);
    for (let i = 0; i < 400; i++) {
      const x = p[2 * i] * s + 0.5;
      const y = p[2 * i + 1] * s + 0.25;
      const r = i % 2 === 0 ? Math.hypot(x, y) : Math.hypot(x - 1, y - 0.5);
      expect(r).toBeCloseTo(1, 5);
      expect(i % 2 === 0 ? y >= -1e-6 : y <= 0.5 + 1e-6).toBe(true);
    }
  });

  it('the swiss roll without noise has radius = angle (a spiral over 1.5π … 4.5π)', () => {
    const p = swissRoll(300, Rng.fromSeed(2), 0);
    const s = Math.sqrt((9.75 * Math.PI ** 2 - 4 - 4 / (9 * Math.PI ** 2)) / 2);
    for (let i = 0; i < 300; i++) {
      const x = p[2 * i] * s + 2;
      const y = p[2 * i + 1] * s + 2 / (3 * Math.PI);
      const t = Math.hypot(x, y);
      expect(t).toBeGreaterThanOrEqual(1.5 * Math.PI - 1e-4);
      expect(t).toBeLessThanOrEqual(4.5 * Math.PI + 1e-4);
      // (t cos t, t sin t) points in direction t: compare the angle modulo 2π.
      const d = Math.atan2(y, x) - t;
      expect(Math.abs(Math.atan2(Math.sin(d), Math.cos(d)))).toBeLessThan(1e-4);
    }
  });

  it('eight Gaussians with std 0 sit exactly on the 8 centres, all of them used', () => {
    const p = eightGaussians(400, Rng.fromSeed(4), 0);
    const seen = new Set<number>();
    for (let i = 0; i < 400; i++) {
      const k = Math.round((Math.atan2(p[2 * i + 1], p[2 * i]) / Math.PI) * 4 + 8) % 8;
      seen.add(k);
      expect(p[2 * i]).toBeCloseTo(Math.SQRT2 * Math.cos((k * Math.PI) / 4), 6);
      expect(p[2 * i + 1]).toBeCloseTo(Math.SQRT2 * Math.sin((k * Math.PI) / 4), 6);
    }
    expect(seen.size).toBe(8);
  });

  it('checkerboard points fall only in the 8 filled cells (⌊x⌋ + ⌊y⌋ even on the unscaled board), all used', () => {
    const p = checkerboard(2000, Rng.fromSeed(5));
    const cells = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const cx = Math.floor(p[2 * i] / (Math.sqrt(3) / 2));
      const cy = Math.floor(p[2 * i + 1] / (Math.sqrt(3) / 2));
      expect(cx >= -2 && cx < 2 && cy >= -2 && cy < 2).toBe(true);
      expect((((cx + cy) % 2) + 2) % 2).toBe(0);
      cells.add(`${cx},${cy}`);
    }
    expect(cells.size).toBe(8);
  });

  it('rejects unknown names, listing the valid ones, and bad arguments', () => {
    expect(() => toy2d('spiral' as Toy2dName, 3, Rng.fromSeed(0))).toThrow(
      'unknown toy data set "spiral"; valid names: two-moons, swiss-roll, eight-gaussians, checkerboard',
    );
    expect(() => twoMoons(-1, Rng.fromSeed(0))).toThrow(/integer ≥ 0, got -1/);
    expect(() => swissRoll(3, Rng.fromSeed(0), -0.1)).toThrow(/noise must be a finite number ≥ 0/);
  });
});

describe('slicedWasserstein2d', () => {
  const a = Float64Array.from(twoMoons(300, Rng.fromSeed(8)));

  it('is 0 for identical sets, whatever the point order', () => {
    expect(slicedWasserstein2d(a, a, Rng.fromSeed(1))).toBe(0);
    const reversed = new Float64Array(a.length);
    for (let i = 0; i < 300; i++) reversed.set(a.subarray(2 * i, 2 * i + 2), 2 * (299 - i));
    expect(slicedWasserstein2d(a, reversed, Rng.fromSeed(1))).toBe(0);
  });

  it('is |d|/√2 for a set shifted by d (stratified directions average cos² exactly; 1e-12)', () => {
    for (const [dx, dy] of [
      [0.5, 0],
      [0.3, -0.4],
    ]) {
      const b = a.map((v, i) => v + (i % 2 === 0 ? dx : dy));
      const sw = slicedWasserstein2d(a, b, Rng.fromSeed(2));
      expect(Math.abs(sw - Math.hypot(dx, dy) / Math.SQRT2)).toBeLessThan(1e-12);
    }
  });

  it('separates different toy sets and checks its arguments', () => {
    const b = Float64Array.from(eightGaussians(300, Rng.fromSeed(9)));
    const c = Float64Array.from(twoMoons(300, Rng.fromSeed(10)));
    const rng = Rng.fromSeed(3);
    expect(slicedWasserstein2d(a, b, rng)).toBeGreaterThan(2.5 * slicedWasserstein2d(a, c, rng)); // 0.31 vs 0.08
    expect(() => slicedWasserstein2d(a, a.subarray(2), rng)).toThrow(/equally many points, got 300 and 299/);
    expect(() => slicedWasserstein2d([1, 2, 3], [1, 2, 3], rng)).toThrow(/2-D points/);
  });
});

describe('mmdRbf', () => {
  it('matches the closed form on two 2-point sets (bandwidth 1)', () => {
    // a = {(0,0), (1,0)}, b = {(0,0), (0,2)}: squared distances 1 (a–a), 4 (b–b), 0, 4, 1, 5 (a–b).
    const e = Math.exp;
    const expected = e(-0.5) + e(-2) - ((1 + e(-2) + e(-0.5) + e(-2.5)) * 2) / 4;
    expect(mmdRbf([0, 0, 1, 0], [0, 0, 0, 2], [1])).toBeCloseTo(expected, 14);
    // Two bandwidths: the kernel is the sum, so MMD² is the sum.
    const two = mmdRbf([0, 0, 1, 0], [0, 0, 0, 2], [1, 0.5]);
    expect(two).toBeCloseTo(expected + mmdRbf([0, 0, 1, 0], [0, 0, 0, 2], [0.5]), 14);
  });

  it('is ≈ 0 for two samples of one distribution and clearly positive after a shift (n = 400, seeds 12/13)', () => {
    const a = eightGaussians(400, Rng.fromSeed(12));
    const b = eightGaussians(400, Rng.fromSeed(13));
    const shifted = b.map((v, i) => (i % 2 === 0 ? v + 0.5 : v));
    const same = mmdRbf(a, b);
    const diff = mmdRbf(a, shifted);
    expect(Math.abs(same)).toBeLessThan(0.02);
    expect(diff).toBeGreaterThan(0.15); // 0.32 at these seeds
    expect(mmdRbf(b, a)).toBeCloseTo(same, 12);
  });

  it('checks its arguments', () => {
    expect(() => mmdRbf([0, 0], [0, 0, 1, 1])).toThrow(/at least 2 points in each set, got 1 and 2/);
    expect(() => mmdRbf([0, 0, 1, 1], [0, 0, 1, 1], [0])).toThrow(/bandwidths must be positive/);
  });
});
