/**
 * Image-sample scores from elbo's own classifier (shipped in checkpoints/): the share of samples it recognises
 * with confidence ≥ 0.9 (and, as its ceiling, the share of the test set it recognises), the histogram of
 * predicted classes (mode coverage) and the Fréchet distance between its penultimate-layer features of the
 * samples and of the test set.
 */
import { existsSync } from 'node:fs';
import { classify, decodeClassifier, recognitionReport } from '../src/eval/classifier.js';
import { frechetDistanceOfFeatures } from '../src/eval/frechet.js';
import type { Context } from '../src/tensor/tensor.js';
import { readCheckpointFile } from './checkpointFile.js';
import { loadDataset } from './data.js';
import { UserError } from './userError.js';

/** The shipped classifier for a dataset name, resolved from the package root. */
export function defaultClassifierPath(dataset: string): string {
  return new URL(`../../checkpoints/${dataset}-classifier.safetensors`, import.meta.url).pathname;
}

export async function scoreWithClassifier(
  ctx: Context,
  dataset: string,
  samples: Float64Array,
  n: number,
  classifierPath?: string,
): Promise<Record<string, unknown>> {
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
    if (err instanceof UserError) throw err;
    throw new UserError(`${path}: ${(err as Error).message}`);
  }
  const { model, meta } = decoded;
  const images = Float32Array.from(samples);
  const ofSamples = classify(ctx, model, images);
  const report = recognitionReport(ofSamples.probs, model.config.classes);
  const { test } = loadDataset(dataset);
  // The same score for the real test images: the ceiling a perfect generator would reach.
  const ofTest = classify(ctx, model, test.images);
  const reference = recognitionReport(ofTest.probs, model.config.classes);
  const fid = frechetDistanceOfFeatures(
    ofSamples.features,
    n,
    ofTest.features,
    test.count,
    model.config.hidden,
  );
  return {
    recognised: report.recognised,
    class_histogram: report.classHistogram,
    class_min_share: report.classMinShare,
    recognised_test_set: reference.recognised,
    fid_classifier: fid,
    fid_reference_n: test.count,
    classifier: path,
    classifier_test_accuracy: meta.testAccuracy,
  };
}
