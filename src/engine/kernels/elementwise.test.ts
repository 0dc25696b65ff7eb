// Tests of the elementwise, row/column and exp/SiLU kernels (src/engine/assembly/elementwise.ts, vexp.ts)
// against float64 references written here, run over 2 threads with sizes that are not multiples of 4 or
// of the thread count, so that slices start at unaligned elements and every SIMD loop has a scalar tail.
import { describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../../node/engine.js';
import { download, randnFloat32, startTestEngine, upload } from '../../../test/helpers/engine.js';

const { engine } = await startTestEngine({ threads: 2 });

/** max_i |got_i − want_i| / scale_i. */
function maxScaledErr(got: ArrayLike<number>, want: ArrayLike<number>, scale: (i: number) => number): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) / scale(i);
    if (!(e <= worst)) worst = e; // NaN counts as worst
  }
  return worst;
}

const N = 1003; // odd, not a multiple of 4: slices [0, 502) and [502, 1003)

describe('elementwise kernels (2 threads, n = 1003)', () => {
  const a = randnFloat32(1, N);
  const b = randnFloat32(2, N, 3);

  it('fill and copy are exact', () => {
    const out = upload(engine, new Float64Array(N));
    engine.parallel('fill', N, 1, [out, 2.5]);
    expect(download(engine, out, N).every((v) => v === 2.5)).toBe(true);
    const pa = upload(engine, a);
    engine.parallel('copy', N, 1, [pa, out]);
    expect(download(engine, out, N)).toEqual(a);
  });

  it('add, sub, mul, scale are the correctly rounded float32 results', () => {
    // One float32 operation on float32 inputs: exactly fround of the float64 result (which is exact).
    const pa = upload(engine, a);
    const pb = upload(engine, b);
    const out = upload(engine, new Float64Array(N));
    const cases: [string, number[], (i: number) => number][] = [
      ['add', [pa, pb, out], (i) => a[i] + b[i]],
      ['sub', [pa, pb, out], (i) => a[i] - b[i]],
      ['mul', [pa, pb, out], (i) => a[i] * b[i]],
      ['scale', [pa, -0.37, out], (i) => a[i] * Math.fround(-0.37)],
    ];
    for (const [name, args, ref] of cases) {
      engine.parallel('fill', N, 1, [out, Number.NaN]);
      engine.parallel(name, N, 1, args);
      expect(download(engine, out, N), name).toEqual(
        Float64Array.from({ length: N }, (_, i) => Math.fround(ref(i))),
      );
    }
  });

  it('axpy and addScaled: error ≤ 2^-22 relative to the sum of the terms’ magnitudes', () => {
    const alpha = Math.fround(0.731);
    const py = upload(engine, b);
    engine.parallel('axpy', N, 1, [upload(engine, a), alpha, py]);
    const want = Float64Array.from({ length: N }, (_, i) => b[i] + alpha * a[i]);
    expect(
      maxScaledErr(download(engine, py, N), want, (i) => Math.abs(b[i]) + Math.abs(alpha * a[i])),
    ).toBeLessThan(2 ** -22);
    const beta = Math.fround(-1.9);
    const out = upload(engine, new Float64Array(N));
    engine.parallel('addScaled', N, 1, [upload(engine, a), upload(engine, b), beta, out]);
    const want2 = Float64Array.from({ length: N }, (_, i) => a[i] + beta * b[i]);
    expect(
      maxScaledErr(download(engine, out, N), want2, (i) => Math.abs(a[i]) + Math.abs(beta * b[i])),
    ).toBeLessThan(2 ** -22);
  });

  it('a kernel called directly on [5, 18) writes exactly that slice', () => {
    const pa = upload(engine, a);
    const pb = upload(engine, b);
    const out = upload(engine, new Float64Array(N).fill(-7));
    engine.k.add(5, 18, pa, pb, out, engine.scratch[0]);
    const got = download(engine, out, N);
    for (let i = 0; i < N; i++) {
      expect(got[i]).toBe(i >= 5 && i < 18 ? Math.fround(a[i] + b[i]) : -7);
    }
  });
});

describe('row and column kernels (2 threads)', () => {
  it('addRowVector: out[r, c] = x[r, c] + bias[c] (exact), rows split over threads', () => {
    const [rows, cols] = [37, 23];
    const x = randnFloat32(3, rows * cols);
    const bias = randnFloat32(4, cols);
    const out = upload(engine, new Float64Array(rows * cols));
    engine.parallel('addRowVector', rows, 1, [upload(engine, x), upload(engine, bias), out, cols]);
    const want = x.map((v, i) => Math.fround(v + bias[i % cols]));
    expect(download(engine, out, rows * cols)).toEqual(want);
  });

  it('addGroupRowVector: adds v[floor(r / rowsPerGroup)] to every row of the group (exact)', () => {
    const [groups, rowsPerGroup, cols] = [3, 35, 7];
    const rows = groups * rowsPerGroup;
    const x = randnFloat32(5, rows * cols);
    const v = randnFloat32(6, groups * cols);
    const out = upload(engine, new Float64Array(rows * cols));
    engine.parallel('addGroupRowVector', rows, 1, [
      upload(engine, x),
      upload(engine, v),
      out,
      rowsPerGroup,
      cols,
    ]);
    const want = x.map((xv, i) => {
      const r = Math.floor(i / cols);
      return Math.fround(xv + v[Math.floor(r / rowsPerGroup) * cols + (i % cols)]);
    });
    expect(download(engine, out, rows * cols)).toEqual(want);
  });

  it('column sums over 1 or 3 row ranges (overwrite and accumulate) are the float64 sum rounded once', () => {
    // Float64 accumulation: |error| ≤ 2^-24·|sum| (the final rounding) + 1e-12·Σ|x|. A float32 running sum
    // over 301 rows would miss this by orders of magnitude (≈ 1e-7·Σ|x|).
    for (const [rows, cols] of [
      [301, 23],
      [5, 2053], // more columns than one 2048-column accumulator block
    ]) {
      const x = randnFloat32(7, rows * cols);
      const prev = randnFloat32(8, cols);
      for (const accumulate of [0, 1]) {
        // In one row range, and in 3 whose float64 partial sums are then added (as for tall matrices).
        const sums = [1, 3].map((parts) => {
          const out = upload(engine, prev);
          const partials = engine.heap.alloc(parts * cols * 8);
          engine.parallel('sumColumnsPartial', parts, 1, [upload(engine, x), partials, parts, rows, cols]);
          engine.parallel('sumColumnsFinish', cols, 1, [partials, parts, out, cols, accumulate]);
          return out;
        });
        const want = new Float64Array(cols);
        const abs = new Float64Array(cols);
        for (let c = 0; c < cols; c++) {
          want[c] = accumulate ? prev[c] : 0;
          abs[c] = Math.abs(want[c]);
          for (let r = 0; r < rows; r++) {
            want[c] += x[r * cols + c];
            abs[c] += Math.abs(x[r * cols + c]);
          }
        }
        for (const got of sums.map((out) => download(engine, out, cols))) {
          for (let c = 0; c < cols; c++) {
            expect(Math.abs(got[c] - want[c])).toBeLessThanOrEqual(
              2 ** -24 * Math.abs(want[c]) + 1e-12 * abs[c],
            );
          }
        }
      }
    }
  });

  it('sumGroupRows: out[g, c] = Σ of the group’s rows, float64 accumulation, groups split over threads', () => {
    const [groups, rowsPerGroup, cols] = [5, 37, 11];
    const x = randnFloat32(9, groups * rowsPerGroup * cols);
    const out = upload(engine, new Float64Array(groups * cols));
    engine.parallel('sumGroupRows', groups, 1, [upload(engine, x), out, rowsPerGroup, cols]);
    const got = download(engine, out, groups * cols);
    for (let g = 0; g < groups; g++) {
      for (let c = 0; c < cols; c++) {
        let s = 0;
        let abs = 0;
        for (let r = 0; r < rowsPerGroup; r++) {
          s += x[(g * rowsPerGroup + r) * cols + c];
          abs += Math.abs(x[(g * rowsPerGroup + r) * cols + c]);
        }
        expect(Math.abs(got[g * cols + c] - s)).toBeLessThanOrEqual(2 ** -24 * Math.abs(s) + 1e-12 * abs);
      }
    }
  });

  it('squaredErrorSum is a float64 sum of float64 squared differences', () => {
    const a = randnFloat32(10, N);
    const b = randnFloat32(11, N, 0.5, 0.2);
    const pa = upload(engine, a);
    const pb = upload(engine, b);
    for (const [s, e] of [
      [0, N],
      [5, 1000], // unaligned start, tail
    ]) {
      let want = 0;
      for (let i = s; i < e; i++) want += (a[i] - b[i]) ** 2;
      const got = engine.k.squaredErrorSum(s, e, pa, pb, engine.scratch[0]);
      // float64 throughout: only summation-order differences, ≈ n·2^-53 relative.
      expect(Math.abs(got - want) / want).toBeLessThan(1e-13);
    }
  });
});

describe('exp and SiLU', () => {
  it('expForward: max relative error over a dense grid on [−87, 88] ≤ 2^-23 ≈ 1.19e-7 (both builds)', async () => {
    // Grid step 1e-4 (1.75 million points). Measured: 8.3e-8 (relaxed SIMD), 8.0e-8 (plain SIMD), i.e. well
    // under the required 2e-7 and under one float32 ulp at 1.0.
    const plain = await createNodeEngine({ threads: 1, noRelaxedSimd: true });
    try {
      for (const [e, parallel] of [
        [engine, true],
        [plain, false],
      ] as const) {
        const n = 1_750_001;
        const x = Float64Array.from({ length: n }, (_, i) => Math.fround(-87 + i * 1e-4));
        const px = e.heap.alloc(n * 4);
        const py = e.heap.alloc(n * 4);
        e.heap.f32().set(x, px / 4);
        if (parallel) e.parallel('expForward', n, 1, [px, py]);
        else e.k.expForward(0, n, px, py, e.scratch[0]);
        const y = e.heap.f32().subarray(py / 4, py / 4 + n);
        let worst = 0;
        for (let i = 0; i < n; i++) {
          const r = Math.exp(x[i]);
          const err = Math.abs(y[i] - r) / r;
          if (!(err <= worst)) worst = err;
        }
        expect(worst, `relaxedSimd = ${e.relaxedSimd}`).toBeLessThanOrEqual(2 ** -23);
        // Out of the float32 range: +0 below ln(FLT_MIN), +∞ above ln(FLT_MAX); NaN propagates.
        const special = [0, -100, 100, -87.3, 88.7, -Infinity, Infinity, Number.NaN, -87.34, 88.73];
        e.heap.f32().set(special, px / 4);
        e.k.expForward(0, special.length, px, py, e.scratch[0]);
        const s = Array.from(e.heap.f32().subarray(py / 4, py / 4 + special.length));
        expect(s[0]).toBe(1);
        expect(s[1]).toBe(0);
        expect(s[2]).toBe(Infinity);
        expect(Math.abs(s[3] / Math.exp(Math.fround(-87.3)) - 1)).toBeLessThan(2 ** -23);
        expect(Math.abs(s[4] / Math.exp(Math.fround(88.7)) - 1)).toBeLessThan(2 ** -23);
        expect(s.slice(5, 8)).toEqual([0, Infinity, Number.NaN]);
        expect(s[8]).toBe(0); // e^−87.34 < FLT_MIN
        expect(s[9]).toBe(Infinity); // e^88.73 > FLT_MAX
      }
    } finally {
      plain.dispose();
    }
  });

  // Inputs: N(0, 4²) plus the edges of exp's range, 0, and the zero of SiLU'' region.
  const extremes = [-100, -88.8, -87.5, -40, -20, -1.2785, 0, 1e-30, -1e-30, 15, 20, 88, 100];
  const x = Float64Array.from([...randnFloat32(12, N - extremes.length, 4), ...extremes.map(Math.fround)]);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const silu = (v: number) => v * sig(v);
  const siluGrad = (v: number) => sig(v) * (1 + v * (1 - sig(v)));

  // Below x ≈ −88.72 (e^(−x) overflows) the kernels return −0 for SiLU and SiLU′, where the true values are
  // |x|·e^x < 1e-35: hence an absolute floor of 1e-35 under the relative tolerances.
  it('siluForward: relative error ≤ 1e-6 (absolute floor 1e-35)', () => {
    const out = upload(engine, new Float64Array(N));
    engine.parallel('siluForward', N, 1, [upload(engine, x), out]);
    const got = download(engine, out, N);
    const want = x.map(silu);
    expect(maxScaledErr(got, want, (i) => Math.abs(want[i]) + 1e-35 / 1e-6)).toBeLessThan(1e-6);
  });

  it('siluForwardSaving: the same SiLU as siluForward, and q = min(σ(x), 1 − σ(x)) to 1e-6 relative', () => {
    const px = upload(engine, x);
    const y1 = upload(engine, new Float64Array(N));
    const y2 = upload(engine, new Float64Array(N));
    const q = upload(engine, new Float64Array(N));
    engine.parallel('siluForward', N, 1, [px, y1]);
    engine.parallel('siluForwardSaving', N, 1, [px, y2, q]);
    expect(download(engine, y2, N)).toEqual(download(engine, y1, N));
    const got = download(engine, q, N);
    const want = x.map((v) => sig(-Math.abs(v)));
    expect(maxScaledErr(got, want, (i) => want[i] + 1e-35 / 1e-6)).toBeLessThan(1e-6);
  });

  it('siluBackwardSaved: dx = dy·SiLU′(x) to 1e-6 of the terms, and SiLU′ matches central differences', () => {
    const px = upload(engine, x);
    const q = upload(engine, new Float64Array(N));
    engine.parallel('siluForwardSaving', N, 1, [px, upload(engine, new Float64Array(N)), q]);
    const dy = randnFloat32(13, N);
    const out = upload(engine, new Float64Array(N));
    engine.parallel('siluBackwardSaved', N, 1, [px, q, upload(engine, dy), out]);
    const got = download(engine, out, N);
    const want = x.map((v, i) => dy[i] * siluGrad(v));
    // Scale: |dy|·s·(1 + |x|·(1 − s)), the magnitude of the terms before the cancellation at x ≈ −1.28.
    const termScale = (i: number) => Math.abs(dy[i]) * sig(x[i]) * (1 + Math.abs(x[i]) * (1 - sig(x[i])));
    expect(maxScaledErr(got, want, (i) => termScale(i) + 1e-35 / 1e-6)).toBeLessThan(1e-6);

    // The derivative formula itself, against central differences of the float64 forward:
    // dy = 1, (silu(x + h) − silu(x − h)) / 2h with h = 1e-5 (truncation ≈ h²·|silu'''| ≲ 1e-10).
    const ones = upload(engine, new Float64Array(N).fill(1));
    engine.parallel('siluBackwardSaved', N, 1, [px, q, ones, out]);
    const grad = download(engine, out, N);
    const h = 1e-5;
    for (let i = 0; i < N; i++) {
      const fd = (silu(x[i] + h) - silu(x[i] - h)) / (2 * h);
      expect(Math.abs(grad[i] - fd), `x = ${x[i]}`).toBeLessThan(1e-6 * (Math.abs(fd) + 0.1));
    }
  });
});
