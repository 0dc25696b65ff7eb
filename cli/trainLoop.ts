/**
 * The training loop shared by `elbo train ddpm` and `elbo train vae`: progress on stderr, metrics.jsonl (one
 * JSON object per logged step), a loss plot, the checkpoint written atomically every --checkpoint-every steps and
 * at the end, resume (metrics past the checkpoint's step are dropped), and the NaN guard turned into a one-line
 * user error that names the step and the last good checkpoint.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChartSvg } from '../src/plot/lineChart.js';
import { type CheckpointState, decodeTrainingState, encodeTrainingState } from '../src/train/checkpoint.js';
import { NonFiniteError } from '../src/train/gradients.js';
import { readCheckpointFile, writeCheckpointFile } from './checkpointFile.js';
import { ensureDir, writeFileAtomic } from './io.js';
import { writeChart } from './png.js';
import { parseIntOption } from './options.js';
import { startProgress } from './progress.js';
import { UserError } from './userError.js';

/** The options every `train` subcommand has. */
export interface CommonTrainOptions {
  steps: string;
  seed: string;
  threads?: string;
  out: string;
  checkpointEvery: string;
  logEvery: string;
  resume?: string;
}

/** What the loop needs of a trainer. */
export interface LoopTrainer<R extends StepResult> {
  readonly step: number;
  readonly config: unknown;
  trainStep(): R;
  exportState(): CheckpointState;
}

export interface StepResult {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
}

export interface TrainLoopSpec<R extends StepResult> {
  /** Extra fields of each metrics.jsonl line (after step, loss, loss_ema, grad_norm, lr; before seconds). */
  metrics?: (r: R) => Record<string, number>;
  /** Live values on the progress line (default: the smoothed loss and the gradient norm). */
  progress?: (r: R, smoothedLoss: number) => Record<string, number>;
  plot: { title: string; yLabel: string; logY: boolean };
}

export interface ParsedCommonOptions {
  totalSteps: number;
  checkpointEvery: number;
  logEvery: number;
  threads: number | undefined;
  checkpointPath: string;
  metricsPath: string;
}

/** Parses and checks the shared options and creates --out (UserError on bad values or an unwritable folder). */
export function parseCommonTrainOptions(opts: CommonTrainOptions): ParsedCommonOptions {
  const totalSteps = parseIntOption('--steps', opts.steps, { min: 1 });
  const checkpointEvery = parseIntOption('--checkpoint-every', opts.checkpointEvery, { min: 1 });
  const logEvery = parseIntOption('--log-every', opts.logEvery, { min: 1 });
  const threads =
    opts.threads === undefined ? undefined : parseIntOption('--threads', opts.threads, { min: 1, max: 64 });
  ensureDir(opts.out);
  return {
    totalSteps,
    checkpointEvery,
    logEvery,
    threads,
    checkpointPath: join(opts.out, 'checkpoint.safetensors'),
    metricsPath: join(opts.out, 'metrics.jsonl'),
  };
}

/** Reads and decodes a checkpoint file; unreadable, corrupt or foreign files are UserErrors naming it. */
export function decodeCheckpointOrExplain(path: string) {
  const bytes = readCheckpointFile(path);
  try {
    return decodeTrainingState(bytes);
  } catch (err) {
    throw new UserError(`${path}: ${(err as Error).message}`);
  }
}

/** The kind recorded in a decoded checkpoint ('ddpm', 'vae', …). */
export function checkpointKind(state: { meta: { kind: string } }): string {
  return state.meta.kind;
}

/** Runs a trainer's restore, turning its errors (missing tensors, wrong shapes) into UserErrors naming the file. */
export function restoreOrExplainWith<T>(path: string, restore: () => T): T {
  try {
    return restore();
  } catch (err) {
    throw new UserError(`${path}: ${(err as Error).message}`);
  }
}

/**
 * Trains until `totalSteps`, writing into `out`. `resumed`: keep the metrics.jsonl lines up to the trainer's
 * step. Throws UserError if the trainer is already at or past totalSteps, or when training diverges.
 */
export function runTrainingLoop<R extends StepResult>(
  trainer: LoopTrainer<R>,
  out: string,
  parsed: ParsedCommonOptions,
  resumed: boolean,
  spec: TrainLoopSpec<R>,
): void {
  const { totalSteps, checkpointEvery, logEvery, checkpointPath, metricsPath } = parsed;
  let metrics: string[] = [];
  if (resumed && existsSync(metricsPath)) {
    metrics = readFileSync(metricsPath, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    metrics = metrics.filter((l) => (JSON.parse(l) as { step: number }).step <= trainer.step);
  }
  if (trainer.step >= totalSteps) {
    throw new UserError(
      `the checkpoint is already at step ${trainer.step}; pass --steps larger than that to train more`,
    );
  }
  writeFileAtomic(join(out, 'config.json'), `${JSON.stringify(trainer.config, null, 2)}\n`);
  const save = () => {
    writeCheckpointFile(checkpointPath, encodeTrainingState(trainer.exportState()));
    writeFileAtomic(metricsPath, metrics.length ? `${metrics.join('\n')}\n` : '');
    writeLossPlot(out, metrics, spec.plot);
  };
  const progress = startProgress('train', totalSteps, trainer.step);
  const t0 = performance.now();
  try {
    // The smoothed loss goes on from the resumed step's metrics line when there is one (it is not in the checkpoint).
    const last = metrics.length
      ? (JSON.parse(metrics[metrics.length - 1]) as { step: number; loss_ema?: number })
      : null;
    let smoothed =
      last?.step === trainer.step && Number.isFinite(last.loss_ema) ? last.loss_ema! : Number.NaN;
    while (trainer.step < totalSteps) {
      const r = trainer.trainStep();
      smoothed = Number.isNaN(smoothed) ? r.loss : 0.98 * smoothed + 0.02 * r.loss;
      if (r.step % logEvery === 0 || r.step === totalSteps) {
        metrics.push(
          JSON.stringify({
            step: r.step,
            loss: r.loss,
            loss_ema: smoothed,
            grad_norm: r.gradNorm,
            lr: r.lr,
            ...(spec.metrics?.(r) ?? {}),
            seconds: (performance.now() - t0) / 1000,
          }),
        );
      }
      progress.update(r.step, spec.progress?.(r, smoothed) ?? { loss: smoothed, grad: r.gradNorm });
      if (r.step % checkpointEvery === 0 || r.step === totalSteps) save();
    }
  } catch (err) {
    progress.stop();
    if (err instanceof NonFiniteError) throw new UserError(`${err.message} (${checkpointPath})`);
    throw err;
  }
  progress.stop();
  process.stderr.write(
    `wrote ${checkpointPath} (step ${trainer.step}), ${metricsPath}, ${join(out, 'loss.svg')} and .png\n`,
  );
}

function writeLossPlot(dir: string, metrics: string[], plot: TrainLoopSpec<StepResult>['plot']): void {
  if (metrics.length < 2) return;
  const rows = metrics.map((l) => JSON.parse(l) as { step: number; loss: number; loss_ema: number });
  writeChart(
    join(dir, 'loss'),
    lineChartSvg(
      [
        { name: 'loss', x: rows.map((r) => r.step), y: rows.map((r) => r.loss), color: '#bbbbbb' },
        { name: 'smoothed', x: rows.map((r) => r.step), y: rows.map((r) => r.loss_ema) },
      ],
      { title: plot.title, xLabel: 'step', yLabel: plot.yLabel, logY: plot.logY },
    ),
  );
}
