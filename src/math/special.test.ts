import { describe, expect, it } from 'vitest';
import { assertAllClose } from './checks.js';
import {
  erf,
  erfc,
  erfcx,
  expm1MinusX,
  log1mexp,
  logSigmoid,
  normalCdf,
  normalLogCdf,
  normalPdf,
  sigmoid,
  softplus,
} from './special.js';

// Reference values: mpmath 1.3.0 with mp.dps = 50 — ncdf(mpf(x)) and log(ncdf(mpf(x))) at the float64 x
// as written (mpf(-5.65), not the decimal −5.65: at |x| = 5.65 the difference alone is 2e-15 in Φ) —
// rounded to float64. Three also appear in the brief: Φ(1) = 0.8413447460685429,
// Φ(−5) = 2.866515718791939e-7, Φ(−10) = 7.61985302416047e-24 (the last to 15 digits).
// Points ±0.66/±0.67 and ±5.65/±5.66 straddle Cody's branch points |x|/√2 = 0.46875 and |x|/√2 = 4.
const PHI_TABLE: [x: number, phi: number, logPhi: number][] = [
  [-37.3, 8.205494844930773e-305, -700.1836493302922],
  [-33.1, 1.4859285199642455e-240, -552.2243824757444],
  [-28.7, 1.9076188518412684e-181, -416.1220460420374],
  [-25.25, 5.662814628323675e-141, -322.930577059394],
  [-21.9, 1.2989034624615753e-106, -243.81249943925374],
  [-17.45, 1.7211637002662499e-68, -156.03278569161776],
  [-13.3, 1.1573416283690325e-40, -91.95727804428796],
  [-10, 7.619853024160525e-24, -53.23128515051247],
  [-9.71, 1.3666855782034309e-22, -50.344483523212766],
  [-7.07, 7.746684865636478e-13, -27.886341216345148],
  [-5.66, 7.568649751997714e-9, -18.69925115370278],
  [-5.65, 8.022391850663497e-9, -18.64102922378785],
  [-5, 2.866515718791939e-7, -15.064998393988725],
  [-4.4, 5.412543907703851e-6, -12.126791352390722],
  [-3.3, 0.0004834241423837775, -7.634616148071127],
  [-2.2, 0.013903447513498604, -4.275618447044144],
  [-1.5, 0.06680720126885807, -2.7059444008238898],
  [-1, 0.15865525393145705, -1.8410216450092636],
  [-0.9, 0.18406012534675947, -1.6924928065613383],
  [-0.67, 0.2514288950953101, -1.3805950526951891],
  [-0.66, 0.25462691467133614, -1.3679558848901994],
  [-0.3, 0.3820885778110474, -0.9621028181688507],
  [-0.001, 0.49960105778608893, -0.6939453834669652],
  [0, 0.5, -Math.LN2],
  [0.001, 0.500398942213911, -0.6923496142726883],
  [0.3, 0.6179114221889527, -0.4814101615884812],
  [0.66, 0.7453730853286639, -0.29387040027781763],
  [0.67, 0.7485711049046899, -0.289589083101687],
  [0.9, 0.8159398746532405, -0.2034146097557469],
  [1, 0.8413447460685429, -0.17275377902344988],
  [1.5, 0.9331927987311419, -0.06914345561223398],
  [2.2, 0.9860965524865014, -0.014001005759384578],
  [3.3, 0.9995165758576162, -0.00048354102950672],
  [4.4, 0.9999945874560923, -5.412558555572483e-6],
  [5.65, 0.9999999919776081, -8.022391882842883e-9],
  [5.66, 0.9999999924313503, -7.568649780639943e-9],
  [6.5, 0.99999999995984, -4.016000583939759e-11],
  [7.7, 0.9999999999999932, -6.803311540773985e-15],
  [8.6, 1, -3.985804962848182e-18],
];

// log Φ far beyond float64's range for Φ itself (same source).
const LOG_PHI_FAR: [number, number][] = [
  [-100000, -5000000012.431864],
  [-1000, -500007.82669481216],
  [-100, -5005.524208694205],
  [-40, -804.6084420137538],
  [12, -1.776482112077679e-33],
];

describe('normal CDF (Cody 1969 erfc)', () => {
  it('matches mpmath to 1e-15 relative, from the far lower tail to the upper one', () => {
    for (const [x, ref] of PHI_TABLE) assertAllClose(normalCdf(x), ref, { rtol: 1e-15 }, `Φ(${x})`);
  });

  it('log Φ matches mpmath to 1e-15 relative, with no underflow in the lower tail', () => {
    for (const [x, , ref] of PHI_TABLE) assertAllClose(normalLogCdf(x), ref, { rtol: 1e-15 }, `log Φ(${x})`);
    for (const [x, ref] of LOG_PHI_FAR) assertAllClose(normalLogCdf(x), ref, { rtol: 1e-15 }, `log Φ(${x})`);
    // The naive log(Φ(x)) underflows to −∞ below x ≈ −38.5; ours continues.
    expect(Math.log(normalCdf(-40))).toBe(-Infinity);
    expect(Number.isFinite(normalLogCdf(-1e6))).toBe(true);
    expect(normalLogCdf(-Infinity)).toBe(-Infinity);
    expect(normalLogCdf(Infinity) === 0).toBe(true);
  });

  it('log Φ agrees with log(Φ) where both are accurate, x ≤ 0 (1e-14 relative)', () => {
    // (For x > 0, log(Φ(x)) itself loses digits since Φ(x) ≈ 1; the table above covers that side.)
    for (let x = -35; x <= 0; x += 0.37) {
      assertAllClose(normalLogCdf(x), Math.log(normalCdf(x)), { rtol: 1e-14 }, `log Φ(${x})`);
    }
  });

  it('satisfies Φ(x) + Φ(−x) = 1 (to 2e-16 absolute) and is monotone', () => {
    let prev = 0;
    for (let x = -8; x <= 8; x += 0.01) {
      expect(Math.abs(normalCdf(x) + normalCdf(-x) - 1)).toBeLessThanOrEqual(2.3e-16);
      expect(normalCdf(x)).toBeGreaterThanOrEqual(prev);
      prev = normalCdf(x);
    }
  });

  it('propagates NaN and saturates at ±∞', () => {
    expect(normalCdf(NaN)).toBeNaN();
    expect(normalLogCdf(NaN)).toBeNaN();
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
  });

  it('normal density at 1 equals mpmath npdf(1) = 0.24197072451914334 (1e-15 relative)', () => {
    assertAllClose(normalPdf(1), 0.24197072451914334, { rtol: 1e-15 });
    assertAllClose(normalPdf(-50), 0, { atol: 0 });
  });
});

describe('erf, erfc, erfcx', () => {
  it('match mpmath to 2e-15 relative', () => {
    const cases: [(x: number) => number, string, number, number][] = [
      [erfc, 'erfc', 0.1, 0.8875370839817152],
      [erfc, 'erfc', 0.5, 0.4795001221869535],
      [erfc, 'erfc', 2, 0.004677734981047266],
      [erfc, 'erfc', 5, 1.537459794428035e-12],
      [erfc, 'erfc', 20, 5.395865611607901e-176],
      [erf, 'erf', 0.3, 0.32862675945912745],
      [erf, 'erf', -1.2, -0.9103139782296353],
      [erf, 'erf', 3, 0.9999779095030014],
      [erfcx, 'erfcx', 0.7, 0.525930337349441],
      [erfcx, 'erfcx', 30, 0.01879588886141675],
      [erfcx, 'erfcx', 1e5, 5.6418958351954685e-6],
    ];
    for (const [fn, name, x, ref] of cases) assertAllClose(fn(x), ref, { rtol: 2e-15 }, `${name}(${x})`);
  });

  it('are consistent: erf + erfc = 1, erfc(−x) = 2 − erfc(x), erfcx = exp(x²) erfc (1e-15)', () => {
    for (let x = -6; x <= 6; x += 0.173) {
      assertAllClose(erf(x) + erfc(x), 1, { atol: 2e-16 }, `erf+erfc at ${x}`);
      assertAllClose(erfc(-x), 2 - erfc(x), { atol: 4e-16 }, `erfc symmetry at ${x}`);
      assertAllClose(erfcx(x), Math.exp(x * x) * erfc(x), { rtol: 1e-13 }, `erfcx at ${x}`);
    }
    expect(erfc(30)).toBe(0);
    expect(erfcx(-30)).toBe(Infinity);
  });
});

describe('log/exp helpers', () => {
  it('log1mexp(a) = log(1 − eᵃ) is accurate near 0 and far below it', () => {
    // log(1 − e^{−1e-20}) = log(1e-20 − 5e-41 …) = log(1e-20) to double precision.
    assertAllClose(log1mexp(-1e-20), Math.log(1e-20), { rtol: 1e-15 });
    assertAllClose(log1mexp(-50), -Math.exp(-50), { rtol: 1e-15 }); // log(1 − ε) ≈ −ε
    assertAllClose(log1mexp(-1), Math.log(1 - Math.exp(-1)), { rtol: 1e-15 });
    expect(log1mexp(0)).toBe(-Infinity);
    expect(log1mexp(1)).toBeNaN();
  });

  it('softplus, sigmoid and logSigmoid are finite and exact at ±100 (1e-15)', () => {
    assertAllClose(softplus(100), 100, { rtol: 1e-15 });
    assertAllClose(softplus(-100), Math.exp(-100), { rtol: 1e-15 }); // log1p(e^{−100}) = e^{−100} to rounding
    assertAllClose(softplus(0.5), Math.log(1 + Math.exp(0.5)), { rtol: 1e-15 });
    assertAllClose(sigmoid(-100), Math.exp(-100), { rtol: 1e-15 });
    expect(sigmoid(100)).toBe(1);
    assertAllClose(logSigmoid(-100), -100, { rtol: 1e-15 });
    assertAllClose(logSigmoid(2), -0.1269280110429725, { rtol: 1e-15 }); // mpmath log(1/(1 + e^{−2}))
  });

  it('expm1MinusX(x) = eˣ − 1 − x matches mpmath without cancellation near 0 (1e-15)', () => {
    const cases: [number, number][] = [
      [1e-8, 5.0000000166666667e-17],
      [0.3, 0.049858807576003104],
      [-0.3, 0.040818220681717865],
      [-2, 1.1353352832366126],
      [5, 142.4131591025766],
    ];
    for (const [x, ref] of cases) assertAllClose(expm1MinusX(x), ref, { rtol: 1e-15 }, `expm1MinusX(${x})`);
    expect(expm1MinusX(0)).toBe(0);
    // improved-diffusion's form exp(x) − 1 − x is off by ~1e-16 absolute here, over 100% relative.
    expect(Math.abs(Math.exp(1e-8) - 1 - 1e-8 - 5.0000000166666667e-17)).toBeGreaterThan(1e-18);
  });
});
