/**
 * diffusers state dicts ⇄ elbo parameters: names (including the deprecated attention names diffusers still
 * converts on load), PyTorch layouts (NCHW conv weights, [out, in] linear weights) and the checks that every key
 * is there, none is left over and every shape fits.
 *
 * Source: huggingface/diffusers `models/modeling_utils.py` `_convert_deprecated_attention_blocks` (commit
 * 58eb52c0803ea9af3abec60841c2a093bdf1f951): query → to_q, key → to_k, value → to_v, proj_attn → to_out.0.
 */
import type { SafetensorsTensor } from '../../checkpoint/safetensors.js';
import type { Module } from '../../nn/module.js';
import { fromTorchLayout, toTorchLayout } from '../../nn/torchLayout.js';

const LEGACY_ATTENTION: readonly [string, string][] = [
  ['query', 'to_q'],
  ['key', 'to_k'],
  ['value', 'to_v'],
  ['proj_attn', 'to_out.0'],
];

/** The current diffusers name of a state-dict key written under the deprecated attention-block names. */
export function modernDiffusersName(name: string): string {
  const parts = name.split('.');
  const leaf = parts.length >= 2 ? parts[parts.length - 2] : '';
  const renamed = LEGACY_ATTENTION.find(([old]) => old === leaf);
  if (!renamed || !name.includes('.attentions.')) return name;
  return [...parts.slice(0, -2), renamed[1], parts[parts.length - 1]].join('.');
}

/** The float32 values of a safetensors tensor (F32 as is, F64 rounded); other dtypes are refused, naming the key. */
function float32Values(name: string, t: SafetensorsTensor): Float32Array {
  if (t.dtype === 'F32') return t.data;
  if (t.dtype === 'F64') return Float32Array.from(t.data);
  throw new Error(`weight "${name}" has dtype ${t.dtype}; a diffusers UNet's weights must be F32 (or F64)`);
}

const listSome = (names: string[]) =>
  names.slice(0, 8).join(', ') + (names.length > 8 ? `, … (${names.length} in all)` : '');

/**
 * Copies a diffusers state dict (names as saved, PyTorch layouts) into a module whose parameters carry diffusers'
 * names. Every problem is reported at once: keys the model lacks, keys the file lacks, shape mismatches — each
 * with the key's name. Returns the number of values loaded.
 */
export function loadDiffusersStateDict(module: Module, tensors: Record<string, SafetensorsTensor>): number {
  const params = new Map(module.namedParameters());
  const seen = new Set<string>();
  const extra: string[] = [];
  const problems: string[] = [];
  let count = 0;
  for (const [fileName, t] of Object.entries(tensors)) {
    const name = modernDiffusersName(fileName);
    const p = params.get(name);
    if (!p) {
      extra.push(fileName);
      continue;
    }
    if (seen.has(name)) {
      problems.push(`"${fileName}" gives "${name}" a second time`);
      continue;
    }
    seen.add(name);
    // An old attention block may store its projections as 1×1 convolutions [out, in, 1, 1].
    let shape = t.shape;
    if (p.shape.length === 2 && shape.length === 4 && shape[2] === 1 && shape[3] === 1)
      shape = shape.slice(0, 2);
    const data = float32Values(fileName, t);
    const converted = fromTorchLayout(shape, data);
    if (converted.shape.length !== p.shape.length || converted.shape.some((d, i) => d !== p.shape[i])) {
      problems.push(
        `"${fileName}" has shape [${t.shape.join(', ')}]; the config's architecture needs ` +
          `[${torchShape(p.shape).join(', ')}]`,
      );
      continue;
    }
    p.view().set(converted.data);
    count += data.length;
  }
  const missing = [...params.keys()].filter((n) => !seen.has(n));
  if (missing.length > 0) problems.push(`missing weights: ${listSome(missing)}`);
  if (extra.length > 0) problems.push(`weights the config's architecture does not have: ${listSome(extra)}`);
  if (problems.length > 0)
    throw new Error(`diffusion_pytorch_model.safetensors does not fit config.json: ${problems.join('; ')}`);
  return count;
}

/** PyTorch's shape of an elbo parameter: conv [kh, kw, Cin, Cout] → [Cout, Cin, kh, kw], linear [in, out] → [out, in]. */
export function torchShape(elboShape: readonly number[]): number[] {
  if (elboShape.length === 4) {
    const [kh, kw, ci, co] = elboShape;
    return [co, ci, kh, kw];
  }
  if (elboShape.length === 2) return [elboShape[1], elboShape[0]];
  return [...elboShape];
}

/** A module's parameters as a diffusers state dict: diffusers' names, PyTorch layouts, float32. */
export function diffusersStateDict(module: Module): Record<string, SafetensorsTensor> {
  const out: Record<string, SafetensorsTensor> = {};
  for (const [name, p] of module.namedParameters()) {
    const shape = torchShape(p.shape);
    out[name] = { dtype: 'F32', shape, data: toTorchLayout(shape, p.toFloat32Array()) };
  }
  return out;
}
