import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { noiseSchedule } from '../diffusion/schedule.js';
import { Rng } from '../random/rng.js';
import { type VlbBatch, type VlbObjective, vlbObjectiveLossAndGradient } from './vlbObjective.js';

const schedule = noiseSchedule('linear', 50);
const B = 3;
const C = 2; // channels per pixel
const pixels = 2;
const dims = C * pixels;

function batch(rng: Rng): { batch: VlbBatch; out: Float64Array } {
  const x0 = Float64Array.from({ length: B * dims }, () => rng.int(256) / 127.5 - 1);
  const eps = rng.fillNormal(new Float64Array(B * dims));
  const t = Int32Array.from([0, 7, 49]);
  const xt = x0.map((x, i) => {
    const tb = t[Math.floor(i / dims)];
    return schedule.sqrtAlphaBar[tb] * x + schedule.sqrtOneMinusAlphaBar[tb] * eps[i];
  });
  // Network output, per pixel C mean values then C v values; the mean near ε.
  const out = new Float64Array(2 * B * dims);
  for (let g = 0; g < B * pixels; g++)
    for (let c = 0; c < C; c++) {
      out[2 * g * C + c] = eps[g * C + c] + 0.1 * rng.normal();
      out[(2 * g + 1) * C + c] = 2 * rng.uniform() - 1;
    }
  return {
    batch: { x0, xt, t, target: eps, mseWeight: [1, 0.5, 2], importanceWeight: [0.7, 1.3, 2.1] },
    out,
  };
}

const isMean = (j: number) => Math.floor(j / C) % 2 === 0;

describe('vlbObjectiveLossAndGradient', () => {
  const rng = Rng.fromSeed(12);
  const { batch: b, out } = batch(rng);
  const run = (objective: VlbObjective, o: Float64Array) =>
    vlbObjectiveLossAndGradient(schedule, 'eps', 'discrete8bit', objective, b, o, C);
  const fd = (f: (o: Float64Array) => number, j: number, h = 1e-6) => {
    const plus = out.slice();
    const minus = out.slice();
    plus[j] += h;
    minus[j] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  };

  it('vlb: the gradient is that of the loss through mean and v (central differences, rtol 1e-5)', () => {
    const objective = { kind: 'vlb' } as const;
    const r = run(objective, out);
    for (let j = 0; j < out.length; j++) {
      const num = fd((o) => run(objective, o).loss, j);
      assertAllClose(r.grad[j], num, { rtol: 1e-5, atol: 1e-8 }, `element ${j}`);
    }
    // The loss is the importance-weighted mean of T·L_b.
    const expected =
      Array.from(b.importanceWeight!).reduce((s, w, i) => s + w * schedule.T * r.termBpd[i], 0) / B;
    assertAllClose(r.loss, expected, { rtol: 1e-13 });
  });

  it('hybrid: mean channels get only ∂L_simple (stop-gradient), v channels λ·∂L_vlb (central differences)', () => {
    const objective = { kind: 'hybrid', vlbWeight: 0.01 } as const;
    const r = run(objective, out);
    let stopActs = false;
    for (let j = 0; j < out.length; j++) {
      if (isMean(j)) {
        const num = fd((o) => run(objective, o).weightedMse, j);
        assertAllClose(r.grad[j], num, { rtol: 1e-5, atol: 1e-9 }, `mean element ${j}`);
        const full = fd((o) => run(objective, o).loss, j);
        if (Math.abs(full - num) > 1e-3 * Math.abs(num)) stopActs = true;
      } else {
        const num = fd((o) => run(objective, o).loss, j);
        assertAllClose(r.grad[j], num, { rtol: 1e-5, atol: 1e-9 }, `v element ${j}`);
        // v does not enter L_simple.
        expect(fd((o) => run(objective, o).weightedMse, j)).toBe(0);
      }
    }
    expect(stopActs).toBe(true); // the mean does enter L_vlb: the stop-gradient changes its gradient
    assertAllClose(r.loss, r.weightedMse + 0.01 * r.vlbBpd, { rtol: 1e-13 });
  });
});
