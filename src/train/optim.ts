/**
 * Adam and AdamW with PyTorch's update rule (torch.optim.Adam / AdamW, v1.13 docs), state per named
 * parameter so it serialises with the checkpoint.
 *
 * [KB15] Kingma & Ba 2015, arXiv:1412.6980v9 (Algorithm 1) · [LH19] Loshchilov & Hutter 2019,
 * arXiv:1711.05101v3 (decoupled weight decay)
 */
import type { Module } from '../nn/module.js';
import { ELEMENT_GRAIN } from '../tensor/ops/constants.js';
import type { Context, Tensor } from '../tensor/tensor.js';

/** Learning rate, moment decays, ε and weight decay of {@link Adam} (defaults 0.9, 0.999, 1e-8, 0). */
export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 penalty added to the gradient (Adam) or decoupled decay (AdamW). */
  weightDecay?: number;
  /** AdamW: decay the weights directly instead of through the gradient. */
  decoupled?: boolean;
}

/**
 * Adam (Kingma & Ba 2015, arXiv:1412.6980v9 Algorithm 1), or AdamW with `decoupled`, on a module's parameters.
 */
export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  lr: number;
  /** Steps taken (t in [KB15]). */
  step = 0;
  /** First and second moment estimates, by parameter name. */
  readonly m = new Map<string, Tensor>();
  readonly v = new Map<string, Tensor>();
  private readonly params: [string, Tensor][];

  constructor(
    private readonly ctx: Context,
    model: Module,
    options: AdamOptions,
  ) {
    this.params = model.namedParameters();
    this.lr = options.lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.decoupled = options.decoupled ?? false;
    for (const [name, p] of this.params) {
      this.m.set(name, ctx.zeros(p.shape));
      this.v.set(name, ctx.zeros(p.shape));
    }
  }

  /**
   * One update from the accumulated gradients: m ← β1 m + (1−β1) g, v ← β2 v + (1−β2) g²,
   * θ ← θ − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + eps). Parameters without a gradient are skipped.
   */
  update(): void {
    this.step += 1;
    const bc1 = 1 - this.beta1 ** this.step;
    const bc2 = 1 - this.beta2 ** this.step;
    for (const [name, p] of this.params) {
      if (!p.grad) continue;
      this.ctx.engine.parallel('adamStep', p.size, ELEMENT_GRAIN, [
        p.ptr,
        p.grad.ptr,
        this.m.get(name)!.ptr,
        this.v.get(name)!.ptr,
        this.lr,
        this.beta1,
        this.beta2,
        this.eps,
        this.weightDecay,
        bc1,
        bc2,
        this.decoupled ? 1 : 0,
      ]);
    }
  }

  /** Sets every parameter's gradient to zero (keeps the buffers). */
  zeroGrad(): void {
    for (const [, p] of this.params) if (p.grad) p.grad.view().fill(0);
  }

  /** Frees the moment estimates. */
  dispose(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
  }
}
