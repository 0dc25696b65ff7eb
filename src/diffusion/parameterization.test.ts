import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { Rng } from '../random/rng.js';
import { qSample } from './forward.js';
import {
  computeV,
  isPrediction,
  PREDICTIONS,
  type Prediction,
  predictEps,
  predictEpsFromV,
  predictEpsFromX0,
  predictV,
  predictVFromEps,
  predictVFromX0,
  predictX0,
  predictX0FromEps,
  predictX0FromV,
} from './parameterization.js';
import { type NoiseSchedule, noiseSchedule } from './schedule.js';

const D = 64;

function draw(seed: number): { x0: Float64Array; eps: Float64Array } {
  const rng = Rng.fromSeed(seed);
  return { x0: rng.fillNormal(new Float64Array(D)), eps: rng.fillNormal(new Float64Array(D)) };
}

/**
 * Tolerance for a conversion at step t: rounding of x_t (|x_t| ≲ 5) is amplified by 1/√ᾱ_t or
 * 1/√(1 − ᾱ_t) in the divisions, so allow 1e-14 times the larger of those (≤ 1e-12 for t ≤ 990 on
 * these schedules; ~2e-10 at the cosine schedule's last step, where √ᾱ ≈ 5e-5).
 */
function tol(s: NoiseSchedule, t: number): { atol: number; rtol: number } {
  const amp = Math.max(1 / s.sqrtAlphaBar[t], 1 / s.sqrtOneMinusAlphaBar[t]);
  return { atol: 1e-14 * amp, rtol: 0 };
}

const SCHEDULES: [string, NoiseSchedule][] = [
  ['linear', noiseSchedule('linear', 1000)],
  ['cosine', noiseSchedule('cosine', 1000)],
];
const STEPS = [0, 10, 500, 990, 999];

describe('ε ↔ x0 ↔ v conversions', () => {
  it('recover x0, ε and v from x_t = √ᾱ x0 + √(1 − ᾱ) ε and v = √ᾱ ε − √(1 − ᾱ) x0', () => {
    for (const [name, s] of SCHEDULES) {
      for (const t of STEPS) {
        const { x0, eps } = draw(t + 1);
        const xt = qSample(s, x0, t, eps);
        // v written out here from ᾱ directly, independent of the schedule's √ tables and of computeV.
        const ab = s.alphaBar[t];
        const v = eps.map((e, i) => Math.sqrt(ab) * e - Math.sqrt(1 - ab) * x0[i]);
        const o = tol(s, t);
        const at = `${name} t=${t}`;
        assertAllClose(computeV(s, x0, t, eps), v, { atol: 1e-14 }, `computeV ${at}`);
        assertAllClose(predictX0FromEps(s, xt, t, eps), x0, o, `x0←ε ${at}`);
        assertAllClose(predictEpsFromX0(s, xt, t, x0), eps, o, `ε←x0 ${at}`);
        assertAllClose(predictX0FromV(s, xt, t, v), x0, o, `x0←v ${at}`);
        assertAllClose(predictEpsFromV(s, xt, t, v), eps, o, `ε←v ${at}`);
        assertAllClose(predictVFromEps(s, xt, t, eps), v, o, `v←ε ${at}`);
        assertAllClose(predictVFromX0(s, xt, t, x0), v, o, `v←x0 ${at}`);
      }
    }
  });

  it('round-trip ε → x0 → ε, x0 → v → x0 and v → (x0, ε) → v to 1e-12 for t ≤ 990', () => {
    for (const [name, s] of SCHEDULES) {
      for (const t of STEPS.filter((u) => u <= 990)) {
        const { x0, eps } = draw(100 + t);
        const xt = qSample(s, x0, t, eps);
        const at = `${name} t=${t}`;
        const o = { atol: 1e-12, rtol: 0 };
        assertAllClose(predictEpsFromX0(s, xt, t, predictX0FromEps(s, xt, t, eps)), eps, o, `ε→x0→ε ${at}`);
        assertAllClose(predictX0FromV(s, xt, t, predictVFromX0(s, xt, t, x0)), x0, o, `x0→v→x0 ${at}`);
        const v = computeV(s, x0, t, eps);
        const x0v = predictX0FromV(s, xt, t, v);
        const epsV = predictEpsFromV(s, xt, t, v);
        assertAllClose(computeV(s, x0v, t, epsV), v, o, `v→(x0,ε)→v ${at}`);
        assertAllClose(qSample(s, x0v, t, epsV), xt, o, `(x0,ε) from v reproduce x_t ${at}`);
      }
    }
  });

  it('dispatchers agree with the named conversions for every prediction kind, and copy for the identity', () => {
    const s = noiseSchedule('cosine', 100);
    const t = 40;
    const { x0, eps } = draw(7);
    const xt = qSample(s, x0, t, eps);
    const v = computeV(s, x0, t, eps);
    const outputs: Record<Prediction, Float64Array> = { eps, x0, v };
    for (const p of PREDICTIONS) {
      const out = outputs[p];
      assertAllClose(predictX0(s, p, xt, t, out), x0, { atol: 1e-13 }, `predictX0 ${p}`);
      assertAllClose(predictEps(s, p, xt, t, out), eps, { atol: 1e-13 }, `predictEps ${p}`);
      assertAllClose(predictV(s, p, xt, t, out), v, { atol: 1e-13 }, `predictV ${p}`);
    }
    const copy = predictX0(s, 'x0', xt, t, x0);
    expect(copy).not.toBe(x0);
    expect(copy).toEqual(x0);
  });

  it('validates the prediction kind, the timestep and the lengths', () => {
    const s = noiseSchedule('linear', 10);
    expect(isPrediction('v')).toBe(true);
    expect(isPrediction('score')).toBe(false);
    expect(() => predictX0(s, 'score' as Prediction, [0], 1, [0])).toThrow(
      /unknown prediction 'score'; expected one of 'eps', 'x0', 'v'/,
    );
    expect(() => predictX0FromEps(s, [0], 10, [0])).toThrow(/got 10/);
    expect(() => predictEpsFromV(s, [0, 0], 3, [0])).toThrow(/v has length 1 but xt has length 2/);
    expect(() => predictEps(s, 'eps', [0, 0], 3, [0])).toThrow(/prediction has length 1, expected 2/);
  });
});
