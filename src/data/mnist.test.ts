import { describe, expect, it } from 'vitest';
import { encodeIdx } from './idx.js';
import { imageDatasetFromIdx, MNIST_CLASS_NAMES, mnistFromIdx } from './mnist.js';

const images = encodeIdx([3, 2, 2], Uint8Array.of(0, 255, 0, 255, 10, 20, 30, 40, 255, 255, 255, 255));
const labels = encodeIdx([3], Uint8Array.of(5, 0, 9));

describe('imageDatasetFromIdx', () => {
  it('pairs an IDX image file with its label file', () => {
    const d = imageDatasetFromIdx(images, labels, { name: 'fx', classNames: MNIST_CLASS_NAMES });
    expect([d.count, d.height, d.width, d.channels]).toEqual([3, 2, 2, 1]);
    expect(Array.from(d.labels!)).toEqual([5, 0, 9]);
    expect(Array.from(d.images.subarray(0, 4))).toEqual([-1, 1, -1, 1]);
    expect(d.classNames).toEqual(MNIST_CLASS_NAMES);
  });

  it('rejects disagreeing files and labels outside the classes', () => {
    expect(() => imageDatasetFromIdx(images, encodeIdx([2], Uint8Array.of(1, 2)), { name: 'fx' })).toThrow(
      'fx: the image file has 3 images but the label file has 2 labels',
    );
    expect(() => imageDatasetFromIdx(labels, undefined, { name: 'fx' })).toThrow(
      'fx images: expected dimensions [count, height, width] or [count, height, width, channels], found [3]',
    );
    expect(() =>
      imageDatasetFromIdx(images, encodeIdx([3], Uint8Array.of(1, 10, 2)), {
        name: 'fx',
        classNames: MNIST_CLASS_NAMES,
      }),
    ).toThrow('fx: label 10 of image 1 is outside [0, 9]');
  });
});

describe('mnistFromIdx', () => {
  it('checks the official sizes and says what it found', () => {
    expect(() =>
      mnistFromIdx({ trainImages: images, trainLabels: labels, testImages: images, testLabels: labels }),
    ).toThrow('mnist-train: expected 60000 images of 28×28×1, found 3 of 2×2×1 (are these the MNIST files?)');
  });
  // The real files are loaded in cli/data.test.ts (counts, label histograms, first label).
});
