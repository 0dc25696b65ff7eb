// Adam / AdamW and EMA kernels (src/engine/assembly/adam.ts): 3 steps against a float64 transcription of
// torch.optim.Adam / AdamW's update, plus checks that the tolerance separates the right update from
// plausible wrong ones (no bias correction, eps inside the square root, coupled ↔ decoupled decay).
import { describe, expect, it } from 'vitest';
import { download, startTestEngine, upload } from '../../../test/helpers/engine.js';
import { Rng } from '../../random/rng.js';

const { engine } = await startTestEngine({ threads: 2 });

const N = 1003;
const f = Math.fround;

interface Hyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  wd: number;
  decoupled: boolean;
}

type Variant = 'pytorch' | 'noBiasCorrection' | 'epsInsideSqrt' | 'swapDecay';

/**
 * Float64 Adam/AdamW (PyTorch): decay (g += wd·θ, or θ *= 1 − lr·wd), m = β1·m + (1 − β1)·g,
 * v = β2·v + (1 − β2)·g², θ −= lr·(m/bc1)/(√(v/bc2) + eps), bc_i = 1 − β_i^t. Variants are deliberate
 * mistakes used to show that the test would catch them.
 */
function refAdam(p0: Float64Array, grads: Float64Array[], h: Hyper, variant: Variant = 'pytorch') {
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  const mAbs = new Float64Array(p.length); // the same recursion on |g|: a scale for m's error
  const decoupled = variant === 'swapDecay' ? !h.decoupled : h.decoupled;
  grads.forEach((g0, k) => {
    const t = k + 1;
    const bc1 = variant === 'noBiasCorrection' ? 1 : 1 - h.beta1 ** t;
    const bc2 = variant === 'noBiasCorrection' ? 1 : 1 - h.beta2 ** t;
    for (let i = 0; i < p.length; i++) {
      let g = g0[i];
      if (h.wd !== 0) {
        if (decoupled) p[i] *= 1 - h.lr * h.wd;
        else g += h.wd * p[i];
      }
      m[i] = h.beta1 * m[i] + (1 - h.beta1) * g;
      v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
      mAbs[i] = h.beta1 * mAbs[i] + (1 - h.beta1) * Math.abs(g);
      const denom =
        variant === 'epsInsideSqrt' ? Math.sqrt(v[i] / bc2 + h.eps) : Math.sqrt(v[i] / bc2) + h.eps;
      p[i] -= (h.lr * (m[i] / bc1)) / denom;
    }
  });
  return { p, m, v, mAbs };
}

describe('adamStep: 3 steps vs a float64 reference of PyTorch’s Adam / AdamW (2 threads, n = 1003)', () => {
  const rng = Rng.fromSeed(21);
  const p0 = Float64Array.from({ length: N }, () => f(rng.normal()));
  // Gradients over three decades of scale, so that eps (1e-4) matters for the small ones.
  const grads = [0, 1, 2].map(() =>
    Float64Array.from({ length: N }, () => f(rng.normal() * 10 ** (-3 * rng.uniform()))),
  );
  const cases: Hyper[] = [
    { lr: f(0.05), beta1: f(0.9), beta2: f(0.999), eps: f(1e-4), wd: f(0.1), decoupled: false },
    { lr: f(0.05), beta1: f(0.9), beta2: f(0.999), eps: f(1e-4), wd: f(0.1), decoupled: true },
    { lr: f(0.01), beta1: f(0.8), beta2: f(0.99), eps: f(1e-8), wd: 0, decoupled: false },
  ];

  for (const h of cases) {
    it(`lr=${h.lr.toPrecision(2)} β=(${h.beta1.toPrecision(2)}, ${h.beta2.toPrecision(3)}) eps=${h.eps.toPrecision(1)} wd=${h.wd.toPrecision(1)} ${h.decoupled ? 'AdamW' : 'Adam'}`, () => {
      const param = upload(engine, p0);
      const m = upload(engine, new Float64Array(N));
      const v = upload(engine, new Float64Array(N));
      grads.forEach((g, k) => {
        const t = k + 1;
        const bc1 = f(1 - h.beta1 ** t);
        const bc2 = f(1 - h.beta2 ** t);
        const args = [
          param,
          upload(engine, g),
          m,
          v,
          h.lr,
          h.beta1,
          h.beta2,
          h.eps,
          h.wd,
          bc1,
          bc2,
          h.decoupled ? 1 : 0,
        ];
        engine.parallel('adamStep', N, 1, args);
      });
      const got = { p: download(engine, param, N), m: download(engine, m, N), v: download(engine, v, N) };
      const ref = refAdam(p0, grads, h);
      // Error scales: θ to 1e-6 of (|θ| + lr) (each step moves θ by ≲ lr), m to 1e-6 of its magnitude
      // recursion on |g|, v (non-negative) relative 1e-6.
      const errP = (p: Float64Array) =>
        Math.max(...p.map((x, i) => Math.abs(got.p[i] - x) / (Math.abs(x) + h.lr)));
      expect(errP(ref.p)).toBeLessThan(1e-6);
      for (let i = 0; i < N; i++) {
        expect(Math.abs(got.m[i] - ref.m[i])).toBeLessThanOrEqual(1e-6 * ref.mAbs[i]);
        expect(Math.abs(got.v[i] - ref.v[i])).toBeLessThanOrEqual(1e-6 * ref.v[i]);
      }
      // The tolerance is tight enough to catch likely mistakes: each would be off by > 10× the tolerance.
      const mistakes: Variant[] = ['noBiasCorrection', 'epsInsideSqrt'];
      if (h.wd !== 0) mistakes.push('swapDecay');
      for (const variant of mistakes)
        expect(errP(refAdam(p0, grads, h, variant).p), variant).toBeGreaterThan(1e-5);
    });
  }

  it('leaves the gradient untouched (Adam’s wd·θ is added to a copy)', () => {
    const g = upload(engine, grads[0]);
    const args = [
      upload(engine, p0),
      g,
      upload(engine, new Float64Array(N)),
      upload(engine, new Float64Array(N)),
    ];
    engine.parallel('adamStep', N, 1, [
      ...args,
      f(0.05),
      f(0.9),
      f(0.999),
      f(1e-8),
      f(0.1),
      f(0.1),
      f(0.001),
      0,
    ]);
    expect(download(engine, g, N)).toEqual(grads[0]);
  });
});

describe('emaUpdate (2 threads)', () => {
  it('3 updates of ema = decay·ema + (1 − decay)·param, to 1e-6 of the terms', () => {
    const rng = Rng.fromSeed(5);
    const e0 = Float64Array.from({ length: N }, () => f(rng.normal()));
    const params = [0, 1, 2].map(() => Float64Array.from({ length: N }, () => f(rng.normal())));
    const decay = f(0.9);
    const ema = upload(engine, e0);
    const want = Float64Array.from(e0);
    const scale = e0.map(Math.abs);
    for (const p of params) {
      engine.parallel('emaUpdate', N, 1, [ema, upload(engine, p), decay]);
      for (let i = 0; i < N; i++) {
        want[i] = decay * want[i] + (1 - decay) * p[i];
        scale[i] = decay * scale[i] + (1 - decay) * Math.abs(p[i]);
      }
    }
    const got = download(engine, ema, N);
    for (let i = 0; i < N; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-6 * scale[i]);
  });
});
