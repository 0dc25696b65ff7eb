/**
 * Image-sample scores from elbo's own classifier (shipped in checkpoints/): the share of samples it recognises
 * with confidence ≥ 0.9 (and, as its ceiling, the share of the test set it recognises), the histogram of
 * predicted classes (mode coverage) and the Fréchet distance between its penultimate-layer features of the
 * samples and of the test set, with its bootstrap standard error over the samples and its floor (as many random
 * real test images against the rest of the test set: what a perfect generator would score); and a grid of the samples
 * it does not recognise, to look at what the model gets wrong.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  classify,
  decodeClassifier,
  RECOGNITION_THRESHOLD,
  recognitionReport,
} from '../src/eval/classifier.js';
import {
  frechetDistanceBootstrap,
  frechetDistanceOfFeatures,
  frechetDistanceRealFloor,
} from '../src/eval/frechet.js';
import { Rng } from '../src/random/rng.js';
import type { Context } from '../src/tensor/tensor.js';
import { FormatError } from '../src/checkpoint/formatError.js';
import { disposeModule } from '../src/nn/module.js';
import { readCheckpointFile } from './checkpointFile.js';
import { loadDataset } from './data.js';
import { writeFileAtomic } from './io.js';
import { sampleGridPng } from './png.js';
import { UserError } from './userError.js';

/** The shipped classifier for a dataset name, resolved from the package root. */
export function defaultClassifierPath(dataset: string): string {
  return new URL(`../../checkpoints/${dataset}-classifier.safetensors`, import.meta.url).pathname;
}

/** A decoded classifier and the file it came from. */
export interface LoadedClassifier {
  path: string;
  model: ReturnType<typeof decodeClassifier>['model'];
  meta: ReturnType<typeof decodeClassifier>['meta'];
}

/**
 * Loads the classifier (given, or the shipped one for `dataset`) and checks that it takes images of
 * `dataShape` [H, W, C]: UserErrors naming the file. Called before sampling, so a bad file costs no work.
 */
export function loadClassifierOrExplain(
  ctx: Context,
  dataset: string,
  dataShape: readonly number[],
  classifierPath?: string,
): LoadedClassifier {
  const path = classifierPath ?? defaultClassifierPath(dataset);
  if (!existsSync(path)) {
    throw new UserError(
      `no classifier for "${dataset}" at ${path}: pass --classifier FILE (train one with \`elbo train classifier\`) or --metrics nll`,
    );
  }
  let decoded;
  try {
    decoded = decodeClassifier(ctx, readCheckpointFile(path));
  } catch (err) {
    if (err instanceof FormatError) throw new UserError(`${path}: ${err.message}`);
    throw err;
  }
  const { height, width, imageChannels } = decoded.model.config;
  if (height !== dataShape[0] || width !== dataShape[1] || imageChannels !== dataShape[2]) {
    disposeModule(decoded.model);
    throw new UserError(
      `${path}: the classifier takes ${height}×${width}×${imageChannels} images, the model makes ` +
        `${dataShape.join('×')}; pass a --classifier trained on this data`,
    );
  }
  return { path, ...decoded };
}

export async function scoreWithClassifier(
  ctx: Context,
  dataset: string,
  samples: Float64Array,
  n: number,
  outDir: string,
  classifier: LoadedClassifier,
  fidBootstrap: { replicates: number; seed: number } = { replicates: 0, seed: 0 },
): Promise<Record<string, unknown>> {
  const { model, meta, path } = classifier;
  const images = Float32Array.from(samples);
  const ofSamples = classify(ctx, model, images);
  const report = recognitionReport(ofSamples.probs, model.config.classes);
  const { test } = loadDataset(dataset);
  // The same score for the real test images: the ceiling a perfect generator would reach.
  const ofTest = classify(ctx, model, test.images);
  const reference = recognitionReport(ofTest.probs, model.config.classes);
  const hidden = model.config.hidden;
  const fid = frechetDistanceOfFeatures(ofSamples.features, n, ofTest.features, test.count, hidden);
  // The FID's spread over draws of the samples (skipped with 0 replicates; < 2 cannot give a spread).
  const bootstrap =
    fidBootstrap.replicates >= 2
      ? frechetDistanceBootstrap(
          ofSamples.features,
          n,
          ofTest.features,
          test.count,
          hidden,
          fidBootstrap.replicates,
          Rng.fromSeed(fidBootstrap.seed),
        )
      : null;
  // The floor: n random real test images against the rest of the test set (5 draws).
  const floor =
    n <= test.count - 2
      ? frechetDistanceRealFloor(
          ofTest.features,
          test.count,
          hidden,
          n,
          5,
          Rng.fromSeed(fidBootstrap.seed + 1),
        )
      : null;
  const unrecognised = unrecognisedGrid(
    images,
    ofSamples.confidence,
    model.config,
    join(outDir, 'unrecognised.png'),
  );
  return {
    recognised: report.recognised,
    class_histogram: report.classHistogram,
    class_min_share: report.classMinShare,
    recognised_test_set: reference.recognised,
    fid_classifier: fid,
    ...(bootstrap
      ? { fid_classifier_sd: bootstrap.sd, fid_bootstrap_replicates: fidBootstrap.replicates }
      : {}),
    fid_reference_n: test.count,
    ...(floor ? { fid_real_floor: floor.mean, fid_real_floor_sd: floor.sd, fid_real_floor_draws: 5 } : {}),
    classifier: path,
    classifier_test_accuracy: meta.testAccuracy,
    ...unrecognised,
  };
}

/**
 * Writes the first (up to) 100 samples whose confidence is below the recognition threshold, in sample order, as a
 * grid at `path`; returns the JSON keys that say so (none when every sample was recognised).
 */
function unrecognisedGrid(
  images: Float32Array,
  confidence: Float64Array,
  { height, width, imageChannels }: { height: number; width: number; imageChannels: number },
  path: string,
): Record<string, unknown> {
  const per = height * width * imageChannels;
  const missed: number[] = [];
  for (let i = 0; i < confidence.length && missed.length < 100; i++) {
    if (confidence[i] < RECOGNITION_THRESHOLD) missed.push(i);
  }
  if (missed.length === 0) return {};
  const shown = new Float32Array(missed.length * per);
  missed.forEach((i, k) => shown.set(images.subarray(i * per, (i + 1) * per), k * per));
  writeFileAtomic(path, sampleGridPng(shown, missed.length, [height, width, imageChannels]));
  return { unrecognised_png: path, unrecognised_shown: missed.length };
}
