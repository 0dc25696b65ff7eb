#!/usr/bin/env node
/**
 * Quality against steps for every sampler on one checkpoint: runs `elbo eval --metrics samples` for each
 * (sampler, steps) pair, cheapest first, and appends one JSON line per run to the results file (default
 * docs/data/sampler-table.jsonl). Pairs already in the file are skipped, so an interrupted run continues where it
 * stopped. Every run uses the same seed, so all samplers start from the same x_T.
 *
 *   node scripts/sampler-table.mjs [--checkpoint FILE] [--samples 1000] [--steps 5,10,20] [--out FILE]
 *   node scripts/sampler-table.mjs --report [--out FILE] [--chart docs/sampler-quality]
 *
 * --report prints the results as Markdown: an overview (recognised % and FID by sampler and network calls), then
 * every row (recognised share with its binomial standard error, smallest class, FID ± bootstrap SD), the
 * real-data floor; and writes the chart of recognised share against network calls.
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
    samplers: {
      type: 'string',
      default: 'ddim,ddim-eta1,ancestral-beta,dpmpp-2m,dpmpp-3m,unipc,dpmpp-2m-sde,dpmpp-3m-sde',
    },
    out: { type: 'string', default: 'docs/data/sampler-table.jsonl' },
    report: { type: 'boolean', default: false },
    chart: { type: 'string', default: 'docs/img/sampler-quality' },
  },
});

if (values.report) {
  await report();
  process.exit(0);
}

const SAMPLERS = {
  ddim: ['--sampler', 'ddim', '--eta', '0'],
  'ddim-eta1': ['--sampler', 'ddim', '--eta', '1'],
  // Respaced ancestral sampling with σ² = β: with σ² = β̃ it is DDIM with η = 1 (the same chain, [Song21] §4.1).
  'ancestral-beta': ['--sampler', 'ancestral', '--variance', 'beta'],
  'dpmpp-2m': ['--sampler', 'dpmpp-2m'],
  'dpmpp-3m': ['--sampler', 'dpmpp-3m'],
  unipc: ['--sampler', 'unipc'],
  'dpmpp-2s': ['--sampler', 'dpmpp-2s'],
  'dpmpp-2m-sde': ['--sampler', 'dpmpp-2m-sde'],
  'dpmpp-3m-sde': ['--sampler', 'dpmpp-3m-sde'],
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

/** The Markdown table and the chart of what the results file holds. */
async function report() {
  const { lineChartSvg, PALETTE } = await import('../dist/src/plot/lineChart.js');
  const { writeChart } = await import('../dist/cli/png.js');
  const rows = readFileSync(values.out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const names = [...new Set(rows.map((r) => r.name))];
  const stepsSeen = [...new Set(rows.map((r) => r.steps))].sort((a, b) => a - b);
  const pct = (x) => `${(100 * x).toFixed(1)}`;
  const se = (p, n) => Math.sqrt((p * (1 - p)) / n);
  // First the overview: recognised % (FID) by sampler and network calls.
  console.log(`| sampler | ${stepsSeen.join(' | ')} |`);
  console.log(`| --- | ${stepsSeen.map(() => '---').join(' | ')} |`);
  for (const name of names) {
    const cells = stepsSeen.map((s) => {
      const r = rows.find((x) => x.name === name && x.steps === s);
      return r ? `${pct(r.recognised)} (${r.fid.toFixed(1)})` : '';
    });
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
  console.log('');
  console.log('| sampler | NFE | recognised % (± SE) | smallest class % | FID ± SD |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const name of names) {
    for (const s of stepsSeen) {
      const r = rows.find((x) => x.name === name && x.steps === s);
      if (!r) continue;
      console.log(
        `| ${name} | ${r.nfe} | ${pct(r.recognised)} ± ${pct(se(r.recognised, r.samples))} | ${pct(r.class_min_share)} | ${r.fid.toFixed(1)} ± ${r.fid_sd.toFixed(1)} |`,
      );
    }
  }
  const floor = rows[0];
  console.log(
    `\nFID floor (${floor.samples} random real test images against the other ${10000 - floor.samples}, 5 draws): ${floor.fid_real_floor.toFixed(1)} ± ${floor.fid_real_floor_sd.toFixed(1)}`,
  );
  const [svg, png] = writeChart(
    values.chart,
    lineChartSvg(
      names.map((name, k) => {
        const mine = rows.filter((r) => r.name === name).sort((a, b) => a.steps - b.steps);
        // The palette has eight colours; a ninth series and beyond are grey.
        const color = k < PALETTE.length ? PALETTE[k] : '#999999';
        return { name, color, x: mine.map((r) => Math.log10(r.nfe)), y: mine.map((r) => 100 * r.recognised) };
      }),
      {
        title: `Recognised share of ${floor.samples} samples of the shipped model against network calls`,
        xLabel: 'log₁₀ network calls per sample',
        yLabel: 'recognised (%)',
        width: 720,
        height: 440,
      },
    ),
  );
  console.log(`\nwrote ${svg} and ${png}`);
}
