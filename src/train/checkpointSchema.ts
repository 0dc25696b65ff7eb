/**
 * The schema of an elbo training checkpoint's metadata (the JSON in the safetensors header's
 * `__metadata__.elbo`): every field typed and ranged, unknown fields refused, so that a damaged or hand-edited
 * file is reported with the field's path instead of failing deep inside a trainer (or, worse, being accepted).
 *
 * Written with zod (npm `zod`, v4) rather than by hand: a maintained library with discriminated unions (the
 * `kind` fields), strict objects and issue paths for the messages. zod over valibot: both would do; zod's
 * issues carry the received value's path and a readable message out of the box, and it is the one more
 * contributors already know.
 *
 * Adding an optional config field (e.g. a DDPM objective or variance type): add it to the config's object
 * below with `.optional()`; `SchemaCoversDdpmConfig` fails the typecheck until the schema has every field of
 * DdpmConfig.
 *
 * Resource limits (LIMITS) are checked here, before any network is built: they bound what a checkpoint can
 * make the trainer allocate. Cross-field rules that the trainers already check (a UNet's depth against the
 * image size, GroupNorm groups dividing the channels) stay in validateDdpmConfig / validateVaeConfig.
 */
import { z } from 'zod';
import { FormatError } from '../checkpoint/formatError.js';
import { PREDICTIONS } from '../diffusion/parameterization.js';
import { validateDiffusersUNetConfig } from '../interop/diffusers/config.js';
import { SCHEDULE_NAMES } from '../diffusion/schedule.js';
import { ACTIVATIONS, type VaeConfig } from '../vae/config.js';
import type { DdpmConfig } from './ddpm.js';

/** Upper bounds on what a checkpoint may ask for (far above anything elbo trains, far below what would hang). */
export const LIMITS = {
  /** Diffusion steps (the CLI's --diffusion-steps maximum). */
  T: 100_000,
  /** Image height and width. */
  side: 1024,
  /** Image channels. */
  imageChannels: 4,
  /** Length of a vector example (2-D toy data has 2). */
  vectorDims: 4096,
  /** UNet resolution levels. */
  levels: 8,
  /** Channels, hidden widths and embedding sizes. */
  width: 8192,
  /** Residual blocks per level, MLP layers. */
  layers: 64,
  batchSize: 4096,
  /** Training steps. */
  step: 1e12,
} as const;

const int = (min: number, max: number) => z.int().min(min).max(max);
const positive = (max: number) => int(1, max);
const uint32 = int(0, 0xffffffff);

const rngState = z
  .tuple([uint32, uint32, uint32, uint32])
  .refine((s) => s.some((w) => w !== 0), 'an RNG state must not be all zeros');

const unetConfig = z.strictObject({
  imageChannels: positive(LIMITS.imageChannels),
  channels: z.array(positive(LIMITS.width)).min(1).max(LIMITS.levels),
  timeEmbeddingDim: positive(LIMITS.width).refine((d) => d % 2 === 0, 'must be even'),
  timeHiddenDim: positive(LIMITS.width),
  groups: positive(LIMITS.width),
  resBlocks: z.array(positive(LIMITS.layers)).max(LIMITS.levels).optional(),
  attentionLevels: z
    .array(int(0, LIMITS.levels - 1))
    .max(LIMITS.levels)
    .optional(),
});

const mlpConfig = z.strictObject({
  dims: positive(LIMITS.vectorDims),
  hidden: positive(LIMITS.width),
  layers: positive(LIMITS.layers),
  timeEmbeddingDim: positive(LIMITS.width).refine((d) => d % 2 === 0, 'must be even'),
});

/** DiffusersUNetConfig (src/interop/diffusers/config.ts), for `elbo train ddpm --arch diffusers` checkpoints. */
const diffusersConfig = z
  .strictObject({
    sampleSize: z.tuple([positive(LIMITS.side), positive(LIMITS.side)]).nullable(),
    inChannels: positive(LIMITS.imageChannels),
    outChannels: positive(2 * LIMITS.imageChannels),
    centerInputSample: z.boolean(),
    flipSinToCos: z.boolean(),
    freqShift: z.number().finite(),
    downBlockTypes: z
      .array(z.enum(['DownBlock2D', 'AttnDownBlock2D']))
      .min(1)
      .max(LIMITS.levels),
    upBlockTypes: z
      .array(z.enum(['UpBlock2D', 'AttnUpBlock2D']))
      .min(1)
      .max(LIMITS.levels),
    blockOutChannels: z.array(positive(LIMITS.width)).min(1).max(LIMITS.levels),
    layersPerBlock: positive(LIMITS.layers),
    midBlockScaleFactor: z.number().gt(0),
    downsamplePadding: z.union([z.literal(0), z.literal(1)]),
    attentionHeadDim: positive(LIMITS.width).nullable(),
    normNumGroups: positive(LIMITS.width),
    normEps: z.number().gt(0),
    attnNormNumGroups: positive(LIMITS.width).nullable(),
    addAttention: z.boolean(),
    midBlock: z.boolean(),
    timeEmbeddingDim: positive(LIMITS.width).nullable(),
  })
  .superRefine((c, ctx) => {
    try {
      validateDiffusersUNetConfig(c);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message, input: c });
    }
  });

const imageShape = z.tuple([positive(LIMITS.side), positive(LIMITS.side), positive(LIMITS.imageChannels)]);
const dataShape = z.union([imageShape, z.tuple([positive(LIMITS.vectorDims)])]);

const learningRate = z.number().gt(0).max(1);

/** Every field of DdpmConfig (src/train/ddpm.ts). New optional fields go here. */
export const ddpmConfigSchema = z
  .strictObject({
    dataset: z.string().min(1).max(4096),
    dataShape,
    model: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('unet'), unet: unetConfig }),
      z.strictObject({ kind: z.literal('mlp'), mlp: mlpConfig }),
      z.strictObject({ kind: z.literal('diffusers'), diffusers: diffusersConfig }),
    ]),
    schedule: z.enum(SCHEDULE_NAMES as [DdpmConfig['schedule'], ...DdpmConfig['schedule'][]]),
    T: int(2, LIMITS.T),
    prediction: z.enum(PREDICTIONS as [DdpmConfig['prediction'], ...DdpmConfig['prediction'][]]),
    lossWeighting: z.strictObject({ kind: z.literal('min-snr'), gamma: z.number().gt(0) }).optional(),
    batchSize: positive(LIMITS.batchSize),
    lr: learningRate,
    warmupSteps: int(0, LIMITS.step),
    lrDecay: z
      .strictObject({ start: int(0, LIMITS.step), end: int(1, LIMITS.step) })
      .refine((d) => d.end > d.start, 'end must be after start')
      .optional(),
    gradClip: z.number().min(0),
    emaDecay: z.number().min(0).lt(1),
    seed: z.int(),
    warmStart: z.strictObject({ from: z.string().max(4096), step: int(0, LIMITS.step) }).optional(),
    variance: z.enum(['fixed', 'learned-range']).optional(),
    objective: z
      .discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('simple') }),
        z.strictObject({ kind: z.literal('hybrid'), vlbWeight: z.number().gt(0).max(1e6) }),
        z.strictObject({ kind: z.literal('vlb') }),
      ])
      .optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message, input: c });
    if (c.model.kind === 'unet') {
      if (c.dataShape.length !== 3) issue(['dataShape'], 'a UNet needs images [H, W, C]');
      else if (c.model.unet.imageChannels !== c.dataShape[2])
        issue(['model', 'unet', 'imageChannels'], `must equal the images' ${c.dataShape[2]} channels`);
    } else if (c.model.kind === 'diffusers') {
      if (c.dataShape.length !== 3) issue(['dataShape'], 'a diffusers UNet needs images [H, W, C]');
      else if (c.model.diffusers.inChannels !== c.dataShape[2])
        issue(['model', 'diffusers', 'inChannels'], `must equal the images' ${c.dataShape[2]} channels`);
      else if (c.model.diffusers.outChannels !== (c.variance === 'learned-range' ? 2 : 1) * c.dataShape[2])
        issue(
          ['model', 'diffusers', 'outChannels'],
          c.variance === 'learned-range'
            ? `must be twice the images' ${c.dataShape[2]} channels with learned variances (the means, then v)`
            : `must equal the images' ${c.dataShape[2]} channels`,
        );
    } else if (c.dataShape.length !== 1 || c.model.mlp.dims !== c.dataShape[0]) {
      issue(
        ['model', 'mlp', 'dims'],
        `must equal the data's dimension (dataShape ${JSON.stringify(c.dataShape)})`,
      );
    }
  });

/** Every field of VaeConfig (src/vae/config.ts). */
export const vaeConfigSchema = z.strictObject({
  dataset: z.string().min(1).max(4096),
  dataShape: imageShape,
  latentDim: positive(LIMITS.width),
  architecture: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('mlp'),
      hidden: z.array(positive(LIMITS.width)).max(LIMITS.layers),
      activation: z.enum(ACTIVATIONS as [VaeConfig['architecture']['activation'], ...[]]),
    }),
    z.strictObject({
      kind: z.literal('conv'),
      channels: z.tuple([positive(LIMITS.width), positive(LIMITS.width)]),
      hidden: positive(LIMITS.width),
      activation: z.enum(ACTIVATIONS as [VaeConfig['architecture']['activation'], ...[]]),
    }),
  ]),
  likelihood: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('bernoulli') }),
    z.strictObject({ kind: z.literal('gaussian'), logVar: z.number() }),
  ]),
  binarize: z.enum(['dynamic', 'none']),
  batchSize: positive(LIMITS.batchSize),
  lr: learningRate,
  warmupSteps: int(0, LIMITS.step),
  lrHalfLife: int(0, LIMITS.step),
  klWarmupSteps: int(0, LIMITS.step),
  gradClip: z.number().min(0),
  emaDecay: z.number().min(0).lt(1),
  seed: z.int(),
});

/** ClassifierConfig (src/eval/classifier.ts): the evaluation classifier's architecture. */
export const classifierConfigSchema = z.strictObject({
  height: positive(LIMITS.side),
  width: positive(LIMITS.side),
  imageChannels: positive(LIMITS.imageChannels),
  channels: z.array(positive(LIMITS.width)).min(1).max(LIMITS.levels),
  hidden: positive(LIMITS.width),
  classes: int(2, 100_000),
});

/**
 * The state of the CLI's batch sources (cli/trainingData.ts): a 2-D toy stream's RNG, or an image sampler's
 * epoch order (src/data/images.ts BatchSamplerState). A library user's BatchSource may store anything, so the
 * training metadata leaves `data` open and the CLI checks it with these when it resumes.
 */
export const toyStreamStateSchema = z.strictObject({ rng: rngState });
export const batchSamplerStateSchema = z
  .strictObject({
    count: positive(1e9),
    batchSize: positive(LIMITS.batchSize),
    dropLast: z.boolean(),
    epoch: int(0, LIMITS.step),
    position: int(0, 1e9),
    rng: rngState,
  })
  .refine((s) => s.position < s.count, { message: 'position must be below count', path: ['position'] });

/** The fields every trainer's metadata has besides its config. */
function trainingMeta<K extends string, C extends z.ZodType>(kind: K, config: C) {
  return z
    .strictObject({
      kind: z.literal(kind),
      config,
      step: int(0, LIMITS.step),
      rng: rngState,
      data: z.unknown(),
      adamStep: int(0, LIMITS.step),
      /** L_vlb's importance sampler of t (importanceSampler.ts): the last ≤ 10 terms per timestep. */
      timestepSampler: z
        .strictObject({ history: z.array(z.array(z.number().finite()).max(10)).max(LIMITS.T) })
        .optional(),
      /** 'ema': a weights file with the EMA tensors only (emaWeights.ts), for sampling, not for --resume. */
      weights: z.literal('ema').optional(),
    })
    .refine((m) => m.adamStep === m.step, {
      message: 'must equal step: one Adam update per training step',
      path: ['adamStep'],
    });
}

export const ddpmMetaSchema = trainingMeta('ddpm', ddpmConfigSchema);
export const vaeMetaSchema = trainingMeta('vae', vaeConfigSchema);

/** The elbo model kinds a training checkpoint can hold (meta.kind), as users call them. */
export const KIND_NAMES = { ddpm: 'DDPM', vae: 'VAE' } as const;

// The schemas produce valid configs, and cover every config field (so a field added to a config but not here
// fails the typecheck).
type Covers<T, S> = [Exclude<keyof T, keyof S>] extends [never] ? (S extends T ? true : false) : false;
export const SchemaCoversDdpmConfig: Covers<DdpmConfig, z.infer<typeof ddpmConfigSchema>> = true;
export const SchemaCoversVaeConfig: Covers<VaeConfig, z.infer<typeof vaeConfigSchema>> = true;

/** The value at `path` inside `root` (for messages that show what was found). */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function shortJson(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return 'nothing';
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/**
 * Parses `value` with `schema`; on failure throws a FormatError naming the first wrong field, e.g.
 * `meta.config.T: Too big: expected number to be <=100000 (found 1000000000)`.
 */
export function parseWithSchema<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = [what, ...issue.path.map(String)].join('.');
  const found = issue.code === 'unrecognized_keys' ? '' : ` (found ${shortJson(valueAt(value, issue.path))})`;
  throw new FormatError(`${path}: ${issue.message}${found}`);
}
