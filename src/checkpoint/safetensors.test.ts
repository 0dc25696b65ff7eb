import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from './safetensors.js';

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
/** An 8-byte little-endian length followed by a header string and data bytes. */
const file = (n: number, header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array =>
  concat(
    Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff, 0, 0, 0, 0),
    latin1(header),
    data,
  );
const fileOf = (header: string, data?: Uint8Array): Uint8Array => file(header.length, header, data);

describe('safetensors', () => {
  it('encodes a hand-checked byte string (spec layout: LE length, JSON padded with spaces to 8, LE data)', () => {
    const bytes = encodeSafetensors(
      { w: { dtype: 'F32', shape: [2], data: Float32Array.of(1, -2) } },
      { format: 'pt' },
    );
    // 85 bytes of JSON padded to 88 = 0x58; 1.0f = 00 00 80 3f, −2.0f = 00 00 00 c0 (IEEE 754, little-endian).
    const expected = concat(
      Uint8Array.of(0x58, 0, 0, 0, 0, 0, 0, 0),
      latin1('{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   '),
      Uint8Array.of(0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0),
    );
    expect(Array.from(bytes)).toEqual(Array.from(expected));
    const back = decodeSafetensors(expected);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.tensors.w).toEqual({ dtype: 'F32', shape: [2], data: Float32Array.of(1, -2) });
  });

  it('reads the reference implementation’s test vectors (huggingface/safetensors tensor.rs tests)', () => {
    // test_deserialization: header length 0x3c, an I32 [2, 2] tensor of zeros, unpadded header.
    const a = decodeSafetensors(
      fileOf('{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}', new Uint8Array(16)),
    );
    expect(a.tensors.test).toEqual({ dtype: 'I32', shape: [2, 2], data: new Int32Array(4) });
    expect(a.metadata).toEqual({});
    // test_empty_shapes_allowed: a scalar (shape []) has one element.
    const b = decodeSafetensors(
      fileOf('{"test":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}', new Uint8Array(4)),
    );
    expect(b.tensors.test).toEqual({ dtype: 'I32', shape: [], data: new Int32Array(1) });
    // Zero-sized tensor: shape [2, 0], no bytes.
    const c = decodeSafetensors(fileOf('{"test":{"dtype":"I32","shape":[2,0],"data_offsets":[0, 0]}}'));
    expect(c.tensors.test.shape).toEqual([2, 0]);
    expect(c.tensors.test.data.length).toBe(0);
  });

  it('round-trips every supported dtype, scalars, empty tensors and awkward names', () => {
    const tensors: Record<string, SafetensorsTensor> = {
      'unet.in.weight': {
        dtype: 'F32',
        shape: [2, 3],
        data: Float32Array.of(1.5, -0, Number.NaN, Infinity, 1e-45, 3),
      },
      'ema.f64': { dtype: 'F64', shape: [2], data: Float64Array.of(Math.PI, -1e308) },
      step: { dtype: 'I64', shape: [], data: BigInt64Array.of(-(2n ** 62n)) },
      rng: { dtype: 'I32', shape: [4], data: Int32Array.of(-1, 0, 2 ** 31 - 1, -(2 ** 31)) },
      '0': { dtype: 'U8', shape: [3], data: Uint8Array.of(0, 7, 255) },
      empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      'ünï cödé "quoted"': { dtype: 'U8', shape: [1], data: Uint8Array.of(9) },
    };
    const metadata = { config: JSON.stringify({ T: 1000, schedule: 'cosine' }), note: 'ε-prediction ✓' };
    const bytes = encodeSafetensors(tensors, metadata);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual(metadata);
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) expect(back.tensors[name]).toEqual(t);
    // The decoded data are copies, not views of the file bytes.
    bytes.fill(0);
    expect(back.tensors.rng.data[2]).toBe(2 ** 31 - 1);
  });

  it('decodes from a Node Buffer in a shared pool (what readFileSync returns) without picking up its neighbours', () => {
    const bytes = encodeSafetensors({ w: { dtype: 'F64', shape: [2], data: Float64Array.of(0.5, -1) } });
    const pooled = Buffer.from(bytes); // small Buffers share one 8 KiB ArrayBuffer
    expect(pooled.buffer.byteLength).toBeGreaterThan(bytes.length);
    const w = decodeSafetensors(pooled).tensors.w;
    expect(w).toEqual({ dtype: 'F64', shape: [2], data: Float64Array.of(0.5, -1) });
    expect(w.data.buffer.byteLength).toBe(16);
  });

  it('writes like the reference: header length a multiple of 8, dtypes by alignment then names, aligned offsets', () => {
    const bytes = encodeSafetensors({
      b: { dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 3) },
      a: { dtype: 'U8', shape: [1], data: Uint8Array.of(4) },
      z: { dtype: 'F64', shape: [1], data: Float64Array.of(1) },
      y: { dtype: 'F32', shape: [1], data: Float32Array.of(1) },
      '10': { dtype: 'I32', shape: [1], data: Int32Array.of(1) },
      x: { dtype: 'I64', shape: [1], data: BigInt64Array.of(1n) },
    });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header.endsWith(' ') || header.endsWith('}')).toBe(true);
    const names = [...header.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1]);
    expect(names).toEqual(['x', 'z', 'y', '10', 'a', 'b']); // I64, F64, F32, I32, U8 (then by name)
    const parsed = JSON.parse(header) as Record<string, { data_offsets: [number, number] }>;
    expect(parsed.x.data_offsets).toEqual([0, 8]);
    expect(parsed.z.data_offsets).toEqual([8, 16]);
    expect(parsed['10'].data_offsets).toEqual([20, 24]);
    expect(parsed.b.data_offsets).toEqual([25, 28]);
    expect(bytes.length).toBe(8 + n + 28);
  });

  it('refuses to encode mismatched data, shapes, names and metadata', () => {
    const f = (t: unknown, m?: unknown) =>
      encodeSafetensors(t as Record<string, SafetensorsTensor>, m as Record<string, string>);
    expect(() => f({ w: { dtype: 'F32', shape: [2], data: Float64Array.of(1, 2) } })).toThrow(
      'tensor "w": dtype F32 needs a Float32Array',
    );
    expect(() => f({ w: { dtype: 'F32', shape: [3], data: Float32Array.of(1, 2) } })).toThrow(
      'tensor "w": shape [3] has 3 elements, data has 2',
    );
    expect(() => f({ w: { dtype: 'F16', shape: [1], data: new Uint16Array(1) } })).toThrow(
      /unsupported dtype F16/,
    );
    expect(() => f({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(
      'invalid tensor name "__metadata__"',
    );
    expect(() => f({}, { step: 3 })).toThrow('metadata "step" must be a string, got number');
  });
});

describe('decodeSafetensors: corrupt files', () => {
  const good = encodeSafetensors(
    {
      a: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) },
      b: { dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 3) },
    },
    { step: '7' },
  );
  const headerLength = new DataView(good.buffer).getUint32(0, true);

  it.each([
    [
      'fewer than 8 bytes',
      good.subarray(0, 5),
      'checkpoint is truncated: a safetensors file starts with an 8-byte header length, file has 5 bytes',
    ],
    [
      'cut inside the header',
      good.subarray(0, 50),
      `checkpoint is truncated: header says ${headerLength} bytes, file has 42 after the 8-byte length`,
    ],
    [
      'cut inside the data',
      good.subarray(0, good.length - 2),
      'checkpoint is truncated or corrupt: tensor "b" needs bytes [8, 11) of the data, file has 9 data bytes',
    ],
    [
      'a zip file (PyTorch .pt)',
      latin1('PK\x03\x04\x14\x00\x00\x00\x08\x00'),
      /not a safetensors checkpoint \(it is a zip archive: a PyTorch \.pt\/\.pth file\?\): its first 8 bytes give a header length of \d+ bytes, over the format's 100000000-byte limit/,
    ],
    ['a header that is not JSON', fileOf('{"a":{"dtype":"F32",}}'), /^checkpoint header is not valid JSON: /],
    [
      'a header that is not an object',
      fileOf('[1, 2]'),
      'not a safetensors checkpoint: its header does not start with "{"',
    ],
    ['invalid UTF-8', file(4, '{\xff\xfe}'), 'not a safetensors checkpoint: its header is not valid UTF-8'],
    [
      'an unknown dtype',
      fileOf('{"a":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)),
      /tensor "a" has unknown dtype "F17" \(the format defines BOOL, .*F64, I64, U64\)/,
    ],
    [
      'a dtype elbo does not read',
      fileOf('{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}', new Uint8Array(4)),
      'tensor "a" has dtype BF16, which elbo cannot read (supported: F64, F32, I64, I32, U8)',
    ],
    [
      'size ≠ shape × dtype',
      fileOf('{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}', new Uint8Array(20)),
      'tensor "a": shape [2, 3] of F32 needs 24 bytes, but its data_offsets [0, 20] span 20',
    ],
    [
      'bad offsets',
      fileOf('{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}'),
      'tensor "a": "data_offsets" must be [begin, end] with 0 ≤ begin ≤ end, found [4,0]',
    ],
    [
      'a bad shape',
      fileOf('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}'),
      'tensor "a": "shape" must be a list of integers ≥ 0, found [-1]',
    ],
    [
      'offsets beyond the data',
      fileOf('{"a":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}', new Uint8Array(4)),
      'checkpoint is truncated or corrupt: tensor "a" needs bytes [2, 6) of the data, file has 4 data bytes',
    ],
    [
      'overlapping tensors',
      fileOf(
        '{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}',
        new Uint8Array(6),
      ),
      'checkpoint is corrupt: tensors "a" [0, 4) and "b" [2, 6) overlap',
    ],
    [
      'a gap between tensors',
      fileOf(
        '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}',
        new Uint8Array(6),
      ),
      'checkpoint is corrupt: data bytes [2, 4) between tensors "a" and "b" belong to no tensor',
    ],
    [
      'trailing bytes',
      fileOf('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}', new Uint8Array(5)),
      'checkpoint is corrupt: the header describes 2 data bytes, file has 5 (3 bytes after the last tensor)',
    ],
    [
      'non-string metadata',
      fileOf('{"__metadata__":{"step":7}}'),
      'checkpoint metadata must map strings to strings, but "step" is 7',
    ],
    [
      'a tensor entry that is not an object',
      fileOf('{"a":5}'),
      'tensor "a": expected {dtype, shape, data_offsets}, found 5',
    ],
  ])('explains %s', (_what, bytes, message) => {
    expect(() => decodeSafetensors(bytes)).toThrow(message);
  });

  it('the unmodified file decodes (so the corruptions above are what fails)', () => {
    expect(decodeSafetensors(good).metadata).toEqual({ step: '7' });
  });
});
