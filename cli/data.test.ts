import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFashionClassJson } from '../src/data/fashionMnist.js';
import { labelHistogram } from '../src/data/images.js';
import { fashionMnistClassPaths, loadDataset } from './data.js';
import { encodePng } from './png.js';
import { UserError } from './userError.js';

let dir: string;

/** A 3×2 grey PNG whose pixels are all `v`. */
const greyPng = (v: number, w = 3, h = 2): Buffer => encodePng(w, h, 1, new Uint8Array(w * h).fill(v));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elbo-data-'));
  // flat/: 12 grey images named so that code-unit order differs from numeric order (img10 < img2).
  mkdirSync(join(dir, 'flat'));
  for (let i = 0; i < 12; i++) writeFileSync(join(dir, 'flat', `img${i}.png`), greyPng(i * 10));
  writeFileSync(join(dir, 'flat', 'notes.txt'), 'not an image');
  // classes/: two class folders, one image in colour.
  for (const [cls, values] of [
    ['cat', [1, 2]],
    ['dog', [3]],
  ] as const) {
    mkdirSync(join(dir, 'classes', cls), { recursive: true });
    for (const v of values) writeFileSync(join(dir, 'classes', cls, `${v}.png`), greyPng(v));
  }
  writeFileSync(
    join(dir, 'classes', 'dog', '4.png'),
    encodePng(
      3,
      2,
      3,
      Uint8Array.from({ length: 18 }, (_, i) => (i % 3 === 0 ? 255 : 0)),
    ),
  );
  // mixed/: a 3×2 image, then a 4×2 one.
  mkdirSync(join(dir, 'mixed'));
  writeFileSync(join(dir, 'mixed', 'a.png'), greyPng(0));
  writeFileSync(join(dir, 'mixed', 'b.png'), greyPng(0, 4, 2));
  mkdirSync(join(dir, 'empty'));
  mkdirSync(join(dir, 'corrupt'));
  writeFileSync(join(dir, 'corrupt', 'x.png'), Buffer.from('definitely not a PNG'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function userError(f: () => unknown): UserError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

describe('loadDataset: folders of PNGs', () => {
  it('loads a flat folder in file-name order and holds out every 10th image as the test set', () => {
    const { train, test, splitNote } = loadDataset(join(dir, 'flat'));
    // Code-unit order: img0, img1, img10, img11, img2, …, img9; position 9 is img7.
    const order = [0, 1, 10, 11, 2, 3, 4, 5, 6, 7, 8, 9];
    const firstPixel = (d: typeof train, i: number) => Math.round((d.images[i * 6] + 1) * 127.5);
    expect([train.count, test.count]).toEqual([11, 1]);
    expect([train.height, train.width, train.channels]).toEqual([2, 3, 1]);
    expect(firstPixel(test, 0)).toBe(70);
    expect(Array.from({ length: 11 }, (_, i) => firstPixel(train, i))).toEqual(
      order.filter((_, i) => i !== 9).map((k) => k * 10),
    );
    expect(train.labels).toBeUndefined();
    expect(train.name).toBe('flat-train');
    expect(splitNote).toMatch(/every 10th image .* 11 training, 1 test images/);
  });

  it('uses class subfolders as labels and makes the whole set RGB when one image has colour', () => {
    const { train, test, splitNote } = loadDataset(join(dir, 'classes'));
    expect([train.count, test.count, train.channels]).toEqual([4, 0, 3]);
    expect(train.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(train.labels!)).toEqual([0, 0, 1, 1]);
    const px = (i: number) =>
      Array.from(train.images.subarray(i * 18, i * 18 + 3), (x) => Math.round((x + 1) * 127.5));
    expect(px(0)).toEqual([1, 1, 1]);
    expect(px(3)).toEqual([255, 0, 0]);
    expect(splitNote).toMatch(/fewer than 10 images, so the test set is empty/);
  });

  it('explains unusable folders and unknown names with UserErrors', () => {
    expect(userError(() => loadDataset(join(dir, 'mixed'))).message).toMatch(
      /image 1 \(b\.png\) is 4×2 but image 0 \(a\.png\) is 3×2; all images of a data set must have the same size/,
    );
    expect(userError(() => loadDataset(join(dir, 'empty'))).message).toMatch(/holds no \.png files/);
    expect(userError(() => loadDataset(join(dir, 'corrupt'))).message).toMatch(
      /cannot decode ".*x\.png": not a PNG file/,
    );
    // A cut-short PNG says so, instead of pngjs's "read requests waitng on finished stream".
    const whole = encodePng(3, 2, 1, new Uint8Array(6));
    mkdirSync(join(dir, 'cut'));
    writeFileSync(join(dir, 'cut', 'a.png'), whole.subarray(0, whole.length - 20));
    expect(userError(() => loadDataset(join(dir, 'cut'))).message).toMatch(
      /cannot decode ".*a\.png": the PNG is truncated or corrupt: it does not end with an IEND chunk/,
    );
    expect(userError(() => loadDataset(join(dir, 'no-such-folder'))).message).toMatch(
      /the data folder ".*no-such-folder" does not exist/,
    );
    expect(userError(() => loadDataset(join(dir, 'flat', 'img0.png'))).message).toMatch(
      /is a file; a data set is/,
    );
    expect(userError(() => loadDataset('cifar10')).message).toBe(
      'unknown data set "cifar10": choose mnist or fashion-mnist, or give the path of a folder of PNG images',
    );
  });
});

describe('loadDataset: the installed packages', () => {
  it('MNIST: official counts, label histograms, pixel range, first training label 5', () => {
    const { train, test } = loadDataset('mnist');
    expect([train.count, train.height, train.width, train.channels]).toEqual([60000, 28, 28, 1]);
    expect(test.count).toBe(10000);
    // Class counts of the official files (LeCun's MNIST page / torchvision's MNIST).
    expect(labelHistogram(test.labels!, 10)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(labelHistogram(train.labels!, 10)).toEqual([
      5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949,
    ]);
    expect(train.labels![0]).toBe(5);
    expect(test.labels![0]).toBe(7);
    let min = Infinity;
    let max = -Infinity;
    const px = train.images;
    for (let i = 0; i < px.length; i++) {
      if (px[i] < min) min = px[i];
      if (px[i] > max) max = px[i];
    }
    expect([min, max]).toEqual([-1, 1]);
  });

  it('Fashion-MNIST: the package ships 7000 images per class (class 0 also has 2 empty records)', () => {
    // One class file only (the full load takes seconds); the split itself is tested on fixtures in
    // src/data/fashionMnist.test.ts.
    const paths = fashionMnistClassPaths();
    expect(paths.map((p) => basename(p))).toEqual([...Array(10).keys()].map((k) => `${k}.json`));
    const c0 = parseFashionClassJson(readFileSync(paths[0]));
    expect([c0.count, c0.emptyRecords]).toEqual([7000, 2]);
  });
});
