/**
 * What the network predicts, and the exact conversions between the three choices. With
 * a_t = √ᾱ_t and s_t = √(1 − ᾱ_t) (so a² + s² = 1):
 *
 *   x_t = a x0 + s ε        v = a ε − s x0        x0 = a x_t − s v        ε = s x_t + a v
 *
 * Every conversion takes (schedule, xt, t, prediction): given x_t, one of (x0, ε, v) fixes the others.
 *
 * References:
 * - [Ho20] Ho, Jain, Abbeel 2020, arXiv:2006.11239v2 (ε-prediction; eq. 4, eq. 15 for x̂0)
 * - [SH22] Salimans & Ho 2022, "Progressive Distillation for Fast Sampling of Diffusion Models",
 *   arXiv:2202.00512v2, §4 and Appendix D (v-prediction, v ≡ α_t ε − σ_t x)
 * - [Song21] Song, Meng, Ermon 2021, DDIM, arXiv:2010.02502v4, eq. 9 (the x0 prediction f_θ)
 */

import { assertNever, assertSameLength, assertTimestep } from '../math/checks.js';
import type { NoiseSchedule } from './schedule.js';

/** The network's output: the noise ε, the clean data x0, or the velocity v. */
export type Prediction = 'eps' | 'x0' | 'v';

/** Every {@link Prediction}, for validating strings from the command line or a config file. */
export const PREDICTIONS: readonly Prediction[] = ['eps', 'x0', 'v'];

/** True if `s` names a prediction target. */
export function isPrediction(s: string): s is Prediction {
  return (PREDICTIONS as readonly string[]).includes(s);
}

function checkPrediction(p: string): asserts p is Prediction {
  if (!isPrediction(p)) {
    throw new Error(
      `unknown prediction '${p}'; expected one of ${PREDICTIONS.map((n) => `'${n}'`).join(', ')}`,
    );
  }
}

/** out[i] = p·u[i] + q·w[i], after checking that w and out have the length of u (named in errors). */
function combine(
  u: ArrayLike<number>,
  p: number,
  w: ArrayLike<number>,
  q: number,
  out: Float64Array | undefined,
  names: [u: string, w: string],
): Float64Array {
  const n = u.length;
  const r = out ?? new Float64Array(n);
  if (w.length !== n) throw new Error(`${names[1]} has length ${w.length} but ${names[0]} has length ${n}`);
  assertSameLength(n, { out: r });
  for (let i = 0; i < n; i++) r[i] = p * u[i] + q * w[i];
  return r;
}

function coefs(schedule: NoiseSchedule, t: number): [a: number, s: number] {
  assertTimestep(t, schedule.T);
  return [schedule.sqrtAlphaBar[t], schedule.sqrtOneMinusAlphaBar[t]];
}

/**
 * x0 from the predicted noise.
 * Formula: x0 = (x_t − √(1 − ᾱ_t) ε)/√ᾱ_t
 * @see [Ho20] eq. 15; [Song21] eq. 9
 */
export function predictX0FromEps(
  schedule: NoiseSchedule,
  xt: ArrayLike<number>,
  t: number,
  eps: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const [a, s] = coefs(schedule, t);
  return combine(xt, 1 / a, eps, -s / a, out, ['xt', 'eps']);
}

/**
 * The noise from a predicted x0.
 * Formula: ε = (x_t − √ᾱ_t x0)/√(1 − ᾱ_t)
 * @see [Ho20] eq. 4 solved for ε
 */
export function predictEpsFromX0(
  schedule: NoiseSchedule,
  xt: ArrayLike<number>,
  t: number,
  x0: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const [a, s] = coefs(schedule, t);
  return combine(xt, 1 / s, x0, -a / s, out, ['xt', 'x0']);
}

/**
 * x0 from a predicted velocity.
 * Formula: x0 = √ᾱ_t x_t − √(1 − ᾱ_t) v
 * @see [SH22] §4
 */
export function predictX0FromV(
  schedule: NoiseSchedule,
  xt: ArrayLike<number>,
  t: number,
  v: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const [a, s] = coefs(schedule, t);
  return combine(xt, a, v, -s, out, ['xt', 'v']);
}

/**
 * The noise from a predicted velocity.
 * Formula: ε = √(1 − ᾱ_t) x_t + √ᾱ_t v
 * @see [SH22] §4 and Appendix D
 */
export function predictEpsFromV(
  schedule: NoiseSchedule,
  xt: ArrayLike<number>,
  t: number,
  v: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const [a, s] = coefs(schedule, t);
  return combine(xt, s, v, a, out, ['xt', 'v']);
}

/**
 * The velocity from a predicted noise (v = √ᾱ ε − √(1 − ᾱ) x0 with x0 from x_t and ε).
 * Formula: v = (ε − √(1 − ᾱ_t) x_t)/√ᾱ_t
 * @see [SH22] §4
 */
export function predictVFromEps(
  schedule: NoiseSchedule,
  xt: ArrayLike<number>,
  t: number,
  eps: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const [a, s] = coefs(schedule, t);
  return combine(eps, 1 / a, xt, -s / a, out, ['eps', 'xt']);
}

/**
 * The velocity from a predicted x0 (v = √ᾱ ε − √(1 − ᾱ) x0 with ε from x_t and x0).
 * Formula: v = (√ᾱ_t x_t − x0)/√(1 − ᾱ_t)
 * @see [SH22] §4
 */
export function predictVFromX0(
  schedule: NoiseSchedule,
  xt: ArrayLike<number>,
  t: number,
  x0: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const [a, s] = coefs(schedule, t);
  return combine(xt, a / s, x0, -1 / s, out, ['xt', 'x0']);
}

/**
 * The v-prediction training target from the clean data and the noise that made x_t.
 * Formula: v = √ᾱ_t ε − √(1 − ᾱ_t) x0
 * @see [SH22] §4 (v ≡ α_t ε − σ_t x)
 */
export function computeV(
  schedule: NoiseSchedule,
  x0: ArrayLike<number>,
  t: number,
  eps: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const [a, s] = coefs(schedule, t);
  return combine(eps, a, x0, -s, out, ['eps', 'x0']);
}

/**
 * x0 implied by a model output of the given kind (the output itself for 'x0').
 * @see [Ho20] eq. 15; [SH22] §4
 */
export function predictX0(
  schedule: NoiseSchedule,
  prediction: Prediction,
  xt: ArrayLike<number>,
  t: number,
  modelOut: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  checkPrediction(prediction);
  switch (prediction) {
    case 'eps':
      return predictX0FromEps(schedule, xt, t, modelOut, out);
    case 'x0':
      return copyChecked(schedule, xt, t, modelOut, out);
    case 'v':
      return predictX0FromV(schedule, xt, t, modelOut, out);
    default:
      return assertNever(prediction, 'prediction');
  }
}

/**
 * ε implied by a model output of the given kind (the output itself for 'eps').
 * @see [Ho20] eq. 4; [SH22] §4
 */
export function predictEps(
  schedule: NoiseSchedule,
  prediction: Prediction,
  xt: ArrayLike<number>,
  t: number,
  modelOut: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  checkPrediction(prediction);
  switch (prediction) {
    case 'eps':
      return copyChecked(schedule, xt, t, modelOut, out);
    case 'x0':
      return predictEpsFromX0(schedule, xt, t, modelOut, out);
    case 'v':
      return predictEpsFromV(schedule, xt, t, modelOut, out);
    default:
      return assertNever(prediction, 'prediction');
  }
}

/**
 * v implied by a model output of the given kind (the output itself for 'v').
 * @see [SH22] §4
 */
export function predictV(
  schedule: NoiseSchedule,
  prediction: Prediction,
  xt: ArrayLike<number>,
  t: number,
  modelOut: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  checkPrediction(prediction);
  switch (prediction) {
    case 'eps':
      return predictVFromEps(schedule, xt, t, modelOut, out);
    case 'x0':
      return predictVFromX0(schedule, xt, t, modelOut, out);
    case 'v':
      return copyChecked(schedule, xt, t, modelOut, out);
    default:
      return assertNever(prediction, 'prediction');
  }
}

function copyChecked(
  schedule: NoiseSchedule,
  xt: ArrayLike<number>,
  t: number,
  modelOut: ArrayLike<number>,
  out: Float64Array | undefined,
): Float64Array {
  assertTimestep(t, schedule.T);
  const n = xt.length;
  const r = out ?? new Float64Array(n);
  assertSameLength(n, { prediction: modelOut, out: r });
  for (let i = 0; i < n; i++) r[i] = modelOut[i];
  return r;
}
