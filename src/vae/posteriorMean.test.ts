/**
 * The optimal Gaussian decoder is the posterior mean: closed form for two points, and a decoder network trained
 * on the ELBO (fixed encoder, Gaussian decoder of fixed variance) converging to it. Also the picture helpers.
 */
import { describe, expect, it } from 'vitest';
import { startTestEngine } from '../../test/helpers/engine.js';
import { sigmoid } from '../math/special.js';
import { Rng } from '../random/rng.js';
import { mean, scale } from '../tensor/ops/index.js';
import { gaussianLogDensity } from '../tensor/ops/likelihood.js';
import { Adam } from '../train/optim.js';
import { Mlp } from './nets.js';
import { standardNormalQuantile } from '../bayes/distributions.js';
import { interpolateLatents, latentGrid2d } from './pictures.js';
import {
  type DiagonalGaussian,
  optimalGaussianDecoderMean,
  reversedEncoderWeights,
} from './posteriorMean.js';

const { ctx } = await startTestEngine({ threads: 1 });

const delta = 1;
const posteriors: DiagonalGaussian[] = [
  { mean: [-delta / 2], logVar: [0] },
  { mean: [delta / 2], logVar: [0] },
];
const data = [
  [1, -1, 0.5],
  [-1, 1, 0.25],
];

describe('the optimal Gaussian decoder μ*(z) = E_{q(x|z)}[x]', () => {
  it('two points, N(∓δ/2, 1): the weight on the second is σ(δ z) (closed form, 1e-14)', () => {
    for (const z of [-3, -0.4, 0, 0.7, 5]) {
      const w = reversedEncoderWeights([z], posteriors);
      expect(Math.abs(w[1] - sigmoid(delta * z))).toBeLessThan(1e-14);
      const mu = optimalGaussianDecoderMean([z], posteriors, data);
      data[0].forEach((_, d) =>
        expect(Math.abs(mu[d] - (w[0] * data[0][d] + w[1] * data[1][d]))).toBeLessThan(1e-14),
      );
    }
    // Where the posteriors overlap most (z = 0) the output is the plain average of the two inputs: the blur.
    expect([...optimalGaussianDecoderMean([0], posteriors, data)]).toEqual([0, 0, 0.375]);
    // Far from the overlap it is one input; the weights do not underflow to 0/0.
    expect(reversedEncoderWeights([1000], posteriors)[1]).toBe(1);
  });

  it('a decoder network trained on the ELBO with the encoder fixed converges to μ*(z) (max error 0.05)', () => {
    const rng = Rng.fromSeed(3);
    const decoder = new Mlp(ctx, [1, 32, 32, 3], 'tanh', rng);
    const opt = new Adam(ctx, decoder, { lr: 3e-3 });
    const B = 128;
    for (let s = 0; s < 1500; s++) {
      const z = new Float32Array(B);
      const x = new Float32Array(B * 3);
      for (let b = 0; b < B; b++) {
        const i = rng.uniform() < 0.5 ? 0 : 1;
        z[b] = posteriors[i].mean[0] + rng.normal();
        x.set(data[i], b * 3);
      }
      opt.zeroGrad();
      ctx.scope(() => {
        const mu = decoder.forward(ctx.fromArray(z, [B, 1]));
        ctx.backward(scale(mean(gaussianLogDensity(ctx.fromArray(x, [B, 3]), mu, Math.log(0.01))), -1));
      });
      opt.lr = 3e-3 * 0.5 ** (s / 400);
      opt.update();
    }
    const zs = [-1.5, -0.5, 0, 0.5, 1.5];
    const out = ctx.noGrad(() =>
      ctx.scope(() => decoder.forward(ctx.fromArray(zs, [zs.length, 1])).toFloat32Array()),
    );
    let worst = 0;
    zs.forEach((z, j) => {
      const star = optimalGaussianDecoderMean([z], posteriors, data);
      for (let d = 0; d < 3; d++) worst = Math.max(worst, Math.abs(out[j * 3 + d] - star[d]));
    });
    console.info(`trained decoder vs μ*(z): max |error| ${worst.toFixed(4)} over z ∈ {${zs.join(', ')}}`);
    expect(worst).toBeLessThan(0.05);
    opt.dispose();
    for (const [, p] of decoder.namedParameters()) p.dispose();
  });

  it('rejects mismatched inputs', () => {
    expect(() => reversedEncoderWeights([0, 1], posteriors)).toThrow(/dimension 1, z has 2/);
    expect(() => optimalGaussianDecoderMean([0], posteriors, [data[0]])).toThrow(/1 data points for 2/);
    expect(() => reversedEncoderWeights([0], [])).toThrow(/at least one/);
  });
});

describe('picture helpers', () => {
  it('latentGrid2d: columns run over z₁ left to right, rows over z₂ top to bottom (largest first)', () => {
    const g = latentGrid2d(3);
    const q = standardNormalQuantile(5 / 6);
    expect(g.length).toBe(18);
    expect([g[0], g[1]].map((v) => +v.toFixed(6))).toEqual([+(-q).toFixed(6), +q.toFixed(6)]);
    expect(Math.hypot(g[8], g[9])).toBeLessThan(1e-12); // centre
    expect(() => latentGrid2d(1)).toThrow(/≥ 2/);
  });

  it('interpolateLatents includes both endpoints and is linear', () => {
    const p = interpolateLatents([0, 2], [4, -2], 5);
    expect([...p]).toEqual([0, 2, 1, 1, 2, 0, 3, -1, 4, -2]);
    expect(() => interpolateLatents([0], [1, 2], 3)).toThrow(/differ/);
  });
});
