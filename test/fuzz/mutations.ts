/**
 * Mutations of file bytes for the fuzz suite, as fast-check arbitraries. A mutation either keeps the file's
 * validity unknown (random bytes: the reader may accept it) or makes it certainly invalid (`mustFail`: a reader
 * that accepts it has accepted invalid data in silence).
 *
 * Byte level: bit flips, byte sets, runs of random bytes, truncation, appended bytes, and, for safetensors
 * files, the same aimed at the JSON header (where the meaning is). Checkpoint level: a metadata value replaced
 * by one of another JSON type, an unknown key added, a non-finite value written into a tensor, a tensor dropped.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors.js';

/** A mutated file and what is known about it. */
export interface Mutant {
  bytes: Uint8Array;
  /** What was done, for reports. */
  what: string;
  /** The mutation certainly made the file invalid for the target (see the target's `mustFailFor`). */
  mustFail: boolean;
  /** Kind of certainly-invalid mutation, so a target can say which ones it must refuse. */
  invalidKind?:
    'truncated' | 'appended' | 'meta-type' | 'meta-key' | 'non-finite' | 'dropped-weight' | 'dropped-adam';
}

/** Length of a safetensors file's JSON header (0 if the bytes are not one). */
function headerLength(bytes: Uint8Array): number {
  if (bytes.length < 8) return 0;
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  return 8 + n <= bytes.length ? n : 0;
}

/** Byte-level mutations of `seed`; `region` aims them at [start, end) when given. */
function byteMutations(seed: Uint8Array, region?: [number, number]): fc.Arbitrary<Mutant> {
  const [lo, hi] = region ?? [0, seed.length];
  const span = Math.max(1, hi - lo);
  const at = fc.nat({ max: span - 1 }).map((p) => lo + p);
  const copy = () => Uint8Array.from(seed);
  const where = region ? ' (header)' : '';
  return fc.oneof(
    fc.tuple(at, fc.nat({ max: 7 })).map(([p, bit]) => {
      const b = copy();
      b[p] ^= 1 << bit;
      return { bytes: b, what: `flip bit ${bit} of byte ${p}${where}`, mustFail: false };
    }),
    fc.tuple(at, fc.integer({ min: 0, max: 255 })).map(([p, v]) => {
      const b = copy();
      b[p] = v;
      return { bytes: b, what: `byte ${p} := ${v}${where}`, mustFail: false };
    }),
    fc.tuple(at, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([p, run]) => {
      const b = copy();
      b.set(run.subarray(0, Math.max(0, b.length - p)), p);
      return { bytes: b, what: `${run.length} random bytes at ${p}${where}`, mustFail: false };
    }),
    fc.tuple(at, fc.constantFrom(...'0123456789-.eE"{}[],: '.split(''))).map(([p, ch]) => {
      const b = copy();
      b[p] = ch.charCodeAt(0);
      return { bytes: b, what: `byte ${p} := "${ch}"${where}`, mustFail: false };
    }),
  );
}

/** Truncation and appended bytes: always invalid for the formats fuzzed here. */
function lengthMutations(seed: Uint8Array): fc.Arbitrary<Mutant> {
  return fc.oneof(
    fc.nat({ max: Math.max(0, seed.length - 1) }).map((keep) => ({
      bytes: seed.slice(0, keep),
      what: `truncated to ${keep} of ${seed.length} bytes`,
      mustFail: true,
      invalidKind: 'truncated' as const,
    })),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra) => {
      const b = new Uint8Array(seed.length + extra.length);
      b.set(seed);
      b.set(extra, seed.length);
      return {
        bytes: b,
        what: `${extra.length} bytes appended`,
        mustFail: true,
        invalidKind: 'appended' as const,
      };
    }),
  );
}

/** Any byte-level mutation of a file (random bytes anywhere, truncation, appended bytes). */
export function mutateBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<Mutant> {
  return fc
    .constantFrom(...seeds)
    .chain((seed) => fc.oneof({ weight: 3, arbitrary: byteMutations(seed) }, lengthMutations(seed)));
}

/** Byte mutations aimed at a safetensors file's header, plus random ones anywhere, truncation, appending. */
export function mutateSafetensorsBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<Mutant> {
  return fc.constantFrom(...seeds).chain((seed) => {
    const n = headerLength(seed);
    return fc.oneof(
      { weight: 4, arbitrary: byteMutations(seed, [0, 8 + n]) },
      { weight: 1, arbitrary: byteMutations(seed) },
      { weight: 1, arbitrary: lengthMutations(seed) },
    );
  });
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function jsonType(v: Json): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Every path to a value inside `v` (objects and arrays), excluding those under `skip` keys. */
function paths(v: Json, skip: ReadonlySet<string>, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (v !== null && typeof v === 'object') {
    for (const [k, child] of Object.entries(v)) {
      if (prefix.length === 0 && skip.has(k)) continue;
      const key = Array.isArray(v) ? Number(k) : k;
      out.push([...prefix, key], ...paths(child, skip, [...prefix, key]));
    }
  }
  return out;
}

function getAt(root: Json, path: (string | number)[]): Json {
  let v = root;
  for (const k of path) v = (v as Record<string | number, Json>)[k];
  return v;
}

function setAt(root: Json, path: (string | number)[], value: Json): void {
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, Json>;
  parent[path[path.length - 1]] = value;
}

/** A JSON value of another type than `v` (so that a schema that checks types must refuse it). */
function otherTypeValue(v: Json): fc.Arbitrary<Json> {
  const all: fc.Arbitrary<Json>[] = [
    fc.constant(null),
    fc.boolean(),
    fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(1e300)),
    fc.string({ maxLength: 8 }),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.constant({ x: 1 }),
  ];
  const types = ['null', 'boolean', 'number', 'string', 'array', 'object'];
  return fc.oneof(...all.filter((_, i) => types[i] !== jsonType(v)));
}

/**
 * Mutations of an elbo checkpoint through its structure: metadata values (of any type, or of another type:
 * certainly invalid), unknown keys, non-finite tensor values, dropped tensors. Paths under meta.data (the data
 * source's own state, checked only on resume) are left to the byte mutations.
 */
export function mutateCheckpoint(seeds: readonly Uint8Array[]): fc.Arbitrary<Mutant> {
  return fc.constantFrom(...seeds).chain((seed) => {
    const { tensors, metadata } = decodeSafetensors(seed);
    const meta = JSON.parse(metadata.elbo ?? metadata.config ?? 'null') as Json;
    const metaKey = metadata.elbo !== undefined ? 'elbo' : 'config';
    const metaPaths = paths(meta, new Set(['data']));
    const names = Object.keys(tensors);
    const encode = (m: Json, t = tensors) =>
      encodeSafetensors(t, { ...metadata, [metaKey]: JSON.stringify(m) });
    const clone = () => JSON.parse(JSON.stringify(meta)) as Json;
    const retype = fc
      .constantFrom(...metaPaths)
      .chain((path) => otherTypeValue(getAt(meta, path)).map((value) => ({ path, value })))
      .map(({ path, value }): Mutant => {
        const m = clone();
        setAt(m, path, value);
        return {
          bytes: encode(m),
          what: `meta.${path.join('.')} := ${JSON.stringify(value)}`,
          mustFail: true,
          invalidKind: 'meta-type',
        };
      });
    const anyValue = fc
      .tuple(fc.constantFrom(...metaPaths), fc.jsonValue({ maxDepth: 2 }))
      .map(([path, value]): Mutant => {
        const m = clone();
        setAt(m, path, value as Json);
        return {
          bytes: encode(m),
          what: `meta.${path.join('.')} := ${JSON.stringify(value)}`,
          mustFail: false,
        };
      });
    const objectPaths = [[], ...metaPaths].filter((p) => {
      const v = getAt(meta, p);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    const unknownKey = fc.constantFrom(...objectPaths).map((path): Mutant => {
      const m = clone();
      (getAt(m, path) as Record<string, Json>).zzUnknown = 1;
      return {
        bytes: encode(m),
        what: `unknown key meta.${[...path, 'zzUnknown'].join('.')}`,
        mustFail: true,
        invalidKind: 'meta-key',
      };
    });
    const nonFinite = fc
      .tuple(fc.constantFrom(...names), fc.nat(), fc.constantFrom(Number.NaN, Infinity, -Infinity))
      .map(([name, i, v]): Mutant => {
        const t = tensors[name];
        const data = Float32Array.from(t.data as Float32Array);
        if (data.length > 0) data[i % data.length] = v;
        return {
          bytes: encodeSafetensors({ ...tensors, [name]: { dtype: 'F32', shape: t.shape, data } }, metadata),
          what: `${name}[${data.length ? i % data.length : 0}] := ${v}`,
          mustFail: data.length > 0,
          invalidKind: 'non-finite',
        };
      });
    const dropped = fc.constantFrom(...names).map((name): Mutant => {
      const { [name]: _gone, ...rest } = tensors;
      return {
        bytes: encodeSafetensors(rest, metadata),
        what: `tensor ${name} dropped`,
        mustFail: true,
        invalidKind: name.startsWith('adam.') ? 'dropped-adam' : 'dropped-weight',
      };
    });
    return fc.oneof(retype, anyValue, unknownKey, nonFinite, dropped);
  });
}

/** pngjs's CRC-32 (the PNG chunk checksum, ISO 3309), so that a changed IHDR still passes the decoder's check. */
const pngCrc32 = (createRequire(import.meta.url)('pngjs/lib/crc.js') as { crc32(b: Uint8Array): number })
  .crc32;

/**
 * A PNG whose IHDR claims another width and height (its CRC recomputed, so the claim reaches the reader):
 * up to 70 000 a side, the 65535×65535 among them.
 */
export function mutatePngHeader(seeds: readonly Uint8Array[]): fc.Arbitrary<Mutant> {
  const side = fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constantFrom(0, 1, 8, 1024, 1025, 65_535));
  return fc.tuple(fc.constantFrom(...seeds), side, side).map(([seed, w, h]) => {
    const b = Uint8Array.from(seed);
    const view = new DataView(b.buffer);
    view.setUint32(16, w);
    view.setUint32(20, h);
    view.setUint32(29, pngCrc32(b.subarray(12, 29)) >>> 0);
    return { bytes: b, what: `IHDR claims ${w}×${h}`, mustFail: w !== 8 || h !== 8 };
  });
}
