/**
 * Checkpoint validation (issue 19): the metadata schema, the kinds named in wrong-kind messages, non-finite
 * weights, the tensor set against the architecture, Adam moments on resume, and the weight bound that refuses
 * a config asking for far more than the file holds before anything is built.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startTestEngine } from '../../test/helpers/engine.js';
import { TINY_MOONS_DDPM } from '../../test/helpers/tinyDdpm.js';
import { FormatError } from '../checkpoint/formatError.js';
import { decodeSafetensors, encodeSafetensors } from '../checkpoint/safetensors.js';
import { toy2d } from '../data/toy2d.js';
import { MlpDenoiser, mlpDenoiserWeightCount } from '../nn/mlpDenoiser.js';
import { UNet, type UNetConfig, unetWeightLowerBound } from '../nn/unet.js';
import { Rng, type RngState } from '../random/rng.js';
import { VaeModel, vaeWeightLowerBound } from '../vae/nets.js';
import { BURDA_MNIST_VAE, type VaeConfig } from '../vae/config.js';
import { decodeTrainingState, encodeTrainingState } from './checkpoint.js';
import { type BatchSource, type DdpmConfig, DdpmTrainer, type TrainingState } from './ddpm.js';

const { ctx } = await startTestEngine({ threads: 1 });

class Moons implements BatchSource {
  rng = Rng.fromSeed(1);
  next(n: number) {
    return toy2d('two-moons', n, this.rng);
  }
  getState() {
    return { rng: this.rng.state() };
  }
  setState(s: unknown) {
    this.rng = Rng.fromState((s as { rng: RngState }).rng);
  }
}

const config: DdpmConfig = { ...TINY_MOONS_DDPM, seed: 3 };

function trainedState(): TrainingState {
  const t = new DdpmTrainer(ctx, config, new Moons());
  t.trainStep();
  t.trainStep();
  const s = t.exportState();
  t.dispose();
  return s;
}
const good = trainedState();

/** The state re-encoded with its metadata replaced by `edit(meta)` (as JSON, so anything can be written). */
function withMeta(edit: (meta: Record<string, unknown>) => unknown): Uint8Array {
  const meta = JSON.parse(JSON.stringify(good.meta)) as Record<string, unknown>;
  const bytes = encodeTrainingState(good);
  const { tensors } = decodeSafetensors(bytes);
  const edited = edit(meta);
  return encodeSafetensors(tensors, {
    format: 'elbo-checkpoint-v1',
    elbo: JSON.stringify(edited === undefined ? meta : edited),
  });
}

const decodeError = (bytes: Uint8Array): string => {
  try {
    decodeTrainingState(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(FormatError);
    return (err as Error).message;
  }
  throw new Error('decoded without an error');
};

describe('decodeTrainingState: the metadata schema', () => {
  it('accepts what the trainer wrote, and the shipped DDPM and VAE', () => {
    expect(decodeTrainingState(encodeTrainingState(good), 'ddpm').meta).toEqual(good.meta);
    expect(decodeTrainingState(readFileSync('checkpoints/mnist-ddpm.safetensors'), 'ddpm').meta.step).toBe(
      3000,
    );
    expect(decodeTrainingState(readFileSync('checkpoints/mnist-vae.safetensors'), 'vae').meta.kind).toBe(
      'vae',
    );
  });

  it("refuses each of the issue's silently accepted fields, naming it", () => {
    const cfg = (m: Record<string, unknown>) => m.config as Record<string, unknown>;
    const cases: [string, (m: Record<string, unknown>) => unknown, RegExp][] = [
      ['step "x"', (m) => void (m.step = 'x'), /meta\.step: .*expected number.*\(found "x"\)/],
      ['negative step', (m) => void (m.step = -1), /meta\.step: Too small.*\(found -1\)/],
      [
        'prediction foo',
        (m) => void (cfg(m).prediction = 'foo'),
        /meta\.config\.prediction: .*\(found "foo"\)/,
      ],
      ['kind foo', (m) => void (m.kind = 'foo'), /meta\.kind must be "ddpm" or "vae" \(found "foo"\)/],
      ['T = 1e9', (m) => void (cfg(m).T = 1e9), /meta\.config\.T: Too big: .*100000 \(found 1000000000\)/],
      ['no config', (m) => void delete m.config, /meta\.config: /],
      ['null metadata', () => null, /meta\.kind must be/],
      ['unknown field', (m) => void (cfg(m).sheduel = 'linear'), /meta\.config: Unrecognized key: "sheduel"/],
      ['adamStep ≠ step', (m) => void (m.adamStep = 1), /meta\.adamStep: must equal step/],
      ['all-zero RNG', (m) => void (m.rng = [0, 0, 0, 0]), /meta\.rng: an RNG state must not be all zeros/],
      [
        'mlp dims against data',
        (m) => void (cfg(m).dataShape = [3]),
        /meta\.config\.model\.mlp\.dims: must equal the data's dimension/,
      ],
    ];
    for (const [what, edit, message] of cases) {
      expect(decodeError(withMeta(edit)), what).toMatch(message);
    }
  });

  it('refuses a layer count that disagrees with the tensors before building the network', () => {
    const more = (m: Record<string, unknown>) => {
      const model = (m.config as { model: { mlp: { layers: number } } }).model;
      model.mlp.layers = 40;
    };
    expect(decodeError(withMeta(more))).toMatch(
      /the config describes a network of at least \d+ weights, but the file's model\.\* tensors hold \d+ values/,
    );
    // A UNet of 8 levels of 8192 channels would be billions of weights: refused from the numbers alone.
    const huge = (m: Record<string, unknown>) => {
      const c = m.config as Record<string, unknown>;
      c.dataShape = [1024, 1024, 1];
      c.model = {
        kind: 'unet',
        unet: {
          imageChannels: 1,
          channels: Array(8).fill(8192),
          timeEmbeddingDim: 64,
          timeHiddenDim: 128,
          groups: 8,
        },
      };
    };
    expect(decodeError(withMeta(huge))).toMatch(/at least \d{10,} weights/);
  });

  it('refuses too deeply nested metadata with a FormatError, not a RangeError', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const bytes = encodeSafetensors({}, { format: 'elbo-checkpoint-v1', elbo: deep });
    expect(decodeError(bytes)).toMatch(/nests 100000 levels deep/);
  });
});

describe('decodeTrainingState: kinds and tensors', () => {
  it('names both kinds when a checkpoint of another kind is given', () => {
    const vae = readFileSync('checkpoints/mnist-vae.safetensors');
    expect(() => decodeTrainingState(vae, 'ddpm')).toThrow(
      /expected a DDPM checkpoint, but this is a VAE checkpoint/,
    );
    const classifier = readFileSync('checkpoints/mnist-classifier.safetensors');
    expect(() => decodeTrainingState(classifier, 'vae')).toThrow(
      /expected a VAE checkpoint, but this is an elbo classifier checkpoint/,
    );
    const foreign = encodeSafetensors(
      { w: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } },
      { format: 'pt' },
    );
    expect(() => decodeTrainingState(foreign)).toThrow(/a safetensors file that is not elbo's/);
  });

  it('refuses NaN and Inf weights, naming the tensor and the element', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const tensors = new Map(good.tensors);
      const name = [...tensors.keys()].find((k) => k.startsWith('ema.'))!;
      const data = Float32Array.from(tensors.get(name)!.data);
      data[3] = bad;
      tensors.set(name, { shape: tensors.get(name)!.shape, data });
      expect(decodeError(encodeTrainingState({ ...good, tensors }))).toMatch(
        new RegExp(`tensor "${name.replace(/\./g, '\\.')}" holds ${bad} at element 3`),
      );
    }
  });

  it('restore refuses extra tensors, and missing Adam moments when training continues', () => {
    const extra = new Map(good.tensors).set('model.surprise', { shape: [1], data: Float32Array.of(0) });
    const state = decodeTrainingState(encodeTrainingState({ ...good, tensors: extra }), 'ddpm');
    expect(() => DdpmTrainer.restore(ctx, state, null)).toThrow(
      /tensors the model does not: "model\.surprise"/,
    );

    const noAdam = new Map([...good.tensors].filter(([k]) => !k.startsWith('adam.')));
    const weightsOnly = decodeTrainingState(encodeTrainingState({ ...good, tensors: noAdam }), 'ddpm');
    DdpmTrainer.restore(ctx, weightsOnly, null).dispose(); // sampling needs no Adam state
    expect(() => DdpmTrainer.restore(ctx, weightsOnly, new Moons())).toThrow(/no Adam moments/);
    const halfAdam = new Map([...good.tensors].filter(([k]) => !k.startsWith('adam.v.')));
    const half = decodeTrainingState(encodeTrainingState({ ...good, tensors: halfAdam }), 'ddpm');
    expect(() => DdpmTrainer.restore(ctx, half, null)).toThrow(/no tensor "adam\.v\./);
  });
});

describe('weight lower bounds (checked against the built networks)', () => {
  const count = (m: { namedParameters(): [string, { size: number }][] }) =>
    m.namedParameters().reduce((n, [, p]) => n + p.size, 0);
  it('never exceed the true count, and are within a factor 4 of it', () => {
    const unets: UNetConfig[] = [
      { imageChannels: 1, channels: [8, 16], timeEmbeddingDim: 16, timeHiddenDim: 32, groups: 4 },
      {
        imageChannels: 3,
        channels: [8, 16, 16],
        timeEmbeddingDim: 16,
        timeHiddenDim: 16,
        groups: 8,
        resBlocks: [1, 2, 2],
        attentionLevels: [2],
      },
    ];
    for (const u of unets) {
      const net = new UNet(ctx, u, Rng.fromSeed(0));
      const n = count(net);
      expect(unetWeightLowerBound(u)).toBeLessThanOrEqual(n);
      expect(unetWeightLowerBound(u)).toBeGreaterThan(n / 4);
    }
    const mlp = { dims: 2, hidden: 16, layers: 3, timeEmbeddingDim: 8 };
    const net = new MlpDenoiser(ctx, mlp, Rng.fromSeed(0));
    expect(mlpDenoiserWeightCount(mlp)).toBe(count(net) - 3 * 16 - 2); // all but the biases
    const architectures: VaeConfig['architecture'][] = [
      { kind: 'mlp', hidden: [20, 10], activation: 'tanh' },
      { kind: 'conv', channels: [4, 8], hidden: 12, activation: 'relu' },
    ];
    for (const architecture of architectures) {
      const vc = { ...BURDA_MNIST_VAE, dataset: 'x', dataShape: [8, 8, 1], latentDim: 3, architecture };
      const vae = new VaeModel(ctx, vc, Rng.fromSeed(0));
      const n = count(vae.encoder) + count(vae.decoder);
      expect(vaeWeightLowerBound(vc)).toBeLessThanOrEqual(n);
      expect(vaeWeightLowerBound(vc)).toBeGreaterThan(n / 4);
    }
  });
});
