/**
 * IDX files (the format of MNIST and Fashion-MNIST): parsed from bytes, no I/O.
 *
 * Layout: a 4-byte magic number 0x00 0x00 <type> <rank>, then <rank> dimension sizes as big-endian
 * uint32, then the values in row-major order. Only the unsigned-byte type (0x08) is read: it is what
 * every MNIST-like data set uses.
 *
 * @see [LeCun98] http://yann.lecun.com/exdb/mnist/ ("FILE FORMATS FOR THE MNIST DATABASE")
 */

import { FormatError } from '../checkpoint/formatError.js';

/** A parsed IDX file: its dimensions and its values (a view into the input bytes, not a copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

function hex(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Parses an unsigned-byte IDX file. `what` names the file in error messages (e.g. "train images").
 * Throws a FormatError, saying what was expected and what was found, for truncated, gzip-compressed or foreign bytes.
 */
export function parseIdx(bytes: Uint8Array, what = 'IDX file'): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new FormatError(`${what} is gzip-compressed (starts with 1f 8b); decompress it first (gunzip)`);
  }
  if (bytes.length < 4) {
    throw new FormatError(
      `${what} is truncated: an IDX file starts with a 4-byte magic number, found ${bytes.length} bytes`,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FormatError(
      `${what} is not an IDX file: expected magic bytes 00 00 <type> <rank>, found ${hex(bytes, 4)}`,
    );
  }
  const type = bytes[2];
  if (type !== 0x08) {
    const name = IDX_TYPES[type];
    throw new FormatError(
      name === undefined
        ? `${what} is not an IDX file: unknown element type 0x${type.toString(16).padStart(2, '0')} in the magic number`
        : `${what} holds ${name} values (type 0x${type.toString(16).padStart(2, '0')}); only unsigned bytes (0x08) are supported`,
    );
  }
  const rank = bytes[3];
  if (rank === 0) throw new FormatError(`${what} is not an IDX file: the magic number declares 0 dimensions`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new FormatError(
      `${what} is truncated: ${rank} dimensions need a ${headerBytes}-byte header, found ${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  const expected = headerBytes + size;
  if (!Number.isSafeInteger(expected))
    throw new FormatError(
      `${what} is corrupt: dimensions [${dims.join(', ')}] describe more bytes than any file holds`,
    );
  if (bytes.length < expected) {
    throw new FormatError(
      `${what} is truncated: dimensions [${dims.join(', ')}] need ${expected} bytes, found ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    throw new FormatError(
      `${what} has ${bytes.length - expected} unexpected bytes after the data: dimensions [${dims.join(', ')}] ` +
        `need ${expected} bytes, found ${bytes.length}`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes, expected) };
}

/** Encodes unsigned bytes as an IDX file (used to build test fixtures and to export data sets). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  if (dims.length === 0 || dims.length > 255)
    throw new Error(`IDX needs 1 to 255 dimensions, got ${dims.length}`);
  let size = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new Error(`bad IDX dimension ${d}`);
    size *= d;
  }
  if (data.length !== size)
    throw new Error(`data has ${data.length} values, dimensions [${dims.join(', ')}] need ${size}`);
  const out = new Uint8Array(4 + 4 * dims.length + size);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
