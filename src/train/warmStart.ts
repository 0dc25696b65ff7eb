/**
 * Warm start by function-preserving growth ([Chen16] §2.2, "Net2DeeperNet"): a network with more residual
 * blocks or attention layers than a trained one takes every trained weight that exists under the same name, and
 * each block the trained network lacks starts as the identity. A residual block computes x + conv2(…) and an
 * attention layer x + proj(…), so zeroing that last layer's weight and bias makes the new block pass x through
 * unchanged: the grown network computes exactly the trained network's function, and training goes on from
 * there. The new block still learns: conv2's (proj's) gradient is its input times the output gradient, not 0.
 *
 * A fixed-variance network grows into one that learns its variances ([ND21] §3.1) the same way: the new output
 * layer of v (conv_out_var, out_var) starts with zero weights and bias GROWN_VARIANCE_V, so v = −1 for every input;
 * in diffusers' UNet2DModel, whose conv_out grows from C to 2C channels, the added v channels start so.
 *
 * [Chen16] Chen, Goodfellow, Shlens 2016, "Net2Net", arXiv:1511.05641v4 · [ND21] Nichol & Dhariwal 2021,
 * arXiv:2102.09672v1
 */
import type { Module } from '../nn/module.js';
import type { NamedArrays } from './trainingTensors.js';

/** The last layer of a residual branch, by module type: zeroed, it makes the block the identity. */
const RESIDUAL_OUTPUT_LAYERS = ['conv2', 'proj'];

/** Output layers of the learned-variance value v (UNet, MLP), which a warm start may add. */
const VARIANCE_OUTPUT_LAYERS = ['conv_out_var', 'out_var'];

/**
 * Output layers whose output channels double when the network learns its variances: diffusers' UNet2DModel has one
 * conv_out of 2C channels, the means then v (diffusers' learned_range layout), not a layer of its own for v.
 */
const DOUBLED_OUTPUT_LAYERS = ['conv_out'];

/**
 * The value v a new variance output layer starts from: v = −1 gives log Σ = log β̃_t exactly ([ND21] eq. 15 at
 * frac = 0), the variance the fixed-variance model was sampled and bounded with, so the grown network's reverse
 * process is the trained one's, not just its mean. (v = 0, the geometric mean of β and β̃, would change every
 * reverse step at once; from β̃ the hybrid objective moves each t only as far as its own L_vlb gradient asks.)
 * The weights start at 0 and still learn: a weight's gradient is its input times the output's gradient.
 */
export const GROWN_VARIANCE_V = -1;

/** What {@link warmStart} did: parameters copied, and the modules that start as the identity. */
export interface WarmStartReport {
  /** Parameters copied from the trained network. */
  copied: number;
  /** Top-level modules the trained network lacks, which start as the identity. */
  newBlocks: string[];
  /** New variance output layers (a fixed-variance source), which start at v = GROWN_VARIANCE_V. */
  newVarianceOutputs: string[];
}

/**
 * Loads `source` (named arrays, keys `${prefix}${name}`, e.g. a checkpoint's "ema." weights) into `model`.
 * Throws (naming the parameter or module) if a shared name has another shape, if the source has a module this
 * network lacks or a module here lacks some of the source's parameters, or if a new module cannot start as the
 * identity (it has a skip convolution or no residual output layer).
 */
export function warmStart(model: Module, source: NamedArrays, prefix: string): WarmStartReport {
  const topLevel = (name: string) => name.split('.')[0];
  const sourceModules = new Set<string>();
  for (const key of source.keys())
    if (key.startsWith(prefix)) sourceModules.add(topLevel(key.slice(prefix.length)));
  if (sourceModules.size === 0) throw new Error(`the source has no tensors named "${prefix}…"`);

  const params = model.namedParameters();
  const modules = new Set(params.map(([name]) => topLevel(name)));
  const dropped = [...sourceModules].filter((m) => !modules.has(m));
  if (dropped.length > 0) {
    throw new Error(
      `the source has ${dropped.join(', ')}, which this network lacks: a warm start can add blocks, not remove them`,
    );
  }
  const newBlocks = new Set<string>();
  const grownChannels = new Set<string>();
  let copied = 0;
  for (const [name, p] of params) {
    const entry = source.get(prefix + name);
    if (entry) {
      if (growsVarianceChannels(name, entry.shape, p.shape)) {
        p.view().set(withVarianceChannels(entry.data, entry.shape));
        grownChannels.add(topLevel(name));
        copied++;
        continue;
      }
      if (entry.shape.join() !== p.shape.join()) {
        throw new Error(
          `"${name}" has shape [${entry.shape.join(', ')}] in the source and [${p.shape.join(', ')}] here: ` +
            'only residual blocks and attention layers can be added, other sizes must stay as they were',
        );
      }
      p.view().set(entry.data);
      copied++;
      continue;
    }
    const module = topLevel(name);
    if (sourceModules.has(module)) {
      throw new Error(`the source has "${module}" but not its parameter "${name}": the architectures differ`);
    }
    newBlocks.add(module);
  }
  const newVarianceOutputs = [
    ...[...grownChannels].map((m) => `${m} (v channels)`),
    ...[...newBlocks].filter((m) => VARIANCE_OUTPUT_LAYERS.includes(m)),
  ];
  for (const module of newBlocks) {
    if (!VARIANCE_OUTPUT_LAYERS.includes(module)) continue;
    newBlocks.delete(module);
    for (const [name, p] of params)
      if (topLevel(name) === module) p.view().fill(name.endsWith('.bias') ? GROWN_VARIANCE_V : 0);
  }
  for (const module of newBlocks) {
    const own = params.filter(([name]) => topLevel(name) === module);
    const layer = (name: string) => name.split('.')[1];
    if (own.some(([name]) => layer(name) === 'skip')) {
      throw new Error(`new block "${module}" changes the channel count, so it cannot start as the identity`);
    }
    const outputs = own.filter(([name]) => RESIDUAL_OUTPUT_LAYERS.includes(layer(name)));
    if (outputs.length === 0) {
      throw new Error(
        `new module "${module}" is not a residual block or attention layer; it cannot be added`,
      );
    }
    for (const [, p] of outputs) p.view().fill(0);
  }
  return { copied, newBlocks: [...newBlocks], newVarianceOutputs };
}

/** Whether a source parameter of shape `from` grows into `to` by doubling its output channels (the last axis). */
function growsVarianceChannels(name: string, from: readonly number[], to: readonly number[]): boolean {
  if (!DOUBLED_OUTPUT_LAYERS.includes(name.split('.')[0]) || from.length !== to.length) return false;
  const last = from.length - 1;
  return from.every((d, i) => (i === last ? to[i] === 2 * d : to[i] === d));
}

/**
 * A fixed-variance output layer's weights or bias (output channels on the last axis, C of them) grown to 2C: the
 * C mean channels as they were, then C channels of v with zero weights and bias GROWN_VARIANCE_V, so v = −1
 * (Σ = β̃_t) for every input while the mean channels keep the trained weights (the same function, up to the
 * float32 summation order of a wider convolution).
 */
function withVarianceChannels(source: Float32Array, shape: readonly number[]): Float32Array {
  const channels = shape[shape.length - 1];
  const isBias = shape.length === 1;
  const rows = source.length / channels;
  const out = new Float32Array(2 * source.length);
  for (let r = 0; r < rows; r++) {
    out.set(source.subarray(r * channels, (r + 1) * channels), 2 * r * channels);
    if (isBias) out.fill(GROWN_VARIANCE_V, channels, 2 * channels);
  }
  return out;
}
