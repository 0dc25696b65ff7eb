/**
 * Image data sets from decoded PNG images (pure: the caller decodes the files, e.g. with pngjs in Node
 * or a canvas in the browser, and passes the pixels).
 *
 * Channel rule, applied to the whole set so every image gets the same layout: if every image is grey
 * (1 channel, or 2 with alpha) the set is grey (C = 1); if any image has colour (3 or 4 channels)
 * the set is RGB (C = 3) and grey images are copied into all three channels. `channels` forces either.
 * Colour → grey uses the ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B (what PIL's convert('L') uses).
 * Alpha is composited over a uniform `background` (default 0, black): v·α + background·(1 − α).
 */
import { FormatError } from '../checkpoint/formatError.js';
import { type ImageDataset, imageDatasetFromBytes } from './images.js';

/** One decoded image: 8-bit pixels, row-major, channels interleaved (1 grey, 2 grey+α, 3 RGB, 4 RGBA). */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
  /** Where the image came from (a file name), for error messages. */
  source?: string;
}

/** Options of {@link imageDatasetFromDecodedPngs}. */
export interface DecodedPngOptions {
  /** Data-set name (default "images"). */
  name?: string;
  /** Output channels; by default 1 if all images are grey, else 3. */
  channels?: 1 | 3;
  /** Grey level 0..255 that transparent pixels are composited over (default 0). */
  background?: number;
  labels?: Int32Array | readonly number[];
  classNames?: readonly string[];
}

function describe(img: DecodedImage, index: number): string {
  return img.source === undefined ? `image ${index}` : `image ${index} (${img.source})`;
}

/** Converts and stacks equally sized decoded images into one NHWC data set. */
export function imageDatasetFromDecodedPngs(
  images: readonly DecodedImage[],
  options: DecodedPngOptions = {},
): ImageDataset {
  const name = options.name ?? 'images';
  if (images.length === 0) throw new Error(`${name}: no images`);
  const { width, height } = images[0];
  images.forEach((img, i) => {
    if (![1, 2, 3, 4].includes(img.channels)) {
      throw new Error(`${describe(img, i)} has ${img.channels} channels; expected 1, 2, 3 or 4`);
    }
    if (img.width !== width || img.height !== height) {
      throw new Error(
        `${describe(img, i)} is ${img.width}×${img.height} but ${describe(images[0], 0)} is ${width}×${height}; ` +
          'all images of a data set must have the same size',
      );
    }
    const expected = img.width * img.height * img.channels;
    if (img.data.length !== expected) {
      throw new Error(
        `${describe(img, i)}: ${img.width}×${img.height}×${img.channels} needs ${expected} bytes, got ${img.data.length}`,
      );
    }
  });
  const background = options.background ?? 0;
  if (!(background >= 0 && background <= 255))
    throw new Error(`background must be in [0, 255], got ${background}`);
  const channels = options.channels ?? (images.every((img) => img.channels <= 2) ? 1 : 3);
  const pixels = width * height;
  const out = new Uint8Array(images.length * pixels * channels);
  images.forEach((img, n) => {
    const src = img.data;
    const c = img.channels;
    const hasAlpha = c === 2 || c === 4;
    const colour = c >= 3;
    let o = n * pixels * channels;
    for (let p = 0; p < pixels; p++) {
      const s = p * c;
      const a = hasAlpha ? src[s + c - 1] / 255 : 1;
      const blend = (v: number): number => Math.round(v * a + background * (1 - a));
      if (channels === 1) {
        const grey = colour ? 0.299 * src[s] + 0.587 * src[s + 1] + 0.114 * src[s + 2] : src[s];
        out[o++] = blend(grey);
      } else if (colour) {
        out[o++] = blend(src[s]);
        out[o++] = blend(src[s + 1]);
        out[o++] = blend(src[s + 2]);
      } else {
        const v = blend(src[s]);
        out[o++] = v;
        out[o++] = v;
        out[o++] = v;
      }
    }
  });
  return imageDatasetFromBytes(out, {
    name,
    count: images.length,
    height,
    width,
    channels,
    ...(options.labels === undefined ? {} : { labels: options.labels }),
    ...(options.classNames === undefined ? {} : { classNames: options.classNames }),
  });
}

/** Largest image side elbo reads from a PNG (what a checkpoint may record; see src/train/checkpointSchema.ts). */
export const MAX_PNG_SIDE = 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IEND_CHUNK = [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

/**
 * Checks a PNG's structure before it is decoded: the signature, an IHDR chunk first whose width and height are
 * at most `maxSide` (a 75-byte file can claim 65535×65535 pixels and make a decoder allocate gigabytes), and the
 * IEND chunk at the end (absent: the file was cut short). Returns the claimed size; FormatError otherwise.
 * @see https://www.w3.org/TR/png-3/ §5.2 (signature), §11.2.1 (IHDR), §11.2.5 (IEND)
 */
export function checkPngStructure(
  bytes: Uint8Array,
  maxSide = MAX_PNG_SIDE,
): { width: number; height: number } {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b))
    throw new FormatError('not a PNG file (its first 8 bytes are not the PNG signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ihdr = String.fromCharCode(...bytes.subarray(12, 16));
  if (bytes.length < 8 + 8 + 13 || ihdr !== 'IHDR' || view.getUint32(8) !== 13)
    throw new FormatError('not a valid PNG file: it does not start with a 13-byte IHDR chunk (truncated?)');
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width === 0 || height === 0 || width > maxSide || height > maxSide)
    throw new FormatError(
      `the PNG claims ${width}×${height} pixels; elbo reads images from 1×1 to ${maxSide}×${maxSide}`,
    );
  const tail = bytes.subarray(bytes.length - IEND_CHUNK.length);
  if (bytes.length < 33 + IEND_CHUNK.length || IEND_CHUNK.some((b, i) => tail[i] !== b))
    throw new FormatError('the PNG is truncated or corrupt: it does not end with an IEND chunk');
  return { width, height };
}
