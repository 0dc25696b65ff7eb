/**
 * PyTorch ↔ elbo weight layouts. PyTorch stores Linear weights [out, in] and Conv2d weights
 * [Cout, Cin, kh, kw]; elbo stores [in, out] and [kh, kw, Cin, Cout] (channels-last, the GEMM's K×N matrix).
 */
import type { Module } from './module.js';

/** A named float32 array in PyTorch's layout (a state-dict entry). */
export interface NamedArray {
  name: string;
  /** Shape in PyTorch's layout. */
  shape: readonly number[];
  data: Float32Array;
}

/** PyTorch layout → elbo layout (returns the permuted data and elbo's shape). */
export function fromTorchLayout(
  shape: readonly number[],
  data: Float32Array,
): { shape: number[]; data: Float32Array } {
  if (shape.length === 4) {
    const [co, ci, kh, kw] = shape;
    const out = new Float32Array(data.length);
    for (let o = 0; o < co; o++)
      for (let i = 0; i < ci; i++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++)
            out[((y * kw + x) * ci + i) * co + o] = data[((o * ci + i) * kh + y) * kw + x];
    return { shape: [kh, kw, ci, co], data: out };
  }
  if (shape.length === 2) {
    const [o, i] = shape;
    const out = new Float32Array(data.length);
    for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) out[c * o + r] = data[r * i + c];
    return { shape: [i, o], data: out };
  }
  return { shape: [...shape], data: data.slice() };
}

/** elbo layout → PyTorch layout, given PyTorch's shape. */
export function toTorchLayout(torchShape: readonly number[], data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  if (torchShape.length === 4) {
    const [co, ci, kh, kw] = torchShape;
    for (let o = 0; o < co; o++)
      for (let i = 0; i < ci; i++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++)
            out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o];
    return out;
  }
  if (torchShape.length === 2) {
    const [o, i] = torchShape;
    for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) out[r * i + c] = data[c * o + r];
    return out;
  }
  out.set(data);
  return out;
}

/** Copies PyTorch-named, PyTorch-laid-out arrays into a module's parameters; every name must match. */
export function loadTorchStateDict(module: Module, entries: readonly NamedArray[]): void {
  const params = new Map(module.namedParameters());
  const seen = new Set<string>();
  for (const e of entries) {
    const p = params.get(e.name);
    if (!p) throw new Error(`PyTorch parameter "${e.name}" has no counterpart in the model`);
    const { shape, data } = fromTorchLayout(e.shape, e.data);
    if (shape.length !== p.shape.length || shape.some((d, i) => d !== p.shape[i])) {
      throw new Error(
        `"${e.name}": PyTorch shape [${e.shape.join(', ')}] does not fit [${p.shape.join(', ')}]`,
      );
    }
    p.view().set(data);
    seen.add(e.name);
  }
  const missing = [...params.keys()].filter((n) => !seen.has(n));
  if (missing.length > 0) throw new Error(`no PyTorch values for: ${missing.join(', ')}`);
}
