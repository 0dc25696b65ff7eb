// Row softmax kernels (src/engine/assembly/softmax.ts) against float64 references and central differences.
import { describe, expect, it } from 'vitest';
import { download, randnFloat32, startTestEngine, upload } from '../../../test/helpers/engine.js';

const { engine } = await startTestEngine({ threads: 2 });

/** Float64 softmax(scale·x) of each row, with the row maximum subtracted. */
function refSoftmax(x: ArrayLike<number>, rows: number, cols: number, scale: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, scale * x[r * cols + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) {
      y[r * cols + j] = Math.exp(scale * x[r * cols + j] - m);
      s += y[r * cols + j];
    }
    for (let j = 0; j < cols; j++) y[r * cols + j] /= s;
  }
  return y;
}

const ROWS = 37;
// Column counts: a multiple of 4 plus tail, fewer than 4, and long rows.
const COLS = [23, 3, 130];
// Negative scales flip which entry is the maximum: the kernel must take max(scale·x), not scale·max(x).
const SCALES = [0.7, -1.3];

describe('softmaxRows (2 threads)', () => {
  for (const cols of COLS) {
    for (const scale of SCALES) {
      it(`relative error ≤ 1e-6 + 2^-23·|z| and rows sum to 1: cols = ${cols}, scale = ${scale}`, () => {
        // Entries up to ≈ ±200 after scaling: e^(scale·x) overflows float32 unless the row max is subtracted.
        const x = randnFloat32(cols * 7 + (scale > 0 ? 1 : 2), ROWS * cols, 40);
        const out = upload(engine, new Float64Array(ROWS * cols).fill(Number.NaN));
        engine.parallel('softmaxRows', ROWS, 1, [upload(engine, x), out, cols, scale]);
        const got = download(engine, out, ROWS * cols);
        const s32 = Math.fround(scale);
        const want = refSoftmax(x, ROWS, cols, s32);
        // Relative error ≤ 1e-6 + 2^-23·|z|, z = scale·x − max: exp ≲ 1e-7, the normalization's roundings,
        // and the float32 exponent z, whose rounding (≤ 2^-24·|z|) is inherent to a float32 kernel;
        // floor 1e-37 for entries that underflow. (Forming z as fl32(scale·x) − m instead would cost
        // 2^-24·|scale·x| ≈ 6e-6 here and fail.)
        for (let r = 0; r < ROWS; r++) {
          let m = -Infinity;
          for (let j = 0; j < cols; j++) m = Math.max(m, s32 * x[r * cols + j]);
          for (let j = 0; j < cols; j++) {
            const i = r * cols + j;
            const tol = (1e-6 + 2 ** -23 * Math.abs(s32 * x[i] - m)) * want[i] + 1e-37;
            expect(Math.abs(got[i] - want[i]), `entry ${i}`).toBeLessThanOrEqual(tol);
          }
        }
        for (let r = 0; r < ROWS; r++) {
          let s = 0;
          for (let j = 0; j < cols; j++) s += got[r * cols + j];
          expect(Math.abs(s - 1)).toBeLessThan(1e-6);
        }
      });
    }
  }

  it('works in place (out = x)', () => {
    const cols = 23;
    const x = randnFloat32(5, ROWS * cols, 3);
    const p = upload(engine, x);
    engine.parallel('softmaxRows', ROWS, 1, [p, p, cols, 1]);
    const want = refSoftmax(x, ROWS, cols, 1);
    const got = download(engine, p, ROWS * cols);
    for (let i = 0; i < ROWS * cols; i++)
      expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-6 * want[i]);
  });
});

describe('softmaxRowsBackward (2 threads)', () => {
  for (const cols of COLS) {
    for (const scale of SCALES) {
      it(`matches the float64 formula and central differences: cols = ${cols}, scale = ${scale}`, () => {
        const s32 = Math.fround(scale);
        // Moderate logits so that gradients do not vanish; the forward output is the backward's input.
        const x = randnFloat32(cols * 11 + (scale > 0 ? 3 : 4), ROWS * cols, 1.5);
        const dy = randnFloat32(cols * 13 + 5, ROWS * cols);
        const py = upload(engine, new Float64Array(ROWS * cols));
        engine.parallel('softmaxRows', ROWS, 1, [upload(engine, x), py, cols, scale]);
        const y = download(engine, py, ROWS * cols);
        const dx = upload(engine, new Float64Array(ROWS * cols).fill(Number.NaN));
        engine.parallel('softmaxRowsBackward', ROWS, 1, [py, upload(engine, dy), dx, cols, scale]);
        const got = download(engine, dx, ROWS * cols);

        // (a) The formula on the same float32 y, in float64: dx = scale·y·(dy − Σ dy·y). Scale of the terms:
        // |scale|·y·(|dy| + |Σ dy·y|), to 1e-6 (a few float32 roundings).
        for (let r = 0; r < ROWS; r++) {
          let dot = 0;
          for (let j = 0; j < cols; j++) dot += dy[r * cols + j] * y[r * cols + j];
          for (let j = 0; j < cols; j++) {
            const i = r * cols + j;
            const want = s32 * y[i] * (dy[i] - dot);
            const termScale = Math.abs(s32) * y[i] * (Math.abs(dy[i]) + Math.abs(dot));
            expect(Math.abs(got[i] - want), `entry ${i}`).toBeLessThanOrEqual(1e-6 * termScale + 1e-37);
          }
        }

        // (b) Central differences of L(x) = Σ dy·softmax(scale·x) (float64 forward, h = 1e-5), all entries
        // of 4 rows; tolerance relative to the row's largest gradient (y itself is float32: ≈ 1e-7).
        for (const r of [0, 1, 17, ROWS - 1]) {
          const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
          const w = dy.subarray(r * cols, (r + 1) * cols);
          const L = (v: number[]) => refSoftmax(v, 1, cols, s32).reduce((acc, yj, j) => acc + w[j] * yj, 0);
          const fd: number[] = [];
          for (let j = 0; j < cols; j++) {
            const v = row[j];
            row[j] = v + 1e-5;
            const up = L(row);
            row[j] = v - 1e-5;
            const down = L(row);
            row[j] = v;
            fd.push((up - down) / 2e-5);
          }
          const big = Math.max(...fd.map(Math.abs));
          for (let j = 0; j < cols; j++) {
            expect(Math.abs(got[r * cols + j] - fd[j]), `row ${r} col ${j}`).toBeLessThan(2e-6 * big + 1e-9);
          }
        }
      });
    }
  }
});
