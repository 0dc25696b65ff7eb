/**
 * The training loop shared by `elbo train ddpm` and `elbo train vae`: progress on stderr, metrics.jsonl (one
 * JSON object per logged step), a loss plot, the checkpoint written atomically every --checkpoint-every steps and
 * at the end, resume (metrics past the checkpoint's step are dropped), and the NaN guard turned into a one-line
 * user error that names the step and says which checkpoint, if any, holds the last good state.
 *
 * A run folder is never replaced by accident: an --out that holds a checkpoint is refused unless the run
 * resumes that checkpoint (--resume) or --overwrite is given (checkRunDir, before any work), and nothing is
 * written before every input has been checked (runTrainingLoop creates and probes --out first).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lineChartSvg } from '../src/plot/lineChart.js';
import { FormatError } from '../src/checkpoint/formatError.js';
import {
  type CheckpointState,
  decodeTrainingState,
  type ElboTrainingState,
  encodeTrainingState,
  type TrainingKind,
} from '../src/train/checkpoint.js';
import type { TrainingState } from '../src/train/ddpm.js';
import type { VaeTrainingState } from '../src/vae/trainer.js';
import { NonFiniteError } from '../src/train/gradients.js';
import { readCheckpointFile, writeCheckpointFile } from './checkpointFile.js';
import { checkDirCreatable, ensureWritableDir, writeFileAtomic } from './io.js';
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
  overwrite?: boolean;
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

/**
 * Parses and checks the shared options and --out (UserError on bad values, an --out that cannot be created, or
 * one that holds a checkpoint this run would replace). Writes nothing.
 */
export function parseCommonTrainOptions(opts: CommonTrainOptions): ParsedCommonOptions {
  const totalSteps = parseIntOption('--steps', opts.steps, { min: 1 });
  const checkpointEvery = parseIntOption('--checkpoint-every', opts.checkpointEvery, { min: 1 });
  const logEvery = parseIntOption('--log-every', opts.logEvery, { min: 1 });
  const threads =
    opts.threads === undefined ? undefined : parseIntOption('--threads', opts.threads, { min: 1, max: 64 });
  checkRunDir(opts);
  return {
    totalSteps,
    checkpointEvery,
    logEvery,
    threads,
    checkpointPath: runCheckpointPath(opts.out),
    metricsPath: join(opts.out, 'metrics.jsonl'),
  };
}

/** The checkpoint file a run writes into `out`. */
export function runCheckpointPath(out: string): string {
  return join(out, 'checkpoint.safetensors');
}

/**
 * Refuses an --out that holds a checkpoint unless this run continues exactly that checkpoint (--resume) or
 * --overwrite is given; and an --out that cannot be created. Writes nothing.
 */
export function checkRunDir(opts: Pick<CommonTrainOptions, 'out' | 'resume' | 'overwrite'>): void {
  checkDirCreatable(opts.out);
  const checkpoint = runCheckpointPath(opts.out);
  if (opts.overwrite || !existsSync(checkpoint)) return;
  if (opts.resume !== undefined && resolve(opts.resume) === resolve(checkpoint)) return;
  throw new UserError(
    `--out ${opts.out} already holds a checkpoint (${checkpoint}); pass --resume ${checkpoint} to continue it, ` +
      '--overwrite to replace it, or choose another --out',
  );
}

/**
 * Reads and decodes a training checkpoint, of the `expected` kind if given; unreadable, corrupt, foreign or
 * wrong-kind files are UserErrors naming the file and what it is.
 */
export function decodeCheckpointOrExplain(path: string): ElboTrainingState;
export function decodeCheckpointOrExplain(path: string, expected: 'ddpm'): TrainingState;
export function decodeCheckpointOrExplain(path: string, expected: 'vae'): VaeTrainingState;
export function decodeCheckpointOrExplain(path: string, expected?: TrainingKind): ElboTrainingState {
  const bytes = readCheckpointFile(path);
  try {
    return decodeTrainingState(bytes, expected);
  } catch (err) {
    if (err instanceof FormatError) throw new UserError(`${path}: ${err.message}`);
    throw err;
  }
}

/** The kind recorded in a decoded checkpoint ('ddpm', 'vae'). */
export function checkpointKind(state: ElboTrainingState): TrainingKind {
  return state.meta.kind;
}

/**
 * Runs what reads or uses a file — a trainer's restore, a pipeline's load, sampling it — turning its errors
 * (missing tensors, wrong shapes, a sampler the model cannot take) into UserErrors naming the file.
 */
export function withPathInErrors<T>(path: string, run: () => T): T {
  try {
    return run();
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
  if (resumed && existsSync(metricsPath)) metrics = metricsUpTo(metricsPath, trainer.step);
  if (trainer.step >= totalSteps) {
    throw new UserError(
      `the checkpoint is already at step ${trainer.step}; pass --steps larger than that to train more`,
    );
  }
  ensureWritableDir(out);
  let savedStep: number | null = null;
  let plotWritten = false;
  const startStep = trainer.step;
  const save = () => {
    // config.json goes with the first checkpoint: a run that stops before it (e.g. diverges) leaves nothing.
    if (savedStep === null)
      writeFileAtomic(join(out, 'config.json'), `${JSON.stringify(trainer.config, null, 2)}\n`);
    writeCheckpointFile(checkpointPath, encodeTrainingState(trainer.exportState()));
    savedStep = trainer.step;
    writeFileAtomic(metricsPath, metrics.length ? `${metrics.join('\n')}\n` : '');
    plotWritten = writeLossPlot(out, metrics, spec.plot);
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
    if (err instanceof NonFiniteError) {
      const kept =
        savedStep !== null
          ? `the last good checkpoint (step ${savedStep}) is ${checkpointPath}`
          : resumed
            ? `the checkpoint resumed from (step ${startStep}) is unchanged`
            : 'no checkpoint was written yet (lower --lr or --checkpoint-every)';
      throw new UserError(`${err.message}; ${kept}`);
    }
    throw err;
  }
  progress.stop();
  const plot = plotWritten
    ? ` and ${join(out, 'loss.svg')} (.png)`
    : ' (no loss plot: fewer than 2 logged steps)';
  process.stderr.write(`wrote ${checkpointPath} (step ${trainer.step}), ${metricsPath}${plot}\n`);
}

/** The lines of a run's metrics.jsonl up to `step` (UserError naming the file if a line is not JSON). */
function metricsUpTo(path: string, step: number): string[] {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.filter((l, i) => {
    let row: unknown;
    try {
      row = JSON.parse(l);
    } catch {
      row = null;
    }
    const s = (row as { step?: unknown } | null)?.step;
    if (typeof s !== 'number')
      throw new UserError(
        `${path}, line ${i + 1}: not a metrics line with a "step"; move the file away to resume`,
      );
    return s <= step;
  });
}

/** Writes loss.svg and loss.png when there are at least two logged steps; returns whether it did. */
function writeLossPlot(dir: string, metrics: string[], plot: TrainLoopSpec<StepResult>['plot']): boolean {
  if (metrics.length < 2) {
    // A replaced run's plot would otherwise stay beside the new metrics.
    for (const ext of ['svg', 'png']) rmSync(join(dir, `loss.${ext}`), { force: true });
    return false;
  }
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
  return true;
}
