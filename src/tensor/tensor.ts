/**
 * Float32 tensors on the engine heap, with reverse-mode automatic differentiation and scoped ownership.
 *
 * Layout: row-major, images channels-last (NHWC). Channels-last makes a batch of images the matrix
 * [N·H·W, C], so 1×1 convolutions, linear layers and bias additions are plain matrix operations, and the
 * 3×3 convolutions are implicit GEMMs whose packed panels read contiguous channel runs.
 *
 * Ownership: every tensor belongs to the innermost open scope of its context (`ctx.scope(fn)`); when the
 * scope closes, everything created in it is freed except the tensors reachable from fn's return value,
 * which move to the enclosing scope. Tensors created with no scope open (parameters, optimiser state) live
 * until disposed explicitly. A training step inside one scope therefore frees all its activations and
 * temporary gradients, and the live memory stays flat from step to step.
 *
 * Autodiff: an op whose inputs require gradients records a node (its inputs and a backward function) on
 * the output. `ctx.backward(loss)` visits nodes in reverse creation order (a valid topological order) and
 * accumulates gradients; parameters (leaves with requiresGrad) receive theirs in `param.grad`, which
 * persists until `zeroGrad` or disposal.
 */
import type { Engine } from '../engine/engine.js';
import { ELEMENT_GRAIN } from './ops/constants.js';

/** A tensor's dimensions, outermost first (images are [N, H, W, C]). */
export type Shape = readonly number[];

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/** One recorded operation: given the gradient of its output, returns the gradients of its inputs. */
export interface GradNode {
  readonly id: number;
  readonly inputs: readonly Tensor[];
  /** Gradients for `inputs` (null where an input needs none); may be called once. */
  backward(gradOutput: Tensor): readonly (Tensor | null)[];
}

/** A float32 array on the engine's heap with its shape, and its place in the autodiff graph. */
export class Tensor {
  readonly ctx: Context;
  readonly shape: Shape;
  readonly size: number;
  /** Byte offset of the first element in the engine heap. */
  readonly ptr: number;
  /** The tensor whose memory this one views (reshape), or null if it owns its memory. */
  readonly base: Tensor | null;
  requiresGrad: boolean;
  /** Accumulated gradient (leaves with requiresGrad only). */
  grad: Tensor | null = null;
  /** The operation that produced this tensor, when it needs a gradient. */
  node: GradNode | null = null;
  private disposed = false;

  /** @internal use the Context's factory methods. */
  constructor(ctx: Context, shape: Shape, ptr: number, base: Tensor | null, requiresGrad: boolean) {
    this.ctx = ctx;
    this.shape = shape;
    this.size = shapeSize(shape);
    this.ptr = ptr;
    this.base = base;
    this.requiresGrad = requiresGrad;
  }

  get isDisposed(): boolean {
    return this.disposed || (this.base?.isDisposed ?? false);
  }

  /** A live view of the data (valid until the heap grows or the tensor is freed). */
  view(): Float32Array {
    this.assertLive();
    const f = this.ctx.engine.heap.f32();
    return f.subarray(this.ptr / 4, this.ptr / 4 + this.size);
  }

  /** A copy of the data. */
  toFloat32Array(): Float32Array {
    return this.view().slice();
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1)
      throw new Error(`item() needs a one-element tensor, got shape [${this.shape.join(', ')}]`);
    return this.view()[0];
  }

  /** Frees the memory now (views free nothing). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.base === null) this.ctx.engine.heap.free(this.ptr, this.size * 4);
    if (this.grad) this.grad.dispose();
    this.grad = null;
    this.node = null;
  }

  /** Throws if the tensor (or the tensor it views) was freed. */
  assertLive(): void {
    if (this.isDisposed)
      throw new Error(`tensor [${this.shape.join(', ')}] used after it was freed (scope closed?)`);
  }
}

/** Anything that may contain tensors: what a scope function returns. */
export type TensorTree =
  | Tensor
  | readonly TensorTree[]
  | { readonly [k: string]: TensorTree }
  | number
  | string
  | null
  | undefined
  | boolean;

function collectTensors(tree: unknown, out: Set<Tensor>): void {
  if (tree instanceof Tensor) {
    out.add(tree);
    if (tree.base) out.add(tree.base);
  } else if (Array.isArray(tree)) {
    for (const t of tree) collectTensors(t, out);
  } else if (tree !== null && typeof tree === 'object') {
    for (const v of Object.values(tree)) collectTensors(v, out);
  }
}

/**
 * Creates tensors on an engine, owns scopes (everything created inside one is freed on exit), and runs
 * reverse-mode autodiff (`backward`).
 */
export class Context {
  readonly engine: Engine;
  private readonly scopes: Tensor[][] = [];
  private nextNodeId = 0;
  private gradEnabled = true;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  /** Tensors created with no scope open are persistent; inside scope(), they are owned by the scope. */
  private track(t: Tensor): Tensor {
    const top = this.scopes[this.scopes.length - 1];
    if (top) top.push(t);
    return t;
  }

  /** An uninitialised tensor. */
  empty(shape: Shape, requiresGrad = false): Tensor {
    const size = shapeSize(shape);
    const ptr = this.engine.heap.alloc(size * 4);
    return this.track(new Tensor(this, [...shape], ptr, null, requiresGrad));
  }

  /** A tensor of zeros. */
  zeros(shape: Shape, requiresGrad = false): Tensor {
    const t = this.empty(shape, requiresGrad);
    t.view().fill(0);
    return t;
  }

  /** A tensor filled with `value`. */
  full(shape: Shape, value: number): Tensor {
    const t = this.empty(shape);
    t.view().fill(value);
    return t;
  }

  /** A tensor holding `values` (converted to float32). */
  fromArray(values: ArrayLike<number>, shape: Shape, requiresGrad = false): Tensor {
    const size = shapeSize(shape);
    if (values.length !== size) {
      throw new Error(`fromArray: ${values.length} values do not fill shape [${shape.join(', ')}] (${size})`);
    }
    const t = this.empty(shape, requiresGrad);
    t.view().set(values);
    return t;
  }

  /** A view with another shape of the same size, sharing memory (gradient flows through). */
  reshape(x: Tensor, shape: Shape): Tensor {
    x.assertLive();
    if (shapeSize(shape) !== x.size) {
      throw new Error(`reshape: cannot view [${x.shape.join(', ')}] as [${shape.join(', ')}]`);
    }
    const root = x.base ?? x;
    const y = this.track(new Tensor(this, [...shape], x.ptr, root, false));
    this.record(y, [x], (gy) => [this.reshape(gy, x.shape)]);
    return y;
  }

  /**
   * Runs fn with a new scope: tensors created inside are freed when it returns, except those reachable
   * from its result (they move to the enclosing scope).
   */
  scope<T>(fn: () => T): T {
    this.scopes.push([]);
    let result: T;
    let owned: Tensor[];
    try {
      result = fn();
    } finally {
      owned = this.scopes.pop()!;
    }
    const keep = new Set<Tensor>();
    collectTensors(result, keep);
    const parent = this.scopes[this.scopes.length - 1];
    for (const t of owned) {
      if (keep.has(t)) {
        if (parent) parent.push(t);
      } else {
        t.dispose();
      }
    }
    return result;
  }

  /** Runs fn without recording gradients (sampling, evaluation). */
  noGrad<T>(fn: () => T): T {
    const prev = this.gradEnabled;
    this.gradEnabled = false;
    try {
      return fn();
    } finally {
      this.gradEnabled = prev;
    }
  }

  /** Whether an op on `inputs` will record a backward (gradients on, and some input requires one). */
  willRecord(inputs: readonly Tensor[]): boolean {
    return this.gradEnabled && inputs.some((t) => t.requiresGrad);
  }

  /**
   * Marks `output` as produced from `inputs` by an op with the given backward, if any input needs a
   * gradient and gradients are being recorded.
   */
  record(
    output: Tensor,
    inputs: readonly Tensor[],
    backward: (gradOutput: Tensor) => readonly (Tensor | null)[],
  ): Tensor {
    if (!this.willRecord(inputs)) return output;
    output.requiresGrad = true;
    output.node = { id: this.nextNodeId++, inputs, backward };
    return output;
  }

  /**
   * Back-propagates from a scalar `loss` (seed gradient 1, or `gradOutput`). Parameters accumulate into
   * `.grad` (allocated persistently on first use). Intermediate gradients are freed as soon as consumed.
   */
  backward(loss: Tensor, gradOutput?: Tensor): void {
    if (!loss.requiresGrad || !loss.node)
      throw new Error('backward: the loss does not depend on any parameter');
    const seed = gradOutput ?? this.full(loss.shape, 1);
    const grads = new Map<Tensor, Tensor>([[loss, seed]]);
    // Collect the graph reachable from the loss, then visit nodes newest first.
    const nodes = new Map<GradNode, Tensor>();
    const stack: Tensor[] = [loss];
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (!t.node || nodes.has(t.node)) continue;
      nodes.set(t.node, t);
      for (const i of t.node.inputs) if (i.requiresGrad) stack.push(i);
    }
    const order = [...nodes.entries()].sort((a, b) => b[0].id - a[0].id);
    for (const [node, output] of order) {
      const gy = grads.get(output);
      if (!gy) continue;
      grads.delete(output);
      const gx = node.backward(gy);
      // Free the consumed gradient early, unless a returned gradient is a view of it (reshape).
      const gyRoot = gy.base ?? gy;
      if (gy !== seed && !gx.some((g) => g !== null && (g.base ?? g) === gyRoot)) gy.dispose();
      node.inputs.forEach((input, k) => {
        const g = gx[k];
        if (!g || !input.requiresGrad) return;
        if (input.node) {
          const prev = grads.get(input);
          if (prev) {
            addInPlace(prev, g);
            g.dispose();
          } else {
            grads.set(input, g);
          }
        } else {
          accumulateLeafGrad(input, g);
          g.dispose();
        }
      });
    }
    for (const g of grads.values()) if (g !== seed) g.dispose();
  }

  /** Live heap bytes (for the no-leak tests). */
  get liveBytes(): number {
    return this.engine.heap.liveBytes;
  }
}

/** y += x, elementwise (same size). */
export function addInPlace(y: Tensor, x: Tensor): void {
  if (x.size !== y.size) throw new Error('addInPlace: size mismatch');
  y.ctx.engine.parallel('axpy', x.size, ELEMENT_GRAIN, [x.ptr, 1, y.ptr]);
}

function accumulateLeafGrad(leaf: Tensor, g: Tensor): void {
  if (!leaf.grad) {
    // Persistent: allocated outside any scope so it survives the step.
    const heap = leaf.ctx.engine.heap;
    const ptr = heap.alloc(leaf.size * 4);
    leaf.grad = new Tensor(leaf.ctx, leaf.shape, ptr, null, false);
    leaf.ctx.engine.parallel('copy', g.size, ELEMENT_GRAIN, [g.ptr, ptr]);
  } else {
    addInPlace(leaf.grad, g);
  }
}
