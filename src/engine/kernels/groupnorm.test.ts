// GroupNorm kernels (src/engine/assembly/groupnorm.ts) against a float64 reference of PyTorch's
// torch.nn.GroupNorm on NHWC data, and the backward against central differences of that reference.
import { describe, expect, it } from 'vitest';
import { download, randnFloat32, startTestEngine, upload } from '../../../test/helpers/engine.js';
import { Rng } from '../../random/rng.js';

const { engine } = await startTestEngine({ threads: 2 });

interface Shape {
  N: number;
  hw: number;
  C: number;
  G: number;
}

/** Float64 GroupNorm forward (PyTorch semantics: biased variance over H·W·C/G values per (n, g)). */
function refForward(
  x: Float64Array,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  s: Shape,
  eps: number,
) {
  const { N, hw, C, G } = s;
  const cg = C / G;
  const y = new Float64Array(x.length);
  const mean = new Float64Array(N * G);
  const rstd = new Float64Array(N * G);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      let sum = 0;
      for (let p = 0; p < hw; p++) for (let c = g * cg; c < (g + 1) * cg; c++) sum += x[(n * hw + p) * C + c];
      const mu = sum / (hw * cg);
      let ss = 0;
      for (let p = 0; p < hw; p++)
        for (let c = g * cg; c < (g + 1) * cg; c++) ss += (x[(n * hw + p) * C + c] - mu) ** 2;
      const r = 1 / Math.sqrt(ss / (hw * cg) + eps);
      mean[n * G + g] = mu;
      rstd[n * G + g] = r;
      for (let p = 0; p < hw; p++) {
        for (let c = g * cg; c < (g + 1) * cg; c++) {
          const i = (n * hw + p) * C + c;
          y[i] = (x[i] - mu) * r * gamma[c] + beta[c];
        }
      }
    }
  }
  return { y, mean, rstd };
}

/** Float64 backward, written from the chain rule on x̂ = (x − μ)·rstd (PyTorch's formula). */
function refBackward(x: Float64Array, dy: Float64Array, gamma: ArrayLike<number>, s: Shape, eps: number) {
  const { N, hw, C, G } = s;
  const cg = C / G;
  const M = hw * cg;
  const { mean, rstd } = refForward(x, gamma, new Float64Array(C), s, eps);
  const dx = new Float64Array(x.length);
  const dGamma = new Float64Array(N * C);
  const dBeta = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const mu = mean[n * G + g];
      const r = rstd[n * G + g];
      let sumDxh = 0; // Σ dx̂, dx̂ = dy·γ
      let sumDxhXh = 0; // Σ dx̂·x̂
      for (let p = 0; p < hw; p++) {
        for (let c = g * cg; c < (g + 1) * cg; c++) {
          const i = (n * hw + p) * C + c;
          const xh = (x[i] - mu) * r;
          sumDxh += dy[i] * gamma[c];
          sumDxhXh += dy[i] * gamma[c] * xh;
          dGamma[n * C + c] += dy[i] * xh;
          dBeta[n * C + c] += dy[i];
        }
      }
      for (let p = 0; p < hw; p++) {
        for (let c = g * cg; c < (g + 1) * cg; c++) {
          const i = (n * hw + p) * C + c;
          const xh = (x[i] - mu) * r;
          dx[i] = r * (dy[i] * gamma[c] - sumDxh / M - (xh * sumDxhXh) / M);
        }
      }
    }
  }
  return { dx, dGamma, dBeta };
}

const EPS = 1e-5;

// [N, H·W, C, G]: several groups per image, C/G = 2 with C not a multiple of 4, G = 1 (layer norm over
// the image), G = C (instance norm), and odd N·G so that thread slices start in the middle of an image.
const shapes: Shape[] = [
  { N: 3, hw: 35, C: 12, G: 3 },
  { N: 2, hw: 9, C: 10, G: 5 },
  { N: 3, hw: 20, C: 6, G: 1 },
  { N: 3, hw: 6, C: 7, G: 7 },
];

function setup(s: Shape, seed: number) {
  const { N, hw, C } = s;
  // Mean 3, std 2, plus a per-channel offset: statistics are not those of a standard normal.
  const x = randnFloat32(seed, N * hw * C, 2, 3).map((v, i) => Math.fround(v + 0.5 * (i % C)));
  const gamma = randnFloat32(seed + 1, C, 0.5, 1);
  const beta = randnFloat32(seed + 2, C, 0.5);
  return { x, gamma, beta, size: N * hw * C };
}

function runForward(s: Shape, x: Float64Array, gamma: Float64Array, beta: Float64Array) {
  const { N, hw, C, G } = s;
  const px = upload(engine, x);
  const out = upload(engine, new Float64Array(x.length).fill(Number.NaN));
  const mean = upload(engine, new Float64Array(N * G));
  const rstd = upload(engine, new Float64Array(N * G));
  engine.parallel('groupNormForward', N * G, 1, [
    px,
    upload(engine, gamma),
    upload(engine, beta),
    out,
    mean,
    rstd,
    hw,
    C,
    G,
    EPS,
    0, // no SiLU
    0,
  ]);
  return { px, out, mean, rstd };
}

/** Runs groupNormBackward (plain, or fused with SiLU: dy is then the gradient of SiLU(y)) and downloads it. */
function runBackward(
  s: Shape,
  px: number,
  dy: Float64Array,
  gamma: number,
  mean: number,
  rstd: number,
  silu?: { saved: number; beta: number },
) {
  const { N, hw, C, G } = s;
  const size = N * hw * C;
  const dx = upload(engine, new Float64Array(size).fill(Number.NaN));
  const dGamma = upload(engine, new Float64Array(N * C).fill(Number.NaN));
  const dBeta = upload(engine, new Float64Array(N * C).fill(Number.NaN));
  engine.parallel('groupNormBackward', N * G, 1, [
    px,
    upload(engine, dy),
    gamma,
    mean,
    rstd,
    dx,
    dGamma,
    dBeta,
    hw,
    C,
    G,
    silu ? 1 : 0,
    silu?.saved ?? 0,
    silu?.beta ?? 0,
  ]);
  return {
    dx: download(engine, dx, size),
    dGamma: download(engine, dGamma, N * C),
    dBeta: download(engine, dBeta, N * C),
  };
}

describe('groupNormForward (2 threads)', () => {
  for (const [k, s] of shapes.entries()) {
    it(`matches PyTorch's formula in float64: N=${s.N} HW=${s.hw} C=${s.C} G=${s.G}`, () => {
      const { x, gamma, beta, size } = setup(s, 10 * k + 1);
      const { out, mean, rstd } = runForward(s, x, gamma, beta);
      const ref = refForward(x, gamma, beta, s, EPS);
      // y: float32 rounding of μ, rstd·γ and the fused step: |error| ≤ 1e-6·max(|y|, 1).
      const y = download(engine, out, size);
      for (let i = 0; i < size; i++)
        expect(Math.abs(y[i] - ref.y[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(ref.y[i])));
      // Saved statistics: float64 values rounded once to float32.
      const m = download(engine, mean, s.N * s.G);
      const r = download(engine, rstd, s.N * s.G);
      for (let i = 0; i < s.N * s.G; i++) {
        expect(Math.abs(m[i] - ref.mean[i])).toBeLessThanOrEqual(2 ** -24 * Math.abs(ref.mean[i]));
        expect(Math.abs(r[i] - ref.rstd[i])).toBeLessThanOrEqual(2 ** -24 * ref.rstd[i]);
      }
    });
  }

  it('keeps full precision when the mean is large relative to the spread (two-pass, float64)', () => {
    // μ = 1000, σ = 0.01: a float32 one-pass E[x²] − μ² would lose every digit of σ².
    const s: Shape = { N: 2, hw: 50, C: 8, G: 2 };
    const x = randnFloat32(77, s.N * s.hw * s.C, 0.01, 1000);
    const gamma = new Float64Array(s.C).fill(1);
    const beta = new Float64Array(s.C);
    const { out, rstd } = runForward(s, x, gamma, beta);
    const ref = refForward(x, gamma, beta, s, EPS);
    const r = download(engine, rstd, s.N * s.G);
    for (let i = 0; i < s.N * s.G; i++) expect(Math.abs(r[i] / ref.rstd[i] - 1)).toBeLessThan(1e-6);
    // y = x̂ to float32 accuracy: x − μ is formed without rounding μ to float32 first (ulp(1000)/σ ≈ 3e-3).
    const y = download(engine, out, x.length);
    for (let i = 0; i < x.length; i++)
      expect(Math.abs(y[i] - ref.y[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(ref.y[i])));
  });
});

describe('groupNormBackward (2 threads)', () => {
  for (const [k, s] of shapes.entries()) {
    it(`matches the float64 backward and central differences: N=${s.N} HW=${s.hw} C=${s.C} G=${s.G}`, () => {
      const { N, C } = s;
      const { x, gamma, beta, size } = setup(s, 10 * k + 5);
      const dy = randnFloat32(10 * k + 8, size);
      const { px, mean, rstd } = runForward(s, x, gamma, beta);
      const got = runBackward(s, px, dy, upload(engine, gamma), mean, rstd);
      const ref = refBackward(x, dy, gamma, s, EPS);

      // Against the analytic float64 backward. dx sums terms of size rstd·|γ·dy| that largely cancel, so
      // the scale is the rms of those terms; per-image parameter gradients: relative to Σ|terms|.
      let rms = 0;
      for (let i = 0; i < size; i++) rms += ref.dx[i] ** 2;
      rms = Math.sqrt(rms / size);
      for (let i = 0; i < size; i++)
        expect(Math.abs(got.dx[i] - ref.dx[i])).toBeLessThan(2e-6 * (Math.abs(ref.dx[i]) + rms));
      for (let i = 0; i < N * C; i++) {
        expect(Math.abs(got.dBeta[i] - ref.dBeta[i])).toBeLessThan(1e-6 * (Math.abs(ref.dBeta[i]) + 1));
        expect(Math.abs(got.dGamma[i] - ref.dGamma[i])).toBeLessThan(2e-6 * (Math.abs(ref.dGamma[i]) + 1));
      }

      // Central differences of L = Σ dy·y(x, γ, β) in float64 (h = 1e-4: truncation ≈ h²·|L'''| ≲ 1e-8,
      // rounding ≈ 1e-16·|L|/h ≲ 1e-10), for 25 entries of x and every γ_c, β_c (summed over images).
      const L = (xx: Float64Array, gg: Float64Array, bb: Float64Array) => {
        const { y } = refForward(xx, gg, bb, s, EPS);
        let sum = 0;
        for (let i = 0; i < size; i++) sum += dy[i] * y[i];
        return sum;
      };
      const h = 1e-4;
      const fd = (arr: Float64Array, i: number, f: () => number) => {
        const v = arr[i];
        arr[i] = v + h;
        const up = f();
        arr[i] = v - h;
        const down = f();
        arr[i] = v;
        return (up - down) / (2 * h);
      };
      const xx = Float64Array.from(x);
      const gg = Float64Array.from(gamma);
      const bb = Float64Array.from(beta);
      const rng = Rng.fromSeed(99 + k);
      for (let t = 0; t < 25; t++) {
        const i = rng.int(size);
        const d = fd(xx, i, () => L(xx, gg, bb));
        expect(Math.abs(got.dx[i] - d), `dx[${i}]`).toBeLessThan(1e-5 * (Math.abs(d) + rms));
      }
      for (let c = 0; c < C; c++) {
        let sg = 0;
        let sb = 0;
        for (let n = 0; n < N; n++) {
          sg += got.dGamma[n * C + c];
          sb += got.dBeta[n * C + c];
        }
        const dg = fd(gg, c, () => L(xx, gg, bb));
        const db = fd(bb, c, () => L(xx, gg, bb));
        expect(Math.abs(sg - dg), `dγ[${c}]`).toBeLessThan(1e-5 * (Math.abs(dg) + 1));
        expect(Math.abs(sb - db), `dβ[${c}]`).toBeLessThan(1e-5 * (Math.abs(db) + 1));
      }
    });
  }
});

describe('groupNorm fused with SiLU (2 threads)', () => {
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  for (const [k, s] of shapes.entries()) {
    it(`is SiLU of the float64 group norm, and its backward the chain rule through both: N=${s.N} HW=${s.hw} C=${s.C} G=${s.G}`, () => {
      const { N, hw, C, G } = s;
      const { x, gamma, beta, size } = setup(s, 10 * k + 3);
      const px = upload(engine, x);
      const [pg, pb] = [upload(engine, gamma), upload(engine, beta)];
      const out = upload(engine, new Float64Array(size).fill(Number.NaN));
      const saved = upload(engine, new Float64Array(size).fill(Number.NaN));
      const mean = upload(engine, new Float64Array(N * G));
      const rstd = upload(engine, new Float64Array(N * G));
      engine.parallel('groupNormForward', N * G, 1, [px, pg, pb, out, mean, rstd, hw, C, G, EPS, 1, saved]);
      const ref = refForward(x, gamma, beta, s, EPS);
      const y = download(engine, out, size);
      const q = download(engine, saved, size);
      for (let i = 0; i < size; i++) {
        const v = ref.y[i];
        expect(Math.abs(y[i] - v * sigmoid(v))).toBeLessThan(2e-6 * Math.max(1, Math.abs(v)));
        expect(Math.abs(q[i] - sigmoid(-Math.abs(v)))).toBeLessThan(2e-6);
      }

      // Backward from gs, the gradient of SiLU(y): the plain backward of dy = gs·SiLU'(y), y in float64.
      const gs = randnFloat32(10 * k + 9, size);
      const dyRef = Float64Array.from(gs, (g, i) => {
        const sg = sigmoid(ref.y[i]);
        return g * sg * (1 + ref.y[i] * (1 - sg));
      });
      const fused = runBackward(s, px, gs, pg, mean, rstd, { saved, beta: pb });
      const want = refBackward(x, dyRef, gamma, s, EPS);
      const got = fused.dx;
      let rms = 0;
      for (let i = 0; i < size; i++) rms += want.dx[i] ** 2;
      rms = Math.sqrt(rms / size);
      for (let i = 0; i < size; i++)
        expect(Math.abs(got[i] - want.dx[i])).toBeLessThan(1e-5 * (Math.abs(want.dx[i]) + rms));
      const gG = fused.dGamma;
      const gB = fused.dBeta;
      for (let i = 0; i < N * C; i++) {
        expect(Math.abs(gB[i] - want.dBeta[i])).toBeLessThan(1e-5 * (Math.abs(want.dBeta[i]) + 1));
        expect(Math.abs(gG[i] - want.dGamma[i])).toBeLessThan(1e-5 * (Math.abs(want.dGamma[i]) + 1));
      }
    });
  }
});
