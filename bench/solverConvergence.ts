/**
 * `node dist/bench/solverConvergence.js [outBase]`: each deterministic sampler's error against the exact
 * probability-flow ODE solution for Gaussian data (src/samplers/gaussianData.ts; the same set-up as
 * src/samplers/convergence.test.ts, which asserts the orders), at 5 … 200 steps on a schedule linear in log-SNR.
 * Prints a table and one JSON line, and writes the log-log chart to outBase.svg/.png (default
 * docs/img/solver-convergence).
 */
import { writeChart } from '../cli/png.js';
import { lineChartSvg } from '../src/plot/lineChart.js';
import { gaussianOdeError, logSnrLinearSchedule, ODE_SOLVERS } from '../src/samplers/gaussianData.js';

const schedule = logSnrLinearSchedule(1001, 5, -5);
const STEPS = [5, 10, 20, 25, 50, 100, 200];
const SOLVERS = Object.entries(ODE_SOLVERS);

const rows = SOLVERS.map(([name, make]) => ({
  name,
  errors: STEPS.map((n) => gaussianOdeError(schedule, 0.3, 0.5, make, n)),
}));
const slope = (e: number[], i: number, j: number) => -Math.log(e[j] / e[i]) / Math.log(STEPS[j] / STEPS[i]);
console.log(`| sampler | ${STEPS.map((n) => `${n} steps`).join(' | ')} | slope 50→200 |`);
console.log(`| --- | ${STEPS.map(() => '---').join(' | ')} | --- |`);
for (const r of rows) {
  const last = STEPS.length - 1;
  console.log(
    `| ${r.name} | ${r.errors.map((e) => e.toExponential(1)).join(' | ')} | ${slope(r.errors, last - 2, last).toFixed(2)} |`,
  );
}
const [svg, png] = writeChart(
  process.argv[2] ?? 'docs/img/solver-convergence',
  lineChartSvg(
    rows.map((r) => ({ name: legendName(r.name), x: STEPS.map(Math.log10), y: r.errors })),
    {
      title: 'Error at t = 0 against the exact ODE solution (Gaussian data, λ-uniform steps)',
      xLabel: 'log₁₀ steps',
      yLabel: 'RMS error',
      logY: true,
      width: 720,
      height: 440,
    },
  ),
);
console.log(`wrote ${svg} and ${png}`);
console.log(JSON.stringify({ steps: STEPS, rows }));

/** A name short enough for the chart's legend ("DPM-Solver++(3M), Taylor D2" → "DPM++ 3M, Taylor"). */
function legendName(name: string): string {
  return name
    .replace(/DPM-Solver\+\+\((\d[MS])\)/, 'DPM++ $1')
    .replace(", diffusers' update", '')
    .replace(', Taylor D2', ', Taylor');
}
