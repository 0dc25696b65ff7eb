/**
 * NumPy's .npy format (version 1.0) for float32 arrays, so that any tool can read elbo's samples:
 * the magic "\x93NUMPY", version 1.0, a little-endian uint16 header length, then a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (…), }` padded with spaces and a newline so that the data
 * starts at a multiple of 64 bytes, then the values in C order.
 *
 * [NEP1] "A Simple File Format for NumPy Arrays", numpy.lib.format (NEP 1)
 */

/** Encodes a C-ordered float32 array of the given shape as .npy bytes. @see [NEP1] */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count !== data.length)
    throw new Error(`encodeNpy: shape [${shape.join(', ')}] does not hold ${data.length} values`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const prefix = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.length * 4);
  out.set([0x93, ...Array.from('NUMPY', (c) => c.charCodeAt(0)), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  const view = new DataView(out.buffer, total);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/** Decodes .npy bytes written by {@link encodeNpy} (float32, little-endian, C order): the shape and the values. */
export function decodeNpy(bytes: Uint8Array): { shape: number[]; data: Float32Array } {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error('not a .npy file (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint16(8, true);
  const header = String.fromCharCode(...bytes.subarray(10, 10 + headerLength));
  if (!header.includes("'descr': '<f4'") || !header.includes("'fortran_order': False"))
    throw new Error(`only little-endian float32 C-order arrays are read, got header ${header.trim()}`);
  const shapeText = /'shape': \(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) throw new Error('the .npy header has no shape');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const start = 10 + headerLength;
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== count * 4)
    throw new Error(
      `the .npy data has ${bytes.length - start} bytes; shape [${shape.join(', ')}] needs ${count * 4}`,
    );
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(start + i * 4, true);
  return { shape, data };
}
