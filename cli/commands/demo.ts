/** `elbo demo …`: small self-contained demonstrations of the mathematics, written as tables and figures. */
import { join } from 'node:path';
import type { Command } from 'commander';
import { type NoiseSchedule, noiseSchedule, type ScheduleName } from '../../src/diffusion/index.js';
import { lineChartSvg } from '../../src/plot/lineChart.js';
import { writeFileAtomic } from '../io.js';
import { parseIntOption } from '../options.js';
import { formatTable } from '../table.js';
import { registerBayesDemos } from './demoBayes.js';

const SCHEDULES: readonly ScheduleName[] = ['linear', 'cosine', 'sigmoid'];

export function registerDemoCommand(program: Command): void {
  const demo = program.command('demo').description('demonstrations of the mathematics (tables and figures)');
  demo
    .command('schedules')
    .description(
      'print β_t, ᾱ_t, √ᾱ_t, √(1−ᾱ_t) and log-SNR for the built-in noise schedules; plot ᾱ_t and SNR',
    )
    .option('--steps <T>', 'number of diffusion steps T', '1000')
    .option('--out <dir>', 'directory for the figures', 'out/schedules')
    .action((opts: { steps: string; out: string }) => {
      const T = parseIntOption('--steps', opts.steps, { min: 2 });
      const schedules = SCHEDULES.map((name) => ({ name, schedule: noiseSchedule(name, T) }));
      for (const { name, schedule } of schedules) {
        process.stdout.write(`\n${name} schedule, T = ${T}\n${scheduleTable(schedule)}\n`);
      }
      const t = Array.from({ length: T }, (_, i) => i);
      const files = {
        alphaBar: join(opts.out, 'alpha-bar.svg'),
        snr: join(opts.out, 'snr.svg'),
      };
      writeFileAtomic(
        files.alphaBar,
        lineChartSvg(
          schedules.map(({ name, schedule }) => ({ name, x: t, y: schedule.alphaBar })),
          { title: `ᾱ_t = Π (1 − β_s), T = ${T}`, xLabel: 'timestep t', yLabel: 'ᾱ_t' },
        ),
      );
      writeFileAtomic(
        files.snr,
        lineChartSvg(
          schedules.map(({ name, schedule }) => ({ name, x: t, y: schedule.logSnr.map(Math.exp) })),
          { title: `SNR(t) = ᾱ_t / (1 − ᾱ_t), T = ${T}`, xLabel: 'timestep t', yLabel: 'SNR', logY: true },
        ),
      );
      process.stdout.write(`\nwrote ${files.alphaBar}\nwrote ${files.snr}\n`);
    });
  registerBayesDemos(demo); // `demo bayes`, `demo kl`
}

/** Rows at a few representative timesteps (0-based t; paper timestep t + 1). */
function scheduleTable(s: NoiseSchedule): string {
  const T = s.T;
  const ts = [
    ...new Set([
      0,
      1,
      Math.round(T / 10),
      Math.round(T / 4),
      Math.round(T / 2),
      Math.round((3 * T) / 4),
      T - 1,
    ]),
  ]
    .filter((t) => t >= 0 && t < T)
    .sort((a, b) => a - b);
  return formatTable(
    ['t', 'β_t', 'ᾱ_t', '√ᾱ_t', '√(1−ᾱ_t)', 'log SNR', 'β̃_t'],
    ts.map((t) => [
      String(t),
      s.beta[t].toExponential(4),
      s.alphaBar[t].toExponential(4),
      s.sqrtAlphaBar[t].toFixed(6),
      s.sqrtOneMinusAlphaBar[t].toFixed(6),
      s.logSnr[t].toFixed(3),
      s.posteriorVariance[t].toExponential(4),
    ]),
  );
}
