/**
 * diffusers' `UNet2DModel` config.json, read and validated: the subset of the class's options that elbo's engine
 * runs (see {@link parseUNet2DConfig}), each unsupported value refused with an error naming its key.
 *
 * Source: huggingface/diffusers `src/diffusers/models/unets/unet_2d.py` (`UNet2DModel.__init__`, commit
 * 58eb52c0803ea9af3abec60841c2a093bdf1f951), whose defaults are the ones below.
 */

/** The down blocks elbo implements (`down_block_types`). */
export type DownBlockType = 'DownBlock2D' | 'AttnDownBlock2D';
/** The up blocks elbo implements (`up_block_types`). */
export type UpBlockType = 'UpBlock2D' | 'AttnUpBlock2D';

/** A diffusers UNet2DModel architecture, in elbo's spelling (one field per config.json key it comes from). */
export interface DiffusersUNetConfig {
  /** `sample_size`: the training resolution [height, width] (null if absent); any multiple of 2^(levels−1) runs. */
  sampleSize: [number, number] | null;
  /** `in_channels` / `out_channels` (= 2·in_channels for a learned-variance model). */
  inChannels: number;
  outChannels: number;
  /** `center_input_sample`: the network maps its input x to 2x − 1 first. */
  centerInputSample: boolean;
  /** `flip_sin_to_cos`: the sinusoidal embedding is [cos, sin] (true) or [sin, cos]. */
  flipSinToCos: boolean;
  /** `freq_shift`: frequencies 10000^(−i/(half − freqShift)). */
  freqShift: number;
  downBlockTypes: DownBlockType[];
  upBlockTypes: UpBlockType[];
  /** `block_out_channels`: channels of each resolution level, full resolution first. */
  blockOutChannels: number[];
  /** `layers_per_block`: resnets per down block (up blocks have one more). */
  layersPerBlock: number;
  /** `mid_block_scale_factor`: the mid block's residual sums are divided by it. */
  midBlockScaleFactor: number;
  /** `downsample_padding`: 1 = symmetric padding of the stride-2 conv; 0 = pad (right, bottom) by one first. */
  downsamplePadding: 0 | 1;
  /** `attention_head_dim`: channels per head (heads = channels / it); null = one head of all channels. */
  attentionHeadDim: number | null;
  /** `norm_num_groups`, `norm_eps`: every GroupNorm. */
  normNumGroups: number;
  normEps: number;
  /** `attn_norm_num_groups`: the mid-block attention's GroupNorm groups (null = normNumGroups). */
  attnNormNumGroups: number | null;
  /** `add_attention`: the mid block has its attention layer. */
  addAttention: boolean;
  /** `mid_block_type`: 'UNetMidBlock2D' or null (no mid block). */
  midBlock: boolean;
  /** `time_embedding_dim`: width of the time-embedding MLP (null = 4·blockOutChannels[0]). */
  timeEmbeddingDim: number | null;
}

/** Keys that may take any value because inference does not depend on them (dropout) or that are metadata. */
const IGNORED_KEYS = new Set(['dropout', 'num_train_timesteps']);

/** Keys accepted only at the value elbo implements, with that value. */
const FIXED: Record<string, unknown> = {
  time_embedding_type: 'positional',
  downsample_type: 'conv',
  upsample_type: 'conv',
  resnet_time_scale_shift: 'default',
  class_embed_type: null,
  num_class_embeds: null,
};

const KNOWN_KEYS = new Set([
  'sample_size',
  'in_channels',
  'out_channels',
  'center_input_sample',
  'flip_sin_to_cos',
  'freq_shift',
  'down_block_types',
  'up_block_types',
  'block_out_channels',
  'layers_per_block',
  'mid_block_scale_factor',
  'downsample_padding',
  'attention_head_dim',
  'norm_num_groups',
  'norm_eps',
  'attn_norm_num_groups',
  'add_attention',
  'mid_block_type',
  'time_embedding_dim',
  'act_fn',
  ...IGNORED_KEYS,
  ...Object.keys(FIXED),
]);

/** diffusers' defaults for keys a config.json may omit (UNet2DModel.__init__'s signature). */
const DEFAULTS: Record<string, unknown> = {
  sample_size: null,
  in_channels: 3,
  out_channels: 3,
  center_input_sample: false,
  flip_sin_to_cos: true,
  freq_shift: 0,
  down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D'],
  up_block_types: ['AttnUpBlock2D', 'AttnUpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
  block_out_channels: [224, 448, 672, 896],
  layers_per_block: 2,
  mid_block_scale_factor: 1,
  downsample_padding: 1,
  attention_head_dim: 8,
  norm_num_groups: 32,
  norm_eps: 1e-5,
  attn_norm_num_groups: null,
  add_attention: true,
  mid_block_type: 'UNetMidBlock2D',
  time_embedding_dim: null,
  act_fn: 'silu',
};

function fail(key: string, msg: string): never {
  throw new Error(`diffusers config.json: "${key}" ${msg}`);
}

function positiveInt(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    fail(key, `must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function bool(key: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(key, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function finite(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(key, `must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function blockTypes<T extends string>(key: string, v: unknown, allowed: readonly T[]): T[] {
  if (!Array.isArray(v) || v.length === 0)
    fail(key, `must be a non-empty list of block types, got ${JSON.stringify(v)}`);
  return v.map((b, i) => {
    // diffusers strips a "UNetRes" prefix (get_down_block / get_up_block).
    const name = typeof b === 'string' && b.startsWith('UNetRes') ? b.slice(7) : b;
    if (!allowed.includes(name as T))
      throw new Error(
        `diffusers config.json: "${key}"[${i}] is ${JSON.stringify(b)}, a block type elbo does not implement ` +
          `(supported: ${allowed.join(', ')})`,
      );
    return name as T;
  });
}

/**
 * Parses a UNet2DModel config.json object. Supported: DownBlock2D/AttnDownBlock2D, UpBlock2D/AttnUpBlock2D,
 * UNetMidBlock2D (or none), positional time embedding, SiLU, conv down/upsampling, 'default' time-embedding
 * addition, no class conditioning. Anything else — or a key diffusers' UNet2DModel does not have — is an error
 * naming the key. Returns the config and the ignored keys set to a value (dropout > 0, num_train_timesteps).
 */
export function parseUNet2DConfig(json: unknown): { config: DiffusersUNetConfig; ignored: string[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error('diffusers config.json must be a JSON object');
  const raw = json as Record<string, unknown>;
  if ('_class_name' in raw && raw._class_name !== 'UNet2DModel')
    fail('_class_name', `is ${JSON.stringify(raw._class_name)}; elbo reads UNet2DModel folders only`);
  for (const key of Object.keys(raw)) {
    if (key.startsWith('_')) continue;
    if (!KNOWN_KEYS.has(key))
      fail(
        key,
        'is not an option of diffusers UNet2DModel that elbo knows; remove it or check the model class',
      );
  }
  const get = (key: string): unknown => (key in raw ? raw[key] : DEFAULTS[key]);
  for (const [key, value] of Object.entries(FIXED)) {
    if (key in raw && raw[key] !== value)
      fail(key, `is ${JSON.stringify(raw[key])}; elbo implements only ${JSON.stringify(value)}`);
  }
  const act = get('act_fn');
  if (act !== 'silu' && act !== 'swish')
    fail('act_fn', `is ${JSON.stringify(act)}; elbo implements only "silu"`);

  const channels = get('block_out_channels');
  if (!Array.isArray(channels) || channels.length === 0)
    fail('block_out_channels', `must be a non-empty list, got ${JSON.stringify(channels)}`);
  const blockOutChannels = channels.map((c, i) => positiveInt(`block_out_channels[${i}]`, c));
  const downBlockTypes = blockTypes('down_block_types', get('down_block_types'), [
    'DownBlock2D',
    'AttnDownBlock2D',
  ]);
  const upBlockTypes = blockTypes('up_block_types', get('up_block_types'), ['UpBlock2D', 'AttnUpBlock2D']);
  if (downBlockTypes.length !== blockOutChannels.length)
    fail(
      'down_block_types',
      `has ${downBlockTypes.length} entries; block_out_channels has ${blockOutChannels.length}`,
    );
  if (upBlockTypes.length !== blockOutChannels.length)
    fail(
      'up_block_types',
      `has ${upBlockTypes.length} entries; block_out_channels has ${blockOutChannels.length}`,
    );

  const size = get('sample_size');
  let sampleSize: [number, number] | null = null;
  if (typeof size === 'number') sampleSize = [positiveInt('sample_size', size), size];
  else if (Array.isArray(size) && size.length === 2)
    sampleSize = [positiveInt('sample_size[0]', size[0]), positiveInt('sample_size[1]', size[1])];
  else if (size !== null)
    fail('sample_size', `must be an integer, a pair or null, got ${JSON.stringify(size)}`);

  const padding = get('downsample_padding');
  if (padding !== 0 && padding !== 1)
    fail('downsample_padding', `must be 0 or 1, got ${JSON.stringify(padding)}`);
  const headDim = get('attention_head_dim');
  const midType = get('mid_block_type');
  if (midType !== null && midType !== 'UNetMidBlock2D')
    fail('mid_block_type', `is ${JSON.stringify(midType)}; elbo implements "UNetMidBlock2D" or null`);
  const attnGroups = get('attn_norm_num_groups');
  const tembDim = get('time_embedding_dim');
  const config: DiffusersUNetConfig = {
    sampleSize,
    inChannels: positiveInt('in_channels', get('in_channels')),
    outChannels: positiveInt('out_channels', get('out_channels')),
    centerInputSample: bool('center_input_sample', get('center_input_sample')),
    flipSinToCos: bool('flip_sin_to_cos', get('flip_sin_to_cos')),
    freqShift: finite('freq_shift', get('freq_shift')),
    downBlockTypes,
    upBlockTypes,
    blockOutChannels,
    layersPerBlock: positiveInt('layers_per_block', get('layers_per_block')),
    midBlockScaleFactor: finite('mid_block_scale_factor', get('mid_block_scale_factor')),
    downsamplePadding: padding,
    attentionHeadDim: headDim === null ? null : positiveInt('attention_head_dim', headDim),
    normNumGroups: positiveInt('norm_num_groups', get('norm_num_groups')),
    normEps: finite('norm_eps', get('norm_eps')),
    attnNormNumGroups: attnGroups === null ? null : positiveInt('attn_norm_num_groups', attnGroups),
    addAttention: bool('add_attention', get('add_attention')),
    midBlock: midType !== null,
    timeEmbeddingDim: tembDim === null ? null : positiveInt('time_embedding_dim', tembDim),
  };
  validateDiffusersUNetConfig(config);
  // Reported only when set to something that would matter in training (dropout) or elsewhere.
  const ignored = Object.keys(raw).filter((k) => IGNORED_KEYS.has(k) && raw[k] !== null && raw[k] !== 0);
  return { config, ignored };
}

/** Consistency checks diffusers would fail on later (or silently differ on): groups, heads, embedding width. */
export function validateDiffusersUNetConfig(c: DiffusersUNetConfig): void {
  const { normNumGroups: g } = c;
  c.blockOutChannels.forEach((ch, i) => {
    if (ch % g !== 0) fail(`block_out_channels[${i}]`, `= ${ch} is not divisible by norm_num_groups = ${g}`);
  });
  const head = c.attentionHeadDim;
  if (head !== null) {
    c.blockOutChannels.forEach((ch, i) => {
      const attends =
        c.downBlockTypes[i] === 'AttnDownBlock2D' ||
        c.upBlockTypes[c.blockOutChannels.length - 1 - i] === 'AttnUpBlock2D' ||
        (i === c.blockOutChannels.length - 1 && c.midBlock && c.addAttention);
      if (attends && ch % head !== 0)
        fail('attention_head_dim', `= ${head} does not divide the ${ch} channels of level ${i}`);
    });
  }
  const bottom = c.blockOutChannels[c.blockOutChannels.length - 1];
  if (c.attnNormNumGroups !== null && bottom % c.attnNormNumGroups !== 0)
    fail(
      'attn_norm_num_groups',
      `= ${c.attnNormNumGroups} does not divide the mid block's ${bottom} channels`,
    );
  if (c.blockOutChannels[0] % 2 !== 0)
    fail(
      'block_out_channels[0]',
      `= ${c.blockOutChannels[0]} must be even (it is the sinusoidal embedding width)`,
    );
  if (!(c.normEps > 0)) fail('norm_eps', `must be > 0, got ${c.normEps}`);
  if (c.midBlockScaleFactor === 0) fail('mid_block_scale_factor', 'must not be 0');
}

/** The config.json object diffusers writes for this architecture (every key explicit, as save_pretrained does). */
export function unet2DConfigJson(c: DiffusersUNetConfig): Record<string, unknown> {
  return {
    _class_name: 'UNet2DModel',
    _diffusers_version: '0.40.0.dev0',
    act_fn: 'silu',
    add_attention: c.addAttention,
    attention_head_dim: c.attentionHeadDim,
    attn_norm_num_groups: c.attnNormNumGroups,
    block_out_channels: c.blockOutChannels,
    center_input_sample: c.centerInputSample,
    class_embed_type: null,
    down_block_types: c.downBlockTypes,
    downsample_padding: c.downsamplePadding,
    downsample_type: 'conv',
    dropout: 0,
    flip_sin_to_cos: c.flipSinToCos,
    freq_shift: c.freqShift,
    in_channels: c.inChannels,
    layers_per_block: c.layersPerBlock,
    mid_block_scale_factor: c.midBlockScaleFactor,
    mid_block_type: c.midBlock ? 'UNetMidBlock2D' : null,
    norm_eps: c.normEps,
    norm_num_groups: c.normNumGroups,
    num_class_embeds: null,
    num_train_timesteps: null,
    out_channels: c.outChannels,
    resnet_time_scale_shift: 'default',
    sample_size:
      c.sampleSize === null ? null : c.sampleSize[0] === c.sampleSize[1] ? c.sampleSize[0] : c.sampleSize,
    time_embedding_dim: c.timeEmbeddingDim,
    time_embedding_type: 'positional',
    up_block_types: c.upBlockTypes,
    upsample_type: 'conv',
  };
}
