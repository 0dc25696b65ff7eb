/**
 * Configuration of a variational autoencoder: the networks, the decoder's likelihood, the data treatment and
 * the optimiser. One plain JSON object, recorded in checkpoints and validated once, on entry.
 *
 * [KW14] Kingma & Welling arXiv:1312.6114v11 · [BGS16] Burda, Grosse, Salakhutdinov arXiv:1509.00519v4 (§5:
 * the 784-200-200-50 tanh architecture, MNIST binarised stochastically) · [SRM16] Sønderby et al., Ladder VAE,
 * arXiv:1602.02282v3 (§2.3: KL warm-up)
 */
import { assertNever } from '../math/checks.js';

/** The hidden activation of the VAE's MLPs. */
export type Activation = 'tanh' | 'softplus' | 'relu';
/** Every {@link Activation}. */
export const ACTIVATIONS: readonly Activation[] = ['tanh', 'softplus', 'relu'];

/** The encoder and decoder networks (mirror images of each other). */
export type VaeArchitecture =
  /** Fully connected; `hidden` widths from the data side (Burda et al.: [200, 200], tanh). */
  | { kind: 'mlp'; hidden: number[]; activation: Activation }
  /**
   * Convolutional: two 3×3 convolutions with stride 2 (channels[0], channels[1]) and a fully connected layer of
   * `hidden` units; the decoder mirrors it with nearest-neighbour upsampling. Needs H and W divisible by 4.
   */
  | { kind: 'conv'; channels: [number, number]; hidden: number; activation: Activation };

/** p(x|z): Bernoulli with logits (binary data), or Gaussian with a fixed variance (grey levels). */
export type DecoderLikelihood = { kind: 'bernoulli' } | { kind: 'gaussian'; logVar: number };

/**
 * What the trainer feeds the model. 'dynamic': a fresh Bernoulli draw of every pixel per batch, with the grey
 * level as probability (the literature's binarised MNIST); 'none': grey levels as they are (for a Bernoulli
 * decoder rescaled to [0, 1], then the likelihood is a cross-entropy, not a normalised probability).
 */
export type Binarization = 'dynamic' | 'none';

/** Everything that defines a VAE training run; stored in its checkpoints. */
export interface VaeConfig {
  /** Dataset name as given to the CLI (recorded in checkpoints). */
  dataset: string;
  /** Shape of one example, [H, W, C]. */
  dataShape: number[];
  /** Dimension of z. */
  latentDim: number;
  architecture: VaeArchitecture;
  likelihood: DecoderLikelihood;
  binarize: Binarization;
  batchSize: number;
  /** Adam learning rate after warm-up. */
  lr: number;
  /** Linear learning-rate warm-up, in steps (0: none). */
  warmupSteps: number;
  /** The learning rate halves every this many steps (0: constant). */
  lrHalfLife: number;
  /** KL weight β rises linearly from 1/klWarmupSteps to 1 over this many steps (0: β = 1 throughout). */
  klWarmupSteps: number;
  /** Max global gradient norm (0: no clipping). */
  gradClip: number;
  /** EMA decay of the weights used for evaluation and pictures (0: the EMA copy follows the weights). */
  emaDecay: number;
  seed: number;
}

/** Burda et al.'s one-stochastic-layer VAE for binarised MNIST: 784-200-200-50, tanh. */
export const BURDA_MNIST_VAE: Omit<VaeConfig, 'dataset' | 'dataShape'> = {
  latentDim: 50,
  architecture: { kind: 'mlp', hidden: [200, 200], activation: 'tanh' },
  likelihood: { kind: 'bernoulli' },
  binarize: 'dynamic',
  batchSize: 100,
  lr: 1e-3,
  warmupSteps: 0,
  lrHalfLife: 0,
  klWarmupSteps: 0,
  gradClip: 0,
  emaDecay: 0.999,
  seed: 0,
};

/** Number of values in one example. */
export function dataDims(config: Pick<VaeConfig, 'dataShape'>): number {
  return config.dataShape.reduce((a, b) => a * b, 1);
}

/** Throws an Error naming the first invalid field. */
export function validateVaeConfig(c: VaeConfig): void {
  const bad = (msg: string): never => {
    throw new Error(`invalid VAE config: ${msg}`);
  };
  const posInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) bad(`${name} must be a positive integer, got ${v}`);
  };
  const nonNegInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 0) bad(`${name} must be an integer ≥ 0, got ${v}`);
  };
  if (!Array.isArray(c.dataShape) || c.dataShape.length !== 3)
    bad(`dataShape must be [H, W, C], got ${JSON.stringify(c.dataShape)}`);
  c.dataShape.forEach((d, i) => posInt(`dataShape[${i}]`, d));
  posInt('latentDim', c.latentDim);
  posInt('batchSize', c.batchSize);
  if (!(c.lr > 0 && Number.isFinite(c.lr))) bad(`lr must be positive, got ${c.lr}`);
  nonNegInt('warmupSteps', c.warmupSteps);
  nonNegInt('lrHalfLife', c.lrHalfLife);
  nonNegInt('klWarmupSteps', c.klWarmupSteps);
  if (!(c.gradClip >= 0)) bad(`gradClip must be ≥ 0, got ${c.gradClip}`);
  if (!(c.emaDecay >= 0 && c.emaDecay < 1)) bad(`emaDecay must be in [0, 1), got ${c.emaDecay}`);
  if (!Number.isInteger(c.seed)) bad(`seed must be an integer, got ${c.seed}`);
  const a = c.architecture;
  switch (a.kind) {
    case 'mlp':
      a.hidden.forEach((h, i) => posInt(`hidden[${i}]`, h));
      break;
    case 'conv':
      a.channels.forEach((h, i) => posInt(`channels[${i}]`, h));
      posInt('hidden', a.hidden);
      if (c.dataShape[0] % 4 !== 0 || c.dataShape[1] % 4 !== 0)
        bad(`the convolutional VAE needs H and W divisible by 4, got ${c.dataShape[0]}×${c.dataShape[1]}`);
      break;
    default:
      assertNever(a, 'architecture kind');
  }
  if (!ACTIVATIONS.includes(a.activation))
    bad(`activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(a.activation)}`);
  const l = c.likelihood;
  switch (l.kind) {
    case 'bernoulli':
      break;
    case 'gaussian':
      if (!Number.isFinite(l.logVar)) bad(`the Gaussian decoder's logVar must be finite, got ${l.logVar}`);
      break;
    default:
      assertNever(l, 'likelihood kind');
  }
  if (c.binarize !== 'dynamic' && c.binarize !== 'none')
    bad(`binarize must be 'dynamic' or 'none', got ${String(c.binarize)}`);
  if (c.binarize === 'dynamic' && l.kind !== 'bernoulli')
    bad('dynamic binarisation goes with the Bernoulli decoder (a Gaussian decoder models grey levels)');
}
