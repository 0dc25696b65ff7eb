/**
 * load → sample / encode / decode / bound for a VAE checkpoint: the VAE's counterpart of loadDiffusionModel. No
 * trainer is built (no second copy of the weights, no Adam moments); the network runs without recording
 * gradients, its intermediates freed after each batch. No I/O here: the checkpoint's bytes come in.
 *
 * [KW14] Kingma & Welling arXiv:1312.6114v11 · [BGS16] Burda, Grosse, Salakhutdinov arXiv:1509.00519v4
 */
import { Rng } from '../random/rng.js';
import type { Context } from '../tensor/tensor.js';
import { decodeTrainingState } from '../train/checkpoint.js';
import { isEmaOnly, loadWeights } from '../train/emaWeights.js';
import type { VaeConfig } from '../vae/config.js';
import { evaluateVae, type VaeEvaluation } from '../vae/evaluate.js';
import { VaeModel } from '../vae/nets.js';
import { decoderMeans } from '../vae/pictures.js';
import { decoderTargets, type VaeTrainingState } from '../vae/trainer.js';
import { disposeModule } from '../nn/module.js';
import { rngOf, type LoadOptions, type SeedOrRng } from './common.js';

/** Options of {@link Vae.sample}. */
export interface VaeSampleOptions {
  n: number;
  /** Draws z ~ N(0, I), n·L values in order. */
  seed: SeedOrRng;
}

/** Options of {@link Vae.bound}: the images and the estimator. */
export interface VaeBoundOptions {
  /** n images flattened NHWC, values in [−1, 1] (8-bit data scaled: (v − 127.5)/127.5). */
  images: Float32Array;
  /**
   * The decoder targets are drawn from a generator seeded with `seed` (dynamic binarisation; others ignore it),
   * the importance samples from one seeded with seed + 1 — what `elbo eval --seed` does.
   */
  seed: number;
  /** Importance samples per image (default 5000, [BGS16] §5); k = 1 gives a one-sample ELBO estimate as L_1. */
  k?: number;
  /** Decoder rows per engine pass (default 2000). */
  rowsPerPass?: number;
  /** Called after each decoder pass with (rows done, n·k). */
  onProgress?: (done: number, total: number) => void;
}

/** The posterior q(z|x) = N(mean, diag exp(logVar)) of each example, [n, L] each. */
export interface VaePosterior {
  mean: Float32Array;
  logVar: Float32Array;
}

/**
 * A loaded VAE ({@link loadVae}): the encoder q(z|x) and decoder p(x|z) of an elbo checkpoint, with sampling,
 * encoding, decoding and the bounds on log p(x), without a trainer.
 */
export interface Vae {
  /** The checkpoint's config (architecture, likelihood, binarisation, the data set it was trained on). */
  readonly config: VaeConfig;
  /** Dimension L of z. */
  readonly latentDim: number;
  /** One example's shape, [H, W, C] (NHWC). */
  readonly dataShape: number[];
  readonly dims: number;
  /** Optimisation steps behind the weights. */
  readonly trainingSteps: number;
  /** The network (the loaded copy of the weights). */
  readonly network: VaeModel;
  /**
   * Images in [−1, 1] → what the decoder models: a Bernoulli draw per pixel with probability (x + 1)/2 (dynamic
   * binarisation), the grey levels in [0, 1] (Bernoulli without binarisation), or the images (Gaussian).
   */
  decoderTargets(images: Float32Array, seed: SeedOrRng): Float32Array;
  /** q(z|x) of examples given as decoder targets (see {@link Vae.decoderTargets}), in batches of 500. */
  encode(x: Float32Array): VaePosterior;
  /** The decoder's mean for latents z ([n, L] flattened) as images in [−1, 1] (Bernoulli: 2σ(logit) − 1). */
  decode(z: Float32Array): Float32Array;
  /** n samples from the prior: z ~ N(0, I), decoded to the decoder's mean images in [−1, 1]. */
  sample(options: VaeSampleOptions): Float32Array;
  /**
   * Per image, in nats: the ELBO = E_q log p(x|z) − KL(q(z|x) ‖ N(0, I)) ([KW14] eq. 10, KL analytic) and the
   * importance-weighted bound L_k = log (1/k) Σ p(x|z_i) p(z_i)/q(z_i|x) ([BGS16] eq. 8), both ≤ log p(x).
   */
  bound(options: VaeBoundOptions): VaeEvaluation;
  /** Frees the network's weights. */
  dispose(): void;
}

/**
 * Loads a VAE from an elbo checkpoint's bytes (or the checkpoint decoded by decodeTrainingState): its EMA weights
 * by default, its raw ones with `weights: 'raw'`. A checkpoint of another kind is refused with both kinds named.
 */
export function loadVae(ctx: Context, source: Uint8Array | VaeTrainingState, options: LoadOptions = {}): Vae {
  const state = source instanceof Uint8Array ? decodeTrainingState(source, 'vae') : source;
  if (state.meta.kind !== 'vae')
    throw new Error(`this is a ${String(state.meta.kind)} checkpoint, not a VAE`);
  const config = state.meta.config;
  // The seed only fills the weights before they are overwritten: the network has no other random state.
  const net = new VaeModel(ctx, config, Rng.fromSeed(config.seed));
  try {
    loadWeights(net, state.tensors, options.weights ?? 'ema', isEmaOnly(state.meta));
  } catch (err) {
    disposeModule(net);
    throw err;
  }
  const L = net.latentDim;
  const dims = net.dims;
  const whole = (values: number, per: number, what: string) => {
    const n = values / per;
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`${what}: ${values} values are not whole examples of ${per}`);
    return n;
  };
  return {
    config,
    latentDim: L,
    dataShape: [...config.dataShape],
    dims,
    trainingSteps: state.meta.step,
    network: net,
    decoderTargets: (images, seed) => decoderTargets(config, images, rngOf(seed)),
    encode(x) {
      const n = whole(x.length, dims, 'encode');
      const mean = new Float32Array(n * L);
      const logVar = new Float32Array(n * L);
      const batch = 500;
      ctx.noGrad(() => {
        for (let b = 0; b < n; b += batch) {
          const size = Math.min(batch, n - b);
          ctx.scope(() => {
            const q = net.encode(
              ctx.fromArray(x.subarray(b * dims, (b + size) * dims), [size, ...config.dataShape]),
            );
            mean.set(q.mean.view(), b * L);
            logVar.set(q.logVar.view(), b * L);
          });
        }
      });
      return { mean, logVar };
    },
    decode: (z) => decoderMeans(net, z, whole(z.length, L, 'decode')),
    sample: ({ n, seed }) => decoderMeans(net, rngOf(seed).fillNormal(new Float32Array(n * L)), n),
    bound(o) {
      const n = whole(o.images.length, dims, 'bound');
      const targets = decoderTargets(config, o.images, Rng.fromSeed(o.seed));
      return evaluateVae(net, targets, n, o.k ?? 5000, Rng.fromSeed(o.seed + 1), {
        rowsPerPass: o.rowsPerPass,
        onProgress: o.onProgress,
      });
    },
    dispose: () => disposeModule(net),
  };
}
