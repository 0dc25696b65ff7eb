/**
 * `npm run bench:ab -- <other checkout>`: this tree's engine against another built checkout of elbo (e.g. a
 * `git worktree` of main) on the same UNet train step, in one process, alternating A B B A … so that both see
 * the same machine: on a shared virtual machine single-thread speed drifts by tens of percent within minutes,
 * which makes two benchmark runs one after the other useless for changes of a few percent. Prints the median
 * of the paired ratios (this / other) with its interquartile range, both per-kernel profiles, and a JSON line.
 *
 * Options (after `--`): --threads n (2), --iters n (20 pairs), --channels 32,64 (the UNet's widths),
 * --batch n (64). The other checkout must be built (`npm run build` in it).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface Side {
  label: string;
  step: () => number;
  profile: () => [string, { ms: number; calls: number }][];
  dispose: () => void;
}

/** Loads one checkout's compiled engine, UNet and Adam from `dist` and builds a train step on fixed data. */
async function side(
  label: string,
  dist: string,
  threads: number,
  channels: number[],
  batch: number,
): Promise<Side> {
  // The other checkout's modules are typed as this tree's: the bench only uses what both have.
  const load = <T>(path: string) => import(resolve(dist, path)) as Promise<T>;
  const { createNodeEngine } = await load<typeof import('../node/engine.js')>('node/engine.js');
  const { UNet, REFERENCE_UNET } = await load<typeof import('../src/nn/unet.js')>('src/nn/unet.js');
  const { Rng } = await load<typeof import('../src/random/rng.js')>('src/random/rng.js');
  const { mseLoss } = await load<typeof import('../src/tensor/ops/elementwise.js')>(
    'src/tensor/ops/elementwise.js',
  );
  const { Context } = await load<typeof import('../src/tensor/tensor.js')>('src/tensor/tensor.js');
  const { Adam } = await load<typeof import('../src/train/optim.js')>('src/train/optim.js');
  const engine = await createNodeEngine({ threads });
  const ctx = new Context(engine);
  const rng = Rng.fromSeed(1);
  const model = new UNet(ctx, { ...REFERENCE_UNET, channels }, rng);
  const opt = new Adam(ctx, model, { lr: 2e-4 });
  const x = rng.fillNormal(new Float32Array(batch * 784));
  const eps = rng.fillNormal(new Float32Array(batch * 784));
  const t = Array.from({ length: batch }, () => rng.int(1000));
  const step = () => {
    opt.zeroGrad();
    const loss = ctx.scope(() => {
      const out = model.forward(ctx.fromArray(x, [batch, 28, 28, 1]), t);
      const l = mseLoss(out, ctx.fromArray(eps, [batch, 28, 28, 1]));
      ctx.backward(l);
      return l.item();
    });
    opt.update();
    return loss;
  };
  const profile = () => {
    engine.startProfile();
    step();
    return engine.stopProfile();
  };
  return { label, step, profile, dispose: () => engine.dispose() };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      threads: { type: 'string', default: '2' },
      iters: { type: 'string', default: '20' },
      channels: { type: 'string', default: '32,64' },
      batch: { type: 'string', default: '64' },
    },
  });
  const other = positionals[0];
  if (!other || !existsSync(resolve(other, 'dist/node/engine.js'))) {
    throw new Error(
      'usage: npm run bench:ab -- <other checkout, built with `npm run build`> [--threads n] [--iters n]',
    );
  }
  const threads = Number(values.threads);
  const iters = Number(values.iters);
  const channels = values.channels.split(',').map(Number);
  const batch = Number(values.batch);
  const here = new URL('..', import.meta.url).pathname; // dist/
  const a = await side('other', resolve(other, 'dist'), threads, channels, batch);
  const b = await side('this', here, threads, channels, batch);
  // Same seed, data and model: the first losses must agree to float32 rounding, or the two are not comparable.
  let la = 0;
  let lb = 0;
  for (let i = 0; i < 3; i++) {
    la = a.step();
    lb = b.step();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  const ratios: number[] = [];
  const time = (s: Side) => {
    const t0 = performance.now();
    s.step();
    return performance.now() - t0;
  };
  for (let i = 0; i < iters; i++) {
    // A B, then B A: drift within a pair cancels over two pairs.
    let msA: number;
    let msB: number;
    if (i % 2 === 0) {
      msA = time(a);
      msB = time(b);
    } else {
      msB = time(b);
      msA = time(a);
    }
    ta.push(msA);
    tb.push(msB);
    ratios.push(msB / msA);
  }
  const pa = new Map(a.profile());
  const pb = b.profile();
  a.dispose();
  b.dispose();

  const med = (xs: number[]) => quantile(xs, 0.5);
  console.log(
    `UNet channels ${channels.join(',')}, batch ${batch}, ${threads} thread(s), ${iters} alternating pairs; ` +
      `loss after 3 steps: other ${la.toPrecision(7)}, this ${lb.toPrecision(7)}`,
  );
  console.log(`train step: other ${med(ta).toFixed(1)} ms, this ${med(tb).toFixed(1)} ms`);
  console.log(
    `this / other: median ${med(ratios).toFixed(3)} (interquartile ${quantile(ratios, 0.25).toFixed(3)}–` +
      `${quantile(ratios, 0.75).toFixed(3)})`,
  );
  console.log("\none step by kernel (this tree's 15 slowest):");
  console.log(
    `${'kernel'.padStart(30)}${'other ms'.padStart(10)}${'this ms'.padStart(10)}${'ratio'.padStart(8)}`,
  );
  for (const [name, v] of pb.slice(0, 15)) {
    const o = pa.get(name)?.ms;
    const r = o === undefined ? '' : (v.ms / o).toFixed(2);
    console.log(
      `${name.padStart(30)}${(o?.toFixed(1) ?? '—').padStart(10)}${v.ms.toFixed(1).padStart(10)}${r.padStart(8)}`,
    );
  }
  console.log(
    JSON.stringify({
      ratio_median: med(ratios),
      ratio_q25: quantile(ratios, 0.25),
      ratio_q75: quantile(ratios, 0.75),
      other_ms: med(ta),
      this_ms: med(tb),
      threads,
      iters,
      channels,
      batch,
    }),
  );
}

await main();
