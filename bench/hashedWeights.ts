/**
 * Deterministic stand-in weights without committing them: every parameter is a 32-bit counter hash of its index
 * in the state dict and its element number, written identically in test/fixtures/diffusers-unet/make_fixture.py (used by test/diffusersUnet.test.ts and bench/diffusersUnet.ts)
 * (hash_uniform, make_big), so diffusers and elbo build the same 35.7 M-parameter network from its names alone.
 */
import type { Module } from '../src/nn/module.js';
import { fromTorchLayout } from '../src/nn/torchLayout.js';
import { torchShape } from '../src/interop/diffusers/weights.js';

/** u_k ∈ [0, 1), k < count, for parameter number `index`: Wang-style mixing of k·0x9E3779B1 + index·0x85EBCA77. */
export function hashUniform(index: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    let h = (Math.imul(k, 0x9e3779b1) + Math.imul(index, 0x85ebca77)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    h = (h ^ (h >>> 16)) >>> 0; // XOR is signed in JavaScript: back to [0, 2^32)
    out[k] = h / 2 ** 32;
  }
  return out;
}

/**
 * Fills a module whose parameters carry diffusers' names with the script's weights; `names` is diffusers' state-dict
 * order (the hash index). GroupNorm affines: 1 + 0.2(u − ½) and 0.2(u − ½); others: (2u − 1)/√fan_in.
 */
export function fillHashedWeights(module: Module, names: readonly string[]): void {
  const params = new Map(module.namedParameters());
  if (params.size !== names.length)
    throw new Error(`the module has ${params.size} parameters, the reference ${names.length}`);
  names.forEach((name, i) => {
    const p = params.get(name);
    if (!p) throw new Error(`no parameter "${name}"`);
    const shape = torchShape(p.shape);
    const u = hashUniform(i, p.size);
    let values: Float64Array;
    if (name.includes('norm')) {
      const base = name.endsWith('weight') ? 1 : 0;
      values = u.map((v) => base + 0.2 * (v - 0.5));
    } else {
      const weight = params.get(name.replace(/bias$/, 'weight'))!;
      const wShape = torchShape(weight.shape);
      const fanIn = wShape.slice(1).reduce((a, b) => a * b, 1);
      values = u.map((v) => (2 * v - 1) / Math.sqrt(fanIn));
    }
    p.view().set(fromTorchLayout(shape, Float32Array.from(values)).data);
  });
}
