/**
 * Parameters as named trees: every layer lists its tensors under PyTorch-style dotted names
 * ("rb1.conv1.weight"), so checkpoints, optimisers and PyTorch imports address them the same way.
 */
import type { Rng } from '../random/rng.js';
import type { Context, Shape, Tensor } from '../tensor/tensor.js';

/** Anything with parameters: a layer or a network of layers. */
export interface Module {
  /** [name, tensor] pairs, names prefixed by `prefix` (no trailing dot). */
  namedParameters(prefix?: string): [string, Tensor][];
}

export function join(prefix: string | undefined, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/** Parameters of named child modules and own tensors, in declaration order. */
export function collectParameters(
  prefix: string | undefined,
  entries: readonly (readonly [string, Module | Tensor | null | undefined])[],
): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  for (const [name, m] of entries) {
    if (!m) continue;
    if ('namedParameters' in m) out.push(...m.namedParameters(join(prefix, name)));
    else out.push([join(prefix, name), m]);
  }
  return out;
}

/** A persistent parameter drawn from U(−bound, bound) (PyTorch's default init uses bound = 1/√fan_in). */
export function uniformParameter(ctx: Context, shape: Shape, bound: number, rng: Rng): Tensor {
  const t = ctx.empty(shape, true);
  const v = t.view();
  for (let i = 0; i < v.length; i++) v[i] = (2 * rng.uniform() - 1) * bound;
  return t;
}

export function constantParameter(ctx: Context, shape: Shape, value: number): Tensor {
  const t = ctx.full(shape, value);
  t.requiresGrad = true;
  return t;
}

/** Frees every parameter (and its gradient) of a module. */
export function disposeModule(m: Module): void {
  for (const [, t] of m.namedParameters()) t.dispose();
}

/** Total number of scalar parameters. */
export function parameterCount(m: Module): number {
  return m.namedParameters().reduce((n, [, t]) => n + t.size, 0);
}
