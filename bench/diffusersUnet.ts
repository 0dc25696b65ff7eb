/**
 * `node dist/bench/diffusersUnet.js [--threads 2] [--batch 1,8] [--reps 3]`: the time of one network call of
 * google/ddpm-cifar10-32's architecture (diffusers UNet2DModel, 35.7 M parameters, the hashed stand-in weights of
 * test/fixtures/diffusers-unet/make_fixture.py) in elbo's engine, per batch size: seconds per call, seconds per
 * image per call, and what a 100-step sampler costs per sample; then the engine heap's high-water mark. Measure the
 * process's peak memory with `/usr/bin/time -v`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createNodeEngine } from '../node/engine.js';
import { parseUNet2DConfig } from '../src/interop/diffusers/config.js';
import { DiffusersUNet2D } from '../src/interop/diffusers/unet2d.js';
import { Rng } from '../src/random/rng.js';
import { Context } from '../src/tensor/tensor.js';
import { fillHashedWeights } from './hashedWeights.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '1,8' },
    reps: { type: 'string', default: '3' },
  },
});
const big = JSON.parse(
  readFileSync(new URL('../../test/fixtures/diffusers-unet/big.json', import.meta.url), 'utf8'),
) as { config: unknown; names: string[] };
const engine = await createNodeEngine({ threads: Number(values.threads) });
const ctx = new Context(engine);
const { config } = parseUNet2DConfig(big.config);
const net = new DiffusersUNet2D(ctx, config, Rng.fromSeed(0));
fillHashedWeights(net, big.names);
const reps = Number(values.reps);
console.log(
  `threads ${values.threads}, ${net.namedParameters().reduce((n, [, p]) => n + p.size, 0)} parameters`,
);
console.log('batch | s per call (median) | s per image per call | s per sample, 100 steps');
for (const batch of values.batch.split(',').map(Number)) {
  const x = Rng.fromSeed(1).fillNormal(new Float64Array(batch * 32 * 32 * 3));
  const times: number[] = [];
  for (let r = 0; r < reps + 1; r++) {
    const start = performance.now();
    ctx.noGrad(() =>
      ctx.scope(() =>
        net.forward(ctx.fromArray(x, [batch, 32, 32, 3]), new Int32Array(batch).fill(500)).toFloat32Array(),
      ),
    );
    if (r > 0) times.push((performance.now() - start) / 1000); // the first call warms up
  }
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  console.log(
    `${batch} | ${median.toFixed(3)} | ${(median / batch).toFixed(3)} | ${((100 * median) / batch).toFixed(1)}`,
  );
}
console.log(
  `engine heap: peak ${(engine.heap.peakBytes / 2 ** 20).toFixed(0)} MiB live, ` +
    `${(engine.heap.memory.buffer.byteLength / 2 ** 20).toFixed(0)} MiB reserved`,
);
engine.dispose();
