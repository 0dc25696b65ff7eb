#!/usr/bin/env node
/**
 * Quality against steps for every sampler on one checkpoint: runs `elbo eval --metrics samples` for each
 * (sampler, steps) pair, cheapest first, and appends one JSON line per run to the results file (default
 * docs/data/sampler-table.jsonl). Pairs already in the file are skipped, so an interrupted run continues where it
 * stopped. Every run uses the same seed, so all samplers start from the same x_T.
 *
 *   node scripts/sampler-table.mjs [--checkpoint FILE] [--samples 1000] [--steps 5,10,20] [--out FILE]
 *
 * Needs `npm run build` first. The wall time of each run (sampling and scoring) is recorded; on a shared machine
 * it is only a rough guide — `seconds_per_64` in the README comes from a separate quiet measurement.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    checkpoint: { type: 'string', default: 'checkpoints/mnist-ddpm.safetensors' },
    samples: { type: 'string', default: '1000' },
    steps: { type: 'string', default: '5,10,20,50,100,250' },
    samplers: { type: 'string', default: 'ddim,ddim-eta1,ancestral,dpmpp-2m,dpmpp-3m,unipc' },
    out: { type: 'string', default: 'docs/data/sampler-table.jsonl' },
  },
});

const SAMPLERS = {
  ddim: ['--sampler', 'ddim', '--eta', '0'],
  'ddim-eta1': ['--sampler', 'ddim', '--eta', '1'],
  ancestral: ['--sampler', 'ancestral'],
  'dpmpp-2m': ['--sampler', 'dpmpp-2m'],
  'dpmpp-3m': ['--sampler', 'dpmpp-3m'],
  unipc: ['--sampler', 'unipc'],
};

const done = new Set(
  existsSync(values.out)
    ? readFileSync(values.out, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((r) => r.checkpoint === values.checkpoint && r.samples === Number(values.samples))
        .map((r) => `${r.name}@${r.steps}`)
    : [],
);
mkdirSync(dirname(values.out), { recursive: true });
const steps = values.steps.split(',').map(Number);
const names = values.samplers.split(',');
for (const s of steps) {
  for (const name of names) {
    if (done.has(`${name}@${s}`)) continue;
    const args = [
      'bin/elbo.js',
      'eval',
      '--checkpoint',
      values.checkpoint,
      '--json',
      '--metrics',
      'samples',
      '--samples',
      values.samples,
      '--seed',
      '0',
      '--steps',
      String(s),
      '--out',
      `out/sampler-table/${name}-${s}`,
      ...SAMPLERS[name],
    ];
    const t0 = Date.now();
    process.stderr.write(`${new Date().toISOString()} ${name} ${s} steps…\n`);
    const r = JSON.parse(
      execFileSync('node', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    );
    const row = {
      checkpoint: values.checkpoint,
      samples: Number(values.samples),
      name,
      steps: s,
      nfe: r.nfe,
      sampler: r.sampler,
      recognised: r.recognised,
      class_min_share: r.class_min_share,
      fid: r.fid_classifier,
      fid_sd: r.fid_classifier_sd,
      fid_real_floor: r.fid_real_floor,
      fid_real_floor_sd: r.fid_real_floor_sd,
      wall_seconds: (Date.now() - t0) / 1000,
      date: new Date().toISOString(),
    };
    appendFileSync(values.out, JSON.stringify(row) + '\n');
    process.stderr.write(`  ${JSON.stringify(row)}\n`);
  }
}
