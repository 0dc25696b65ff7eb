/**
 * `elbo train classifier …`: trains the small CNN of src/eval/classifier.ts on MNIST or Fashion-MNIST and
 * writes it as a safetensors checkpoint (format "elbo-classifier-v1") whose metadata records the
 * architecture, the test accuracy, the data set, the command and the training time. `elbo eval` uses it
 * to score generated images (share recognised, class histogram, Fréchet distance of its features).
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import {
  type ClassifierConfig,
  encodeClassifier,
  evaluateClassifier,
  MNIST_CLASSIFIER,
  trainClassifier,
} from '../../src/eval/classifier.js';
import { disposeModule } from '../../src/nn/module.js';
import { writeCheckpointFile } from '../checkpointFile.js';
import { loadDataset } from '../data.js';
import { withEngine } from '../engine.js';
import { checkDirCreatable, ensureWritableDir } from '../io.js';
import { parseFloatOption, parseIntOption } from '../options.js';
import { formatSeconds, type Progress, startProgress } from '../progress.js';
import { UserError } from '../userError.js';

interface TrainClassifierOptions {
  data: string;
  epochs: string;
  batch: string;
  lr: string;
  shift: string;
  seed: string;
  threads?: string;
  out?: string;
  overwrite?: boolean;
}

/** Adds `classifier` under the `train` command. */
export function registerTrainClassifierCommand(train: Command): void {
  train
    .command('classifier')
    .description('train the evaluation classifier (a small CNN) whose scores and features `elbo eval` uses')
    .option(
      '--data <name>',
      'mnist or fashion-mnist (or a folder of labelled PNGs in class subfolders)',
      'mnist',
    )
    .option('--epochs <n>', 'passes over the training set', '6')
    .option('--batch <n>', 'batch size', '128')
    .option('--lr <x>', 'Adam peak learning rate (cosine decay to 0)', '1e-3')
    .option('--shift <px>', 'random translation of training images by up to this many pixels (0: off)', '2')
    .option('--seed <n>', 'random seed (initialisation, data order, augmentation)', '0')
    .option('--threads <n>', 'engine threads (default: all cores)')
    .option('--out <file>', 'checkpoint to write (default: checkpoints/<data>-classifier.safetensors)')
    .option(
      '--overwrite',
      'replace the file at --out if there is one (without it, an existing file is refused)',
    )
    .action(async (opts: TrainClassifierOptions) => {
      await runTrainClassifier(opts);
    });
}

/** The architecture for a data set: the shipped one, sized to the images and the number of classes. */
function configFor(height: number, width: number, channels: number, classes: number): ClassifierConfig {
  return { ...MNIST_CLASSIFIER, height, width, imageChannels: channels, classes };
}

export async function runTrainClassifier(
  opts: TrainClassifierOptions,
): Promise<{ testAccuracy: number; seconds: number }> {
  const epochs = parseIntOption('--epochs', opts.epochs, { min: 1, max: 1000 });
  const batchSize = parseIntOption('--batch', opts.batch, { min: 1, max: 4096 });
  const lr = parseFloatOption('--lr', opts.lr, { min: 1e-8, max: 1 });
  const maxShift = parseIntOption('--shift', opts.shift, { min: 0, max: 8 });
  const seed = parseIntOption('--seed', opts.seed);
  const threads =
    opts.threads === undefined ? undefined : parseIntOption('--threads', opts.threads, { min: 1, max: 64 });
  const out =
    opts.out ??
    `checkpoints/${opts.data.replace(/[/\\]+$/, '').replace(/^.*[/\\]/, '')}-classifier.safetensors`;

  checkDirCreatable(dirname(out));
  if (existsSync(out) && !opts.overwrite)
    throw new UserError(
      `--out ${out} already exists; pass --overwrite to replace it, or choose another --out`,
    );

  const { train, test, splitNote } = loadDataset(opts.data);
  if (train.labels === undefined || test.labels === undefined) {
    throw new UserError(
      `${opts.data} has no labels; a classifier needs labelled images (class subfolders for PNGs)`,
    );
  }
  if (test.count === 0) throw new UserError(`${opts.data} has no test images to measure the accuracy on`);
  if (batchSize > train.count)
    throw new UserError(`--batch ${batchSize} is larger than the training set (${train.count} images)`);
  const classes = train.classNames?.length ?? Math.max(...train.labels, ...test.labels) + 1;
  const config = configFor(train.height, train.width, train.channels, classes);
  process.stderr.write(`${splitNote}\n`);

  const command = [
    'elbo train classifier',
    `--data ${opts.data}`,
    `--epochs ${epochs}`,
    `--batch ${batchSize}`,
    `--lr ${opts.lr}`,
    `--shift ${maxShift}`,
    `--seed ${seed}`,
    ...(threads === undefined ? [] : [`--threads ${threads}`]),
    `--out ${out}`,
  ].join(' ');

  ensureWritableDir(dirname(out));
  return withEngine(threads, (ctx) => {
    const t0 = performance.now();
    let progress: Progress | null = null;
    let smoothed = Number.NaN;
    let smoothedAcc = Number.NaN;
    let result: ReturnType<typeof trainClassifier>;
    try {
      result = trainClassifier(ctx, train, { epochs, batchSize, lr, maxShift, seed, config }, (p) => {
        progress ??= startProgress('train classifier', p.totalSteps);
        smoothed = Number.isNaN(smoothed) ? p.loss : 0.98 * smoothed + 0.02 * p.loss;
        smoothedAcc = Number.isNaN(smoothedAcc)
          ? p.batchAccuracy
          : 0.98 * smoothedAcc + 0.02 * p.batchAccuracy;
        progress.update(p.step, { epoch: `${p.epoch + 1}/${epochs}`, loss: smoothed, acc: smoothedAcc });
        if (p.epochDone) {
          const acc = evaluateClassifier(ctx, p.model, test.images, test.labels!);
          const secs = (performance.now() - t0) / 1000;
          process.stderr.write(
            `epoch ${p.epoch + 1}/${epochs}: test accuracy ${(100 * acc).toFixed(2)} % (${formatSeconds(secs)})\n`,
          );
        }
      });
    } catch (err) {
      (progress as Progress | null)?.stop();
      throw new UserError(`training the classifier failed: ${(err as Error).message}`);
    }
    (progress as Progress | null)?.stop();
    const seconds = (performance.now() - t0) / 1000;
    const testAccuracy = evaluateClassifier(ctx, result.model, test.images, test.labels!);
    const bytes = encodeClassifier(result.model, {
      testAccuracy,
      dataset: opts.data,
      command,
      seconds: Math.round(seconds * 10) / 10,
      training: {
        epochs,
        batchSize,
        lr,
        lrSchedule: 'cosine',
        maxShift,
        seed,
        threads: threads ?? null,
        steps: result.steps,
        trainImages: train.count,
        testImages: test.count,
      },
    });
    writeCheckpointFile(out, bytes);
    disposeModule(result.model);
    const correct = Math.round(testAccuracy * test.count);
    process.stdout.write(
      `test accuracy ${(100 * testAccuracy).toFixed(2)} % (${correct}/${test.count}) after ${epochs} epochs, ${formatSeconds(seconds)}; wrote ${out}\n`,
    );
    return { testAccuracy, seconds };
  });
}
