/**
 * Gradient check by central finite differences: for L(x) = Σ w ⊙ f(x) with a fixed random w, compares the
 * reverse-mode gradient ∂L/∂x (ctx.backward with seed w) to (L(x + h e_j) − L(x − h e_j)) / 2h at sampled
 * coordinates j. The engine computes in float32, so L is summed in float64 and the tolerance is
 * |analytic − numeric| ≤ atol + rtol·|numeric| (defaults 2e-3, 1e-2: float32 rounding ~1e-7 relative,
 * amplified by 1/2h = 50, plus O(h²) truncation).
 */
import { Rng } from '../../src/random/rng.js';
import type { Context, Tensor } from '../../src/tensor/tensor.js';

export interface GradcheckInput {
  shape: number[];
  /** Values (default: standard normal). */
  values?: ArrayLike<number>;
  /** Check this input's gradient (default true). */
  check?: boolean;
}

export interface GradcheckResult {
  /** Largest |analytic − numeric| / (atol + rtol·|numeric|): ≤ 1 passes. */
  worst: number;
  checked: number;
}

export function gradcheck(
  ctx: Context,
  f: (...inputs: Tensor[]) => Tensor,
  specs: GradcheckInput[],
  options: { h?: number; atol?: number; rtol?: number; samples?: number; seed?: number } = {},
): GradcheckResult {
  const { h = 1e-2, atol = 2e-3, rtol = 1e-2, samples = 16, seed = 0 } = options;
  const rng = Rng.fromSeed(seed);
  return ctx.scope(() => {
    const inputs = specs.map((s) => {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const values = s.values ?? rng.fillNormal(new Float32Array(n));
      return ctx.fromArray(values, s.shape, s.check !== false);
    });
    const y = f(...inputs);
    const w = ctx.fromArray(rng.fillNormal(new Float32Array(y.size)), y.shape);
    const wv = Float64Array.from(w.view());
    ctx.backward(y, w);
    const analytic = inputs.map((t) => (t.grad ? Float64Array.from(t.grad.view()) : null));
    const lossAt = () =>
      ctx.noGrad(() =>
        ctx.scope(() => {
          const out = f(...inputs).view();
          let s = 0;
          for (let i = 0; i < out.length; i++) s += wv[i] * out[i];
          return s;
        }),
      );
    let worst = 0;
    let checked = 0;
    inputs.forEach((x, k) => {
      if (specs[k].check === false) return;
      const g = analytic[k];
      if (!g) throw new Error(`gradcheck: input ${k} received no gradient`);
      const count = Math.min(samples, x.size);
      for (let s = 0; s < count; s++) {
        const j = count === x.size ? s : rng.int(x.size);
        const v = x.view();
        const orig = v[j];
        v[j] = orig + h;
        const lp = lossAt();
        x.view()[j] = orig - h;
        const lm = lossAt();
        x.view()[j] = orig;
        const numeric = (lp - lm) / (2 * h);
        worst = Math.max(worst, Math.abs(g[j] - numeric) / (atol + rtol * Math.abs(numeric)));
        checked++;
      }
    });
    for (const x of inputs) {
      x.grad?.dispose();
      x.grad = null;
    }
    return { worst, checked };
  });
}
