/**
 * MNIST from its four IDX files (bytes in, data sets out; the caller reads the files or fetches them).
 *
 * 60 000 training and 10 000 test images of 28×28 grey digits, labels 0–9, the official split.
 *
 * @see [LeCun98] LeCun, Bottou, Bengio, Haffner 1998; http://yann.lecun.com/exdb/mnist/
 */
import { FormatError } from '../checkpoint/formatError.js';
import { parseIdx } from './idx.js';
import { type ImageDataset, imageDatasetFromBytes } from './images.js';

/** The four MNIST files' bytes, as shipped (uncompressed IDX). */
export interface MnistIdxBytes {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

/** A training and a test set. */
export interface TrainTestSplit {
  train: ImageDataset;
  test: ImageDataset;
}

/** The ten MNIST classes (the digits), indexed by label. */
export const MNIST_CLASS_NAMES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/**
 * An image data set from an IDX image file ([N, H, W] or [N, H, W, C]) and an optional IDX label
 * file ([N]); checks that the two agree and that labels index `classNames`.
 */
export function imageDatasetFromIdx(
  imageBytes: Uint8Array,
  labelBytes: Uint8Array | undefined,
  options: { name: string; classNames?: readonly string[] },
): ImageDataset {
  const { name } = options;
  const img = parseIdx(imageBytes, `${name} images`);
  if (img.dims.length !== 3 && img.dims.length !== 4) {
    throw new FormatError(
      `${name} images: expected dimensions [count, height, width] or [count, height, width, channels], ` +
        `found [${img.dims.join(', ')}]`,
    );
  }
  const [count, height, width, channels = 1] = img.dims;
  let labels: Uint8Array | undefined;
  if (labelBytes !== undefined) {
    const lab = parseIdx(labelBytes, `${name} labels`);
    if (lab.dims.length !== 1) {
      throw new FormatError(`${name} labels: expected dimensions [count], found [${lab.dims.join(', ')}]`);
    }
    if (lab.dims[0] !== count) {
      throw new FormatError(
        `${name}: the image file has ${count} images but the label file has ${lab.dims[0]} labels`,
      );
    }
    labels = lab.data;
  }
  try {
    return imageDatasetFromBytes(img.data, {
      name,
      count,
      height,
      width,
      channels,
      ...(labels === undefined ? {} : { labels }),
      ...(options.classNames === undefined ? {} : { classNames: options.classNames }),
    });
  } catch (err) {
    // Zero sizes, labels outside the classes: the bytes are at fault, so it is a FormatError too.
    throw new FormatError((err as Error).message);
  }
}

function checkShape(d: ImageDataset, count: number): void {
  if (d.count !== count || d.height !== 28 || d.width !== 28 || d.channels !== 1) {
    throw new FormatError(
      `${d.name}: expected ${count} images of 28×28×1, found ${d.count} of ${d.height}×${d.width}×${d.channels}` +
        ' (are these the MNIST files?)',
    );
  }
}

/** MNIST's official split: `mnist-train` (60 000) and `mnist-test` (10 000), labels 0–9. */
export function mnistFromIdx(files: MnistIdxBytes): TrainTestSplit {
  const classNames = MNIST_CLASS_NAMES;
  const train = imageDatasetFromIdx(files.trainImages, files.trainLabels, {
    name: 'mnist-train',
    classNames,
  });
  checkShape(train, 60000);
  const test = imageDatasetFromIdx(files.testImages, files.testLabels, { name: 'mnist-test', classNames });
  checkShape(test, 10000);
  return { train, test };
}
