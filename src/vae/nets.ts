/**
 * The VAE's networks: a Gaussian encoder x ↦ (μ, log σ²) of q(z|x) and a decoder z ↦ the parameters of
 * p(x|z) (Bernoulli logits or Gaussian means, one per pixel), fully connected or convolutional.
 *
 * [KW14] arXiv:1312.6114v11 Appendix C (MLP encoder and decoders) · [BGS16] arXiv:1509.00519v4 §5
 * (784-200-200-50, tanh)
 */
import { Conv2d, Linear } from '../nn/layers.js';
import { collectParameters, type Module } from '../nn/module.js';
import type { Rng } from '../random/rng.js';
import { relu, sliceLastAxis, softplus, tanh } from '../tensor/ops/pointwise.js';
import { upsampleNearest2x } from '../tensor/ops/shape.js';
import type { Context, Tensor } from '../tensor/tensor.js';
import { assertNever } from '../math/checks.js';
import { type Activation, dataDims, type VaeConfig, validateVaeConfig } from './config.js';

function activate(a: Activation, x: Tensor): Tensor {
  switch (a) {
    case 'tanh':
      return tanh(x);
    case 'softplus':
      return softplus(x);
    case 'relu':
      return relu(x);
    default:
      return assertNever(a, 'activation');
  }
}

/** The parameters of a diagonal Gaussian q(z|x) = N(μ, diag e^{logVar}), each [B, latentDim]. */
export interface GaussianParams {
  mean: Tensor;
  logVar: Tensor;
}

/** Fully connected: x [B, …] flattened → Linear + activation … → Linear → [B, sizes.at(−1)]. */
export class Mlp implements Module {
  readonly layers: Linear[] = [];
  constructor(
    ctx: Context,
    sizes: number[],
    readonly activation: Activation,
    rng: Rng,
  ) {
    for (let i = 0; i + 1 < sizes.length; i++) this.layers.push(new Linear(ctx, sizes[i], sizes[i + 1], rng));
  }
  /** x [B, …] → [B, sizes.at(−1)]. */
  forward(x: Tensor): Tensor {
    let h = x.ctx.reshape(x, [x.shape[0], x.size / x.shape[0]]);
    this.layers.forEach((layer, i) => {
      h = layer.forward(h);
      if (i + 1 < this.layers.length) h = activate(this.activation, h);
    });
    return h;
  }
  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(
      prefix,
      this.layers.map((l, i) => [`fc${i}`, l] as const),
    );
  }
}

/** Convolutional encoder: two stride-2 3×3 convolutions, a hidden layer, then [B, out]. */
class ConvEncoderNet implements Module {
  readonly conv0: Conv2d;
  readonly conv1: Conv2d;
  readonly fc: Linear;
  readonly out: Linear;
  constructor(
    ctx: Context,
    [h, w, c]: number[],
    channels: [number, number],
    hidden: number,
    outDim: number,
    readonly activation: Activation,
    rng: Rng,
  ) {
    this.conv0 = new Conv2d(ctx, c, channels[0], 3, rng, 2, 1);
    this.conv1 = new Conv2d(ctx, channels[0], channels[1], 3, rng, 2, 1);
    this.fc = new Linear(ctx, (h / 4) * (w / 4) * channels[1], hidden, rng);
    this.out = new Linear(ctx, hidden, outDim, rng);
  }
  forward(x: Tensor): Tensor {
    const a = this.activation;
    let h = activate(a, this.conv0.forward(x));
    h = activate(a, this.conv1.forward(h));
    h = activate(a, this.fc.forward(x.ctx.reshape(h, [h.shape[0], h.size / h.shape[0]])));
    return this.out.forward(h);
  }
  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ['conv0', this.conv0],
      ['conv1', this.conv1],
      ['fc', this.fc],
      ['out', this.out],
    ]);
  }
}

/** Convolutional decoder: z → hidden → (H/4)×(W/4)×channels[1] → ×2 → 3×3 conv → ×2 → 3×3 conv → [B, H·W·C]. */
class ConvDecoderNet implements Module {
  readonly fc: Linear;
  readonly fcMap: Linear;
  readonly conv0: Conv2d;
  readonly conv1: Conv2d;
  constructor(
    ctx: Context,
    private readonly shape: number[],
    readonly channels: [number, number],
    hidden: number,
    latentDim: number,
    readonly activation: Activation,
    rng: Rng,
  ) {
    const [h, w, c] = shape;
    this.fc = new Linear(ctx, latentDim, hidden, rng);
    this.fcMap = new Linear(ctx, hidden, (h / 4) * (w / 4) * channels[1], rng);
    this.conv0 = new Conv2d(ctx, channels[1], channels[0], 3, rng, 1, 1);
    this.conv1 = new Conv2d(ctx, channels[0], c, 3, rng, 1, 1);
  }
  forward(z: Tensor): Tensor {
    const a = this.activation;
    const ctx = z.ctx;
    const [h, w] = this.shape;
    const B = z.shape[0];
    let m = activate(a, this.fcMap.forward(activate(a, this.fc.forward(z))));
    m = ctx.reshape(m, [B, h / 4, w / 4, this.channels[1]]);
    m = activate(a, this.conv0.forward(upsampleNearest2x(m)));
    m = this.conv1.forward(upsampleNearest2x(m));
    return ctx.reshape(m, [B, m.size / B]);
  }
  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ['fc', this.fc],
      ['fcMap', this.fcMap],
      ['conv0', this.conv0],
      ['conv1', this.conv1],
    ]);
  }
}

/**
 * Encoder q(z|x) and decoder p(x|z) of a VAE. `encode` takes a batch [B, H, W, C]; `decode` returns the
 * decoder's parameters [B, H·W·C] (Bernoulli logits or Gaussian means).
 */
export class VaeModel implements Module {
  readonly encoder: Module & {
    /** x [B, H, W, C] → [B, 2L]: the mean and log variance of q(z|x). */
    forward(x: Tensor): Tensor;
  };
  readonly decoder: Module & {
    /** z [B, L] → [B, H·W·C]: the decoder's parameters (Bernoulli logits or Gaussian means). */
    forward(z: Tensor): Tensor;
  };
  readonly latentDim: number;
  readonly dims: number;

  constructor(
    readonly ctx: Context,
    readonly config: VaeConfig,
    rng: Rng,
  ) {
    validateVaeConfig(config);
    const L = config.latentDim;
    this.latentDim = L;
    this.dims = dataDims(config);
    const a = config.architecture;
    switch (a.kind) {
      case 'mlp':
        this.encoder = new Mlp(ctx, [this.dims, ...a.hidden, 2 * L], a.activation, rng);
        this.decoder = new Mlp(ctx, [L, ...[...a.hidden].reverse(), this.dims], a.activation, rng);
        break;
      case 'conv':
        this.encoder = new ConvEncoderNet(
          ctx,
          config.dataShape,
          a.channels,
          a.hidden,
          2 * L,
          a.activation,
          rng,
        );
        this.decoder = new ConvDecoderNet(ctx, config.dataShape, a.channels, a.hidden, L, a.activation, rng);
        break;
      default:
        throw assertNever(a, 'architecture kind');
    }
  }

  /** q(z|x): x [B, H, W, C] → μ, log σ², each [B, L] (the encoder's output split in two halves). */
  encode(x: Tensor): GaussianParams {
    if (x.size !== x.shape[0] * this.dims)
      throw new Error(
        `encode: expected [B, ${this.config.dataShape.join(', ')}], got [${x.shape.join(', ')}]`,
      );
    const out = this.encoder.forward(x);
    const L = this.latentDim;
    return { mean: sliceLastAxis(out, 0, L), logVar: sliceLastAxis(out, L, 2 * L) };
  }

  /** p(x|z): z [B, L] → the decoder's parameters [B, H·W·C]. */
  decode(z: Tensor): Tensor {
    if (z.shape.length !== 2 || z.shape[1] !== this.latentDim)
      throw new Error(`decode: expected z of shape [B, ${this.latentDim}], got [${z.shape.join(', ')}]`);
    return this.decoder.forward(z);
  }

  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ['encoder', this.encoder],
      ['decoder', this.decoder],
    ]);
  }
}

/**
 * A lower bound on the number of weights of a VaeModel with this config, computed without building it: the
 * encoder's weight matrices (the decoder mirrors them; biases left out). Lets a checkpoint reader refuse a
 * config that asks for far more weights than the file holds before allocating them.
 */
export function vaeWeightLowerBound(config: VaeConfig): number {
  const a = config.architecture;
  const L = config.latentDim;
  switch (a.kind) {
    case 'mlp': {
      const sizes = [dataDims(config), ...a.hidden, 2 * L];
      let n = 0;
      for (let i = 0; i + 1 < sizes.length; i++) n += sizes[i] * sizes[i + 1];
      return n;
    }
    case 'conv': {
      const [h, w, c] = config.dataShape;
      const [c0, c1] = a.channels;
      return (
        9 * c * c0 + 9 * c0 * c1 + Math.floor(h / 4) * Math.floor(w / 4) * c1 * a.hidden + a.hidden * 2 * L
      );
    }
    default:
      return assertNever(a, 'architecture kind');
  }
}
