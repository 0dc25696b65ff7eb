import { describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import {
  FASHION_MNIST_CLASS_NAMES,
  fashionMnistFromClassJson,
  parseFashionClassJson,
} from './fashionMnist.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function randomImage(rng: Rng): number[] {
  return Array.from({ length: 784 }, () => rng.int(256));
}

/** A class file in the package's format whose images encode (class, index) in their first two pixels. */
function classFile(k: number, count: number, rng: Rng): Uint8Array {
  const data = Array.from({ length: count }, (_, i) => {
    const img = randomImage(rng);
    img[0] = k;
    img[1] = i;
    return img;
  });
  return utf8(JSON.stringify({ data }));
}

describe('parseFashionClassJson', () => {
  it('agrees with JSON.parse, with any JSON whitespace, and skips empty records', () => {
    const rng = Rng.fromSeed(7);
    const imgs = [randomImage(rng), randomImage(rng), randomImage(rng)];
    imgs[0][0] = 255;
    const text = `{ "data" :\n [ ${JSON.stringify(imgs[0]).replaceAll(',', ', ')},[],\r\n\t${JSON.stringify(imgs[1])} , [ ] ,${JSON.stringify(imgs[2])} ] }\n`;
    const parsed = parseFashionClassJson(utf8(text));
    expect(parsed.count).toBe(3);
    expect(parsed.emptyRecords).toBe(2);
    const viaJson = (JSON.parse(text).data as number[][]).filter((r) => r.length > 0).flat();
    expect(Array.from(parsed.pixels)).toEqual(viaJson);
    expect(parseFashionClassJson(utf8('{"data":[]}')).count).toBe(0);
  });

  it('reports where the bytes stop matching the expected format', () => {
    const img = JSON.stringify(new Array(784).fill(1));
    expect(() => parseFashionClassJson(utf8('{"pixels":[]}'), 'f.json')).toThrow(
      `f.json is not in the expected format: expected '"data"', found '"' at byte 1`,
    );
    expect(() => parseFashionClassJson(utf8(`{"data":[${img.replace('1', '256')}]}`))).toThrow(
      /expected a pixel value 0–255 \(record 0\), found '256' at byte 10/,
    );
    expect(() => parseFashionClassJson(utf8(`{"data":[${img.replace('1', '-1')}]}`))).toThrow(
      /expected a pixel value 0–255 \(record 0\), found '-' at byte 10/,
    );
    expect(() => parseFashionClassJson(utf8(`{"data":[${img.replace('1', '0.5')}]}`))).toThrow(
      /expected ',' or '\]', found '\.'/,
    );
    expect(() => parseFashionClassJson(utf8(`{"data":[[1,2,3]]}`), 'f.json')).toThrow(
      'f.json: record 0 has 3 values, expected 784 (28×28)',
    );
    expect(() => parseFashionClassJson(utf8(`{"data":[${img}]}x`))).toThrow(
      /expected the end of the file, found 'x'/,
    );
    expect(() => parseFashionClassJson(utf8(`{"data":[${img}`))).toThrow(
      /expected ',' or '\]', found the end of the file/,
    );
  });
});

describe('fashionMnistFromClassJson', () => {
  it('holds out the last testPerClass images of each class, round-robin over classes', () => {
    const rng = Rng.fromSeed(1);
    const files = Array.from({ length: 10 }, (_, k) => classFile(k, k === 3 ? 4 : 3, rng));
    const { train, test } = fashionMnistFromClassJson(files, { testPerClass: 1 });
    expect(train.count).toBe(21);
    expect(test.count).toBe(10);
    expect(train.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
    const px = (d: typeof train, i: number, p: number) => Math.round((d.images[i * 784 + p] + 1) * 127.5);
    // Test set: the last image of each class, classes in order.
    expect(Array.from(test.labels!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from({ length: 10 }, (_, i) => px(test, i, 1))).toEqual([2, 2, 2, 3, 2, 2, 2, 2, 2, 2]);
    // Training set: image 0 of every class, then image 1 of every class, then class 3's image 2.
    expect(Array.from(train.labels!)).toEqual([...Array(10).keys(), ...Array(10).keys(), 3]);
    expect(Array.from({ length: 21 }, (_, i) => px(train, i, 1))).toEqual([
      ...new Array(10).fill(0),
      ...new Array(10).fill(1),
      2,
    ]);
    for (let i = 0; i < 21; i++) expect(px(train, i, 0)).toBe(train.labels![i]);
  });

  it('needs 10 files with more than testPerClass images each', () => {
    const rng = Rng.fromSeed(2);
    expect(() => fashionMnistFromClassJson([classFile(0, 2, rng)])).toThrow(/has 10 class files .* got 1/);
    const files = Array.from({ length: 10 }, (_, k) => classFile(k, 2, rng));
    expect(() => fashionMnistFromClassJson(files, { testPerClass: 2 })).toThrow(
      'Fashion-MNIST class 0 (T-shirt/top) has 2 images; more than 2 are needed to hold 2 out for testing',
    );
  });
});
