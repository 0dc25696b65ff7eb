/**
 * `elbo demo vae`: the seed's claim that the optimal Gaussian decoder outputs the posterior mean E[x|z], so
 * overlapping posteriors blur. Two MNIST test images x_A, x_B get a fixed 1-D encoder q(z|x_A) = N(−δ/2, 1),
 * q(z|x_B) = N(+δ/2, 1); a decoder network μ(z) is trained on the ELBO with a Gaussian decoder of fixed
 * variance (so on ‖x − μ(z)‖²) and compared with the analytic optimum μ*(z) = Σ_i q(z|x_i) x_i / Σ_i q(z|x_i)
 * (src/vae/posteriorMean.ts). With overlapping posteriors (δ = 1) the decoder's output between them is the
 * average of the two images; with separated ones (δ = 6) it stays sharp except at the border.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { lineChartSvg } from '../../src/plot/lineChart.js';
import { Rng } from '../../src/random/rng.js';
import { gaussianLogDensity } from '../../src/tensor/ops/likelihood.js';
import { mean, scale } from '../../src/tensor/ops/index.js';
import { Adam } from '../../src/train/optim.js';
import { Mlp } from '../../src/vae/nets.js';
import {
  type DiagonalGaussian,
  optimalGaussianDecoderMean,
  reversedEncoderWeights,
} from '../../src/vae/posteriorMean.js';
import { loadDataset } from '../data.js';
import { withEngine } from '../engine.js';
import { writeFileAtomic } from '../io.js';
import { parseFloatOption, parseIntOption } from '../options.js';
import { imageGridPng } from '../png.js';
import { formatTable } from '../table.js';
import { UserError } from '../userError.js';

interface DemoVaeOptions {
  digits: string;
  separations: string;
  steps: string;
  seed: string;
  threads?: string;
  out: string;
}

/** Adds `elbo demo vae` to the `demo` command (created if it is not there yet). */
export function registerVaeDemoCommand(program: Command): void {
  const demo =
    program.commands.find((c) => c.name() === 'demo') ??
    program.command('demo').description('demonstrations of the mathematics (tables and figures)');
  demo
    .command('vae')
    .description(
      'the optimal Gaussian decoder is the posterior mean E[x|z]: train a decoder for two images with overlapping ' +
        'posteriors and compare it with the analytic μ*(z) (the blur of VAEs)',
    )
    .option('--digits <a,b>', 'the classes of the two MNIST test images', '0,1')
    .option('--separations <list>', 'distances δ between the two posterior means (std 1 each)', '1,6')
    .option('--steps <n>', 'Adam steps for each decoder', '1500')
    .option('--seed <n>', 'random seed', '0')
    .option('--threads <n>', 'engine threads (default: all cores)')
    .option('--out <dir>', 'directory for the figures', 'out/vae-demo')
    .action(async (o: DemoVaeOptions) => {
      await demoVae(o);
    });
}

const DECODER_LOG_VAR = Math.log(0.1 ** 2);
const Z_GRID = Array.from({ length: 11 }, (_, i) => -4 + 0.8 * i);

async function demoVae(o: DemoVaeOptions): Promise<void> {
  const digits = o.digits.split(',').map((d) => parseIntOption('--digits', d, { min: 0, max: 9 }));
  if (digits.length !== 2 || digits[0] === digits[1])
    throw new UserError(`--digits must be two different classes a,b; got "${o.digits}"`);
  const separations = o.separations
    .split(',')
    .map((d) => parseFloatOption('--separations', d, { min: 0, max: 20 }));
  const steps = parseIntOption('--steps', o.steps, { min: 1, max: 1_000_000 });
  const seed = parseIntOption('--seed', o.seed);
  const threads =
    o.threads === undefined ? undefined : parseIntOption('--threads', o.threads, { min: 1, max: 64 });

  const { test } = loadDataset('mnist');
  const D = test.height * test.width;
  const pick = (label: number) => {
    const i = test.labels!.indexOf(label);
    return test.images.slice(i * D, (i + 1) * D);
  };
  const images = digits.map(pick);
  const [xA, xB] = images;
  const diff = xB.map((v, d) => v - xA[d]);
  const diffNorm2 = diff.reduce((s, v) => s + v * v, 0);
  /** α such that μ ≈ (1 − α) x_A + α x_B: the projection on the segment x_A → x_B. */
  const mixing = (mu: ArrayLike<number>) => {
    let s = 0;
    for (let d = 0; d < D; d++) s += (mu[d] - xA[d]) * diff[d];
    return s / diffNorm2;
  };
  const rms = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let s = 0;
    for (let d = 0; d < D; d++) s += (a[d] - b[d]) ** 2;
    return Math.sqrt(s / D);
  };

  const rowsPng: Float32Array[] = [];
  const series: { name: string; x: number[]; y: number[]; points?: boolean }[] = [];
  const tableRows: string[][] = [];
  await withEngine(threads, (ctx) => {
    for (const delta of separations) {
      const posteriors: DiagonalGaussian[] = [
        { mean: [-delta / 2], logVar: [0] },
        { mean: [delta / 2], logVar: [0] },
      ];
      const rng = Rng.fromSeed(seed);
      const decoder = new Mlp(ctx, [1, 128, 128, D], 'tanh', rng);
      const opt = new Adam(ctx, decoder, { lr: 2e-3 });
      const B = 64;
      for (let s = 0; s < steps; s++) {
        const z = new Float32Array(B);
        const x = new Float32Array(B * D);
        for (let b = 0; b < B; b++) {
          const i = rng.uniform() < 0.5 ? 0 : 1;
          z[b] = posteriors[i].mean[0] + rng.normal();
          x.set(images[i], b * D);
        }
        opt.zeroGrad();
        ctx.scope(() => {
          const mu = decoder.forward(ctx.fromArray(z, [B, 1]));
          // −ELBO up to the constant KL of the fixed encoder: −E log N(x; μ(z), σ²I).
          const loss = scale(mean(gaussianLogDensity(ctx.fromArray(x, [B, D]), mu, DECODER_LOG_VAR)), -1);
          ctx.backward(loss);
        });
        opt.lr = 2e-3 * 0.5 ** (s / (steps / 4));
        opt.update();
      }
      const learned = ctx.noGrad(() =>
        ctx.scope(() =>
          decoder.forward(ctx.fromArray(Float32Array.from(Z_GRID), [Z_GRID.length, 1])).toFloat32Array(),
        ),
      );
      const learnedRow = new Float32Array((Z_GRID.length + 2) * D);
      const analyticRow = new Float32Array((Z_GRID.length + 2) * D);
      for (const row of [learnedRow, analyticRow]) {
        row.set(xA, 0);
        row.set(xB, (Z_GRID.length + 1) * D);
      }
      const alphaLearned: number[] = [];
      const alphaAnalytic: number[] = [];
      Z_GRID.forEach((z, j) => {
        const mu = learned.subarray(j * D, (j + 1) * D);
        const star = optimalGaussianDecoderMean([z], posteriors, images);
        learnedRow.set(mu, (j + 1) * D);
        analyticRow.set(star, (j + 1) * D);
        alphaLearned.push(mixing(mu));
        alphaAnalytic.push(reversedEncoderWeights([z], posteriors)[1]);
        tableRows.push([
          delta.toString(),
          z.toFixed(1),
          alphaAnalytic[j].toFixed(3),
          alphaLearned[j].toFixed(3),
          rms(mu, star).toFixed(4),
          rms(
            mu,
            xA.map((v, d) => 0.5 * (v + xB[d])),
          ).toFixed(4),
        ]);
      });
      rowsPng.push(learnedRow, analyticRow);
      series.push(
        { name: `δ = ${delta}: q(x_B|z), analytic`, x: Z_GRID, y: alphaAnalytic },
        { name: `δ = ${delta}: decoder network`, x: Z_GRID, y: alphaLearned, points: true },
      );
      opt.dispose();
      for (const [, p] of decoder.namedParameters()) p.dispose();
    }
  });

  process.stdout.write(
    `Fixed encoder q(z|x_A) = N(−δ/2, 1), q(z|x_B) = N(+δ/2, 1); Gaussian decoder N(x; μ(z), 0.1²I) trained on the ELBO.\n` +
      `α = position of the decoder output on the segment x_A → x_B; q(x_B|z) is the optimal decoder's weight on x_B.\n\n` +
      formatTable(['δ', 'z', 'q(x_B|z)', 'α network', 'rms(μ − μ*)', 'rms(μ − (x_A+x_B)/2)'], tableRows) +
      '\n',
  );
  const png = join(o.out, 'decoder-vs-posterior-mean.png');
  const all = new Float32Array(rowsPng.length * rowsPng[0].length);
  rowsPng.forEach((r, i) => all.set(r, i * r.length));
  writeFileAtomic(
    png,
    imageGridPng(all, rowsPng.length * (Z_GRID.length + 2), 28, 28, 1, Z_GRID.length + 2, 2, 2),
  );
  const svg = join(o.out, 'mixing-weight.svg');
  writeFileAtomic(
    svg,
    lineChartSvg(series, {
      title: 'Optimal Gaussian decoder = posterior mean: the weight on x_B along z',
      xLabel: 'z',
      yLabel: 'weight on x_B',
    }),
  );
  process.stdout.write(
    `\nwrote ${png} (rows in pairs per δ = ${separations.join(', ')}: the trained decoder, then μ*(z); first and last column x_A, x_B; z from −4 to 4)\nwrote ${svg}\n`,
  );
}
