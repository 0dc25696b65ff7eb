/**
 * The safetensors checkpoint format, encoded and decoded in memory (no I/O).
 *
 * Layout: an 8-byte little-endian unsigned length N; N bytes of UTF-8 JSON
 * `{"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets": [begin, end]}, …}`;
 * then the byte buffer, every tensor little-endian and row-major at [begin, end) relative to the
 * buffer's start. The tensors must tile the buffer exactly (no gaps, no overlaps, no trailing bytes).
 *
 * Written here rather than taken from npm: the registry's `safetensors` package is 0.0.1 and
 * unmaintained. The writer follows the reference implementation (huggingface/safetensors, Rust crate
 * `safetensors/src/tensor.rs`, `prepare`): tensors sorted by dtype alignment, largest first, then by
 * name; `__metadata__` first in the header; the header padded with spaces to a multiple of 8 bytes, so
 * every tensor starts at an offset aligned to its element size. The reader accepts any order and
 * any padding, as the reference does, and rejects headers over 100 MB as it does.
 *
 * @see https://huggingface.co/docs/safetensors (format, "Format" section)
 * @see https://github.com/huggingface/safetensors safetensors/src/tensor.rs (reference reader/writer)
 */

import { FormatError } from './formatError.js';
import { parseJsonBounded } from './json.js';

/** Element types elbo reads and writes. */
export type SafetensorsDtype = 'F64' | 'F32' | 'I64' | 'I32' | 'U8';

/** One tensor: its element type, its shape and its values (row-major). */
export type SafetensorsTensor =
  | { dtype: 'F64'; shape: number[]; data: Float64Array }
  | { dtype: 'F32'; shape: number[]; data: Float32Array }
  | { dtype: 'I64'; shape: number[]; data: BigInt64Array }
  | { dtype: 'I32'; shape: number[]; data: Int32Array }
  | { dtype: 'U8'; shape: number[]; data: Uint8Array };

/** A decoded file: tensors (in buffer order) and the string-to-string metadata. */
export interface SafetensorsContents {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F64: 8, I64: 8, F32: 4, I32: 4, U8: 1 };

/** Order of the reference's `Dtype` enum among the types we write (it sorts by this, descending). */
const WRITE_RANK: Record<SafetensorsDtype, number> = { I64: 0, F64: 1, F32: 2, I32: 3, U8: 4 };

/** Every dtype the format defines, so that a file using another one gets a precise message. */
const SPEC_DTYPES = new Set([
  'BOOL',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'C64',
  'F64',
  'I64',
  'U64',
]);

/** The reference implementation's header size limit. */
export const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isSupportedDtype(d: string): d is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(BYTES_PER_ELEMENT, d);
}

function typedArrayMatches(t: SafetensorsTensor): boolean {
  switch (t.dtype) {
    case 'F64':
      return t.data instanceof Float64Array;
    case 'F32':
      return t.data instanceof Float32Array;
    case 'I64':
      return t.data instanceof BigInt64Array;
    case 'I32':
      return t.data instanceof Int32Array;
    case 'U8':
      return t.data instanceof Uint8Array;
    default:
      return false;
  }
}

function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function formatShape(shape: readonly unknown[]): string {
  return `[${shape.join(', ')}]`;
}

/** Reverses the bytes of each element in place (only on big-endian hosts). */
function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/** UTF-16 code-unit order (the reference sorts UTF-8 bytes; the two agree outside the astral planes). */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Encodes tensors and string metadata as a safetensors file. Throws for a tensor whose data's type,
 * length or shape does not match, for a bad name and for non-string metadata.
 */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    if (name === '' || name === '__metadata__') throw new Error(`invalid tensor name "${name}"`);
    if (!isSupportedDtype(t.dtype)) {
      throw new Error(
        `tensor "${name}": unsupported dtype ${String(t.dtype)} (supported: F64, F32, I64, I32, U8)`,
      );
    }
    if (!typedArrayMatches(t)) {
      throw new Error(`tensor "${name}": dtype ${t.dtype} needs a ${expectedArrayName(t.dtype)}`);
    }
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`tensor "${name}": shape ${formatShape(t.shape)} must hold integers ≥ 0`);
    }
    if (shapeSize(t.shape) !== t.data.length) {
      throw new Error(
        `tensor "${name}": shape ${formatShape(t.shape)} has ${shapeSize(t.shape)} elements, data has ${t.data.length}`,
      );
    }
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`metadata "${k}" must be a string, got ${typeof v}`);
  }
  entries.sort(([na, a], [nb, b]) => WRITE_RANK[a.dtype] - WRITE_RANK[b.dtype] || compareNames(na, nb));

  // The header is assembled by hand so that its key order is exactly the buffer order (a JS object
  // would move integer-like names such as "0" to the front).
  const parts: string[] = [];
  if (Object.keys(metadata).length > 0) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const [name, t] of entries) {
    const end = offset + t.data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] })}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new Error(
      `safetensors header would be ${headerLength} bytes, over the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let pos = 8 + headerLength;
  for (const [, t] of entries) {
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(src, pos);
    if (!LITTLE_ENDIAN_HOST) swapBytes(out.subarray(pos, pos + src.length), BYTES_PER_ELEMENT[t.dtype]);
    pos += src.length;
  }
  return out;
}

function expectedArrayName(dtype: SafetensorsDtype): string {
  switch (dtype) {
    case 'F64':
      return 'Float64Array';
    case 'F32':
      return 'Float32Array';
    case 'I64':
      return 'BigInt64Array';
    case 'I32':
      return 'Int32Array';
    case 'U8':
      return 'Uint8Array';
  }
}

function magicHint(bytes: Uint8Array): string {
  const starts = (...sig: number[]): boolean => sig.every((b, i) => bytes[i] === b);
  if (starts(0x50, 0x4b, 0x03, 0x04)) return ' (it is a zip archive: a PyTorch .pt/.pth file?)';
  if (starts(0x80, 0x02) || starts(0x80, 0x04)) return ' (it looks like a Python pickle)';
  if (starts(0x89, 0x50, 0x4e, 0x47)) return ' (it is a PNG image)';
  if (starts(0x1f, 0x8b)) return ' (it is gzip-compressed)';
  if (starts(0x7b)) return ' (it starts with "{": a JSON file?)';
  return '';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isByteIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Decodes and validates a safetensors file. Every problem is reported with what was expected and what
 * was found, e.g. "checkpoint is truncated: header says 1234 bytes, file has 1000 after the 8-byte
 * length". The tensors' data are fresh, aligned copies (independent of `bytes`).
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (bytes.length < 8) {
    throw new FormatError(
      `checkpoint is truncated: a safetensors file starts with an 8-byte header length, file has ${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLength = hi * 4294967296 + lo;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new FormatError(
      `not a safetensors checkpoint${magicHint(bytes)}: its first 8 bytes give a header length of ${headerLength} ` +
        `bytes, over the format's ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  if (8 + headerLength > bytes.length) {
    throw new FormatError(
      `checkpoint is truncated: header says ${headerLength} bytes, file has ${bytes.length - 8} after the 8-byte length`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new FormatError(`not a safetensors checkpoint${magicHint(bytes)}: its header is not valid UTF-8`);
  }
  if (!text.startsWith('{')) {
    throw new FormatError(
      `not a safetensors checkpoint${magicHint(bytes)}: its header does not start with "{"`,
    );
  }
  // A header is an object of tensor entries {dtype, shape: [...], data_offsets: [...]}: three levels deep.
  const header = parseJsonBounded(text, 3, 'checkpoint header');
  if (!isPlainObject(header)) throw new FormatError('checkpoint header must be a JSON object');

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(info))
        throw new FormatError('checkpoint "__metadata__" must be an object of strings');
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') {
          throw new FormatError(
            `checkpoint metadata must map strings to strings, but "${k}" is ${JSON.stringify(v)}`,
          );
        }
        Object.defineProperty(metadata, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      continue;
    }
    if (!isPlainObject(info))
      throw new FormatError(
        `tensor "${name}": expected {dtype, shape, data_offsets}, found ${JSON.stringify(info)}`,
      );
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string') throw new FormatError(`tensor "${name}": missing "dtype"`);
    if (!isSupportedDtype(dtype)) {
      throw new FormatError(
        SPEC_DTYPES.has(dtype)
          ? `tensor "${name}" has dtype ${dtype}, which elbo cannot read (supported: F64, F32, I64, I32, U8)`
          : `tensor "${name}" has unknown dtype "${dtype}" (the format defines ${[...SPEC_DTYPES].join(', ')})`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isByteIndex)) {
      throw new FormatError(
        `tensor "${name}": "shape" must be a list of integers ≥ 0, found ${JSON.stringify(shape)}`,
      );
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every(isByteIndex) ||
      offsets[0] > offsets[1]
    ) {
      throw new FormatError(
        `tensor "${name}": "data_offsets" must be [begin, end] with 0 ≤ begin ≤ end, found ${JSON.stringify(offsets)}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const elements = shapeSize(shape);
    const needed = elements * BYTES_PER_ELEMENT[dtype];
    if (!Number.isSafeInteger(needed) || needed !== end - begin) {
      throw new FormatError(
        `tensor "${name}": shape ${formatShape(shape)} of ${dtype} needs ${needed} bytes, ` +
          `but its data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const e of entries) {
    if (e.end > dataLength) {
      throw new FormatError(
        `checkpoint is truncated or corrupt: tensor "${e.name}" needs bytes [${e.begin}, ${e.end}) of the data, ` +
          `file has ${dataLength} data bytes`,
      );
    }
    if (e.begin < covered) {
      throw new FormatError(
        `checkpoint is corrupt: tensors "${previous!.name}" [${previous!.begin}, ${previous!.end}) and ` +
          `"${e.name}" [${e.begin}, ${e.end}) overlap`,
      );
    }
    if (e.begin > covered) {
      throw new FormatError(
        `checkpoint is corrupt: data bytes [${covered}, ${e.begin}) ` +
          `${previous === undefined ? 'before the first tensor' : `between tensors "${previous.name}" and "${e.name}"`} ` +
          'belong to no tensor',
      );
    }
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) {
    throw new FormatError(
      `checkpoint is corrupt: the header describes ${covered} data bytes, file has ${dataLength} ` +
        `(${dataLength - covered} bytes after the last tensor)`,
    );
  }

  const tensors: Record<string, SafetensorsTensor> = {};
  for (const e of entries) {
    // A copy (aligned, independent). Uint8Array.prototype.slice, because a Node Buffer's own slice is a view.
    const raw = Uint8Array.prototype.slice.call(bytes, dataStart + e.begin, dataStart + e.end);
    if (!LITTLE_ENDIAN_HOST) swapBytes(raw, BYTES_PER_ELEMENT[e.dtype]);
    Object.defineProperty(tensors, e.name, {
      value: tensorFromBytes(e.dtype, e.shape, raw.buffer),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { tensors, metadata };
}

function tensorFromBytes(dtype: SafetensorsDtype, shape: number[], buffer: ArrayBuffer): SafetensorsTensor {
  switch (dtype) {
    case 'F64':
      return { dtype, shape, data: new Float64Array(buffer) };
    case 'F32':
      return { dtype, shape, data: new Float32Array(buffer) };
    case 'I64':
      return { dtype, shape, data: new BigInt64Array(buffer) };
    case 'I32':
      return { dtype, shape, data: new Int32Array(buffer) };
    case 'U8':
      return { dtype, shape, data: new Uint8Array(buffer) };
  }
}
