/**
 * Small checks shared by the numeric modules and their tests: exhaustive switches, argument
 * validation, and an `allClose` in the numpy sense (|a − b| ≤ atol + rtol·|b|).
 *
 * No references: plain programming helpers.
 */

/** Marks the unreachable branch of an exhaustive switch; throws if a bad value slips in at run time. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** Throws unless `t` is an integer timestep in [0, T−1]. */
export function assertTimestep(t: number, T: number): void {
  if (!Number.isInteger(t) || t < 0 || t >= T) {
    throw new Error(`timestep t must be an integer in [0, ${T - 1}] (0-based, T = ${T}), got ${t}`);
  }
}

/** Throws unless the arrays have the given length. */
export function assertSameLength(expected: number, arrays: Record<string, ArrayLike<number>>): void {
  for (const [name, a] of Object.entries(arrays)) {
    if (a.length !== expected) {
      throw new Error(`${name} has length ${a.length}, expected ${expected}`);
    }
  }
}

/** Tolerances for {@link allClose}: passes where |actual − expected| ≤ atol + rtol·|expected|. */
export interface CloseOptions {
  /** Relative tolerance (default 1e-12). */
  rtol?: number;
  /** Absolute tolerance (default 0). */
  atol?: number;
}

/** The worst element of a comparison: its index, both values and the allowed difference. */
export interface CloseReport {
  ok: boolean;
  /** Index of the element with the largest excess over its tolerance (−1 for empty input). */
  index: number;
  actual: number;
  expected: number;
  absDiff: number;
  allowed: number;
}

function toArray(x: number | ArrayLike<number>): ArrayLike<number> {
  return typeof x === 'number' ? [x] : x;
}

/**
 * Elementwise comparison |actual − expected| ≤ atol + rtol·|expected| (numpy.allclose semantics).
 * Identical values (including equal infinities) compare equal; NaN and unequal infinities never do.
 */
export function compareClose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  options: CloseOptions = {},
): CloseReport {
  const rtol = options.rtol ?? 1e-12;
  const atol = options.atol ?? 0;
  const a = toArray(actual);
  const e = toArray(expected);
  if (a.length !== e.length) {
    throw new Error(`compareClose: actual has length ${a.length}, expected has length ${e.length}`);
  }
  let worst: CloseReport = { ok: true, index: -1, actual: NaN, expected: NaN, absDiff: 0, allowed: 0 };
  let worstExcess = -Infinity;
  let ok = true;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i];
    const ei = e[i];
    if (ai === ei) continue; // also covers equal infinities
    const allowed = atol + rtol * Math.abs(ei);
    const absDiff = Math.abs(ai - ei);
    const pass = Number.isFinite(ai) && Number.isFinite(ei) && absDiff <= allowed; // NaN, ±∞ fail
    if (!pass) ok = false;
    const excess = pass ? absDiff - allowed : Number.isNaN(absDiff - allowed) ? Infinity : absDiff - allowed;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = { ok: pass, index: i, actual: ai, expected: ei, absDiff, allowed };
    }
  }
  worst.ok = ok;
  return worst;
}

/** True when every element is close (see {@link compareClose}). */
export function allClose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  options: CloseOptions = {},
): boolean {
  return compareClose(actual, expected, options).ok;
}

/** Throws an error naming the worst element unless every element is close (see {@link compareClose}). */
export function assertAllClose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  options: CloseOptions = {},
  label = 'values',
): void {
  const r = compareClose(actual, expected, options);
  if (!r.ok) {
    throw new Error(
      `${label} not close at index ${r.index}: actual ${r.actual}, expected ${r.expected}, ` +
        `|diff| ${r.absDiff} > allowed ${r.allowed} (rtol ${options.rtol ?? 1e-12}, atol ${options.atol ?? 0})`,
    );
  }
}
