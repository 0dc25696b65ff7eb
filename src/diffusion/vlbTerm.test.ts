import { describe, expect, it } from 'vitest';
import { assertAllClose } from '../math/checks.js';
import { discretizedGaussianLogLikelihood, normalKlSum } from '../math/gaussian.js';
import { Rng } from '../random/rng.js';
import { learnedRangeLogVariance } from './learnedVariance.js';
import { predictX0, type Prediction } from './parameterization.js';
import { qPosteriorMeanVariance } from './posterior.js';
import { noiseSchedule } from './schedule.js';
import { type DataKind, reverseMeanCoefficients, vlbTermWithGradient } from './vlbTerm.js';

const schedule = noiseSchedule('linear', 1000);
const dims = 6;

/** 8-bit data scaled to [−1, 1], including both edge bins. */
function eightBit(rng: Rng): Float64Array {
  const x = Float64Array.from({ length: dims }, () => rng.int(256) / 127.5 - 1);
  x[0] = -1;
  x[1] = 1;
  return x;
}

function example(rng: Rng, t: number, prediction: Prediction) {
  const x0 = eightBit(rng);
  const eps = rng.fillNormal(new Float64Array(dims));
  const xt = x0.map((v, i) => schedule.sqrtAlphaBar[t] * v + schedule.sqrtOneMinusAlphaBar[t] * eps[i]);
  // A slightly wrong prediction, so the gradients are not all near 0.
  const truth =
    prediction === 'eps'
      ? eps
      : prediction === 'x0'
        ? x0
        : eps.map((e, i) => schedule.sqrtAlphaBar[t] * e - schedule.sqrtOneMinusAlphaBar[t] * x0[i]);
  const meanOut = truth.map((v) => v + 0.05 * rng.normal());
  const v = Float64Array.from({ length: dims }, () => 2 * rng.uniform() - 1);
  return { t, x0, xt, meanOut, variance: v };
}

describe('reverseMeanCoefficients', () => {
  it('μ_θ = xt·x_t + out·o equals the posterior mean at the predicted x0 for ε, x0 and v (1e-12)', () => {
    const rng = Rng.fromSeed(3);
    for (const prediction of ['eps', 'x0', 'v'] as const) {
      for (const t of [0, 1, 10, 500, 999]) {
        const xt = rng.fillNormal(new Float64Array(dims));
        const out = rng.fillNormal(new Float64Array(dims));
        const x0 = predictX0(schedule, prediction, xt, t, out);
        const expected = qPosteriorMeanVariance(schedule, x0, xt, t).mean;
        const c = reverseMeanCoefficients(schedule, prediction, t);
        const got = xt.map((x, i) => c.xt * x + c.out * out[i]);
        assertAllClose(got, expected, { rtol: 1e-12, atol: 1e-12 }, `${prediction} t=${t}`);
      }
    }
  });
});

describe('vlbTermWithGradient', () => {
  it('t ≥ 1: equals the Gaussian KL to q(x_{t−1}|x_t,x0); t = 0: the discretized decoder NLL (1e-12)', () => {
    const rng = Rng.fromSeed(5);
    for (const t of [0, 1, 300, 999]) {
      const e = example(rng, t, 'eps');
      const c = reverseMeanCoefficients(schedule, 'eps', t);
      const m = e.xt.map((x, i) => c.xt * x + c.out * e.meanOut[i]);
      const logVar = learnedRangeLogVariance(schedule, t, e.variance);
      const expected =
        t === 0
          ? -discretizedGaussianLogLikelihood(
              e.x0,
              m,
              logVar.map((l) => 0.5 * l),
            ).reduce((a, b) => a + b, 0)
          : normalKlSum(
              qPosteriorMeanVariance(schedule, e.x0, e.xt, t).mean,
              Math.log(schedule.posteriorVariance[t]),
              m,
              logVar,
            );
      const got = vlbTermWithGradient(schedule, 'eps', 'discrete8bit', e);
      assertAllClose(got, expected, { rtol: 1e-12 }, `t=${t}`);
    }
  });

  it('its gradient in the mean output and in v matches central differences (float64, h = 1e-6, rtol 1e-5)', () => {
    const rng = Rng.fromSeed(7);
    const cases: [Prediction, number, DataKind][] = [];
    for (const p of ['eps', 'x0', 'v'] as const)
      for (const t of [0, 1, 20, 400, 999]) cases.push([p, t, 'discrete8bit']);
    cases.push(['eps', 0, 'continuous'], ['v', 0, 'continuous']);
    for (const [prediction, t, data] of cases) {
      const e = example(rng, t, prediction);
      const grad = { mean: new Float64Array(dims), v: new Float64Array(dims) };
      vlbTermWithGradient(schedule, prediction, data, e, grad);
      const f = (meanOut: Float64Array, variance: Float64Array) =>
        vlbTermWithGradient(schedule, prediction, data, { ...e, meanOut, variance });
      const h = 1e-6;
      for (let i = 0; i < dims; i++) {
        const bump = (a: Float64Array, d: number) => a.map((x, j) => (j === i ? x + d : x));
        const dMean = (f(bump(e.meanOut, h), e.variance) - f(bump(e.meanOut, -h), e.variance)) / (2 * h);
        const dV = (f(e.meanOut, bump(e.variance, h)) - f(e.meanOut, bump(e.variance, -h))) / (2 * h);
        const what = `${prediction} t=${t} ${data} element ${i}`;
        assertAllClose(
          grad.mean[i],
          dMean,
          { rtol: 1e-5, atol: 1e-6 * (1 + Math.abs(dMean)) },
          `${what} mean`,
        );
        assertAllClose(grad.v[i], dV, { rtol: 1e-5, atol: 1e-7 }, `${what} v`);
      }
    }
  });

  it('a fixed log variance gives the same value as learned v at the same log variance, and no v gradient', () => {
    const rng = Rng.fromSeed(11);
    const e = example(rng, 200, 'eps');
    e.variance.fill(-1);
    const learned = vlbTermWithGradient(schedule, 'eps', 'discrete8bit', e);
    const grad = { mean: new Float64Array(dims), v: new Float64Array(dims).fill(7) };
    const fixed = vlbTermWithGradient(
      schedule,
      'eps',
      'discrete8bit',
      { ...e, variance: { logVar: schedule.posteriorLogVarianceClipped[200] } },
      grad,
    );
    assertAllClose(fixed, learned, { rtol: 1e-13 });
    expect([...grad.v]).toEqual(new Array(dims).fill(7));
  });
});
