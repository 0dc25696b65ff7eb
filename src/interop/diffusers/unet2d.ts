/**
 * diffusers' `UNet2DModel` in elbo's engine: the same computation, layer for layer, on NHWC tensors, with
 * parameters named exactly as diffusers' state dict (`down_blocks.1.attentions.0.to_q.weight`, …), so a
 * `diffusion_pytorch_model.safetensors` loads by name (weights NCHW → NHWC by nn/torchLayout.ts).
 *
 * Source followed, huggingface/diffusers commit 58eb52c0803ea9af3abec60841c2a093bdf1f951:
 * `models/unets/unet_2d.py` (UNet2DModel.forward), `models/unets/unet_2d_blocks.py` (DownBlock2D, AttnDownBlock2D,
 * UNetMidBlock2D, UpBlock2D, AttnUpBlock2D), `models/resnet.py` (ResnetBlock2D), `models/downsampling.py`
 * (Downsample2D), `models/upsampling.py` (Upsample2D), `models/attention_processor.py` (Attention,
 * AttnProcessor2_0), `models/embeddings.py` (get_timestep_embedding, TimestepEmbedding).
 *
 * [Ho20] Ho, Jain, Abbeel 2020, arXiv:2006.11239v2 · [Vas17] Vaswani et al. 2017, arXiv:1706.03762v7
 */
import type { Rng } from '../../random/rng.js';
import { add, addPerImage, scale, silu } from '../../tensor/ops/elementwise.js';
import { bmm } from '../../tensor/ops/linalg.js';
import { sliceLastAxis } from '../../tensor/ops/pointwise.js';
import { concatChannels, padBottomRight, softmax, upsampleNearest2x } from '../../tensor/ops/shape.js';
import type { Context, Tensor } from '../../tensor/tensor.js';
import { Conv2d, GroupNorm, Linear } from '../../nn/layers.js';
import { collectParameters, type Module } from '../../nn/module.js';
import type { DiffusersUNetConfig } from './config.js';

/**
 * diffusers' sinusoidal timestep embedding (get_timestep_embedding with max_period 10000, scale 1):
 * f_i = exp(−ln(10000)·i/(half − freqShift)), i < half; e = [sin(t·f_i), cos(t·f_i)], or [cos, sin] with
 * flipSinToCos. diffusers computes it in float32 whatever the model's dtype; every rounding is reproduced here
 * (Math.fround), so the arguments of sin and cos — up to t·f_0 = 999 — carry the same float32 error as theirs.
 * @see [Vas17] §3.5; [Ho20] appendix B
 */
export function diffusersTimestepEmbedding(
  ctx: Context,
  t: ArrayLike<number>,
  dim: number,
  flipSinToCos: boolean,
  freqShift: number,
): Tensor {
  const half = Math.floor(dim / 2);
  const f32 = Math.fround;
  const freq = Array.from({ length: half }, (_, i) =>
    f32(Math.exp(f32(f32(f32(-Math.log(10000)) * i) / f32(half - freqShift)))),
  );
  const out = new Float32Array(t.length * dim); // an odd dim leaves its last entry 0, as diffusers pads
  for (let n = 0; n < t.length; n++) {
    for (let i = 0; i < half; i++) {
      const arg = f32(f32(t[n]) * freq[i]);
      const [first, second] = flipSinToCos ? [Math.cos(arg), Math.sin(arg)] : [Math.sin(arg), Math.cos(arg)];
      out[n * dim + i] = first;
      out[n * dim + half + i] = second;
    }
  }
  return ctx.fromArray(out, [t.length, dim]);
}

/** x / s (diffusers' output_scale_factor), skipped for s = 1. */
function divide(x: Tensor, s: number): Tensor {
  return s === 1 ? x : scale(x, 1 / s);
}

/**
 * ResnetBlock2D (time_embedding_norm "default", pre-norm, SiLU): h = conv1(SiLU(norm1(x))) + time_emb_proj(te),
 * h = conv2(SiLU(norm2(h))), out = (shortcut(x) + h)/outputScale; the shortcut is a 1×1 conv when widths differ.
 */
export class DiffusersResnet implements Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly timeEmbProj: Linear;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly convShortcut: Conv2d | null;
  constructor(
    ctx: Context,
    cin: number,
    cout: number,
    tembDim: number,
    groups: number,
    eps: number,
    readonly outputScale: number,
    rng: Rng,
  ) {
    this.norm1 = new GroupNorm(ctx, groups, cin, eps);
    this.conv1 = new Conv2d(ctx, cin, cout, 3, rng, 1, 1);
    this.timeEmbProj = new Linear(ctx, tembDim, cout, rng);
    this.norm2 = new GroupNorm(ctx, groups, cout, eps);
    this.conv2 = new Conv2d(ctx, cout, cout, 3, rng, 1, 1);
    this.convShortcut = cin !== cout ? new Conv2d(ctx, cin, cout, 1, rng) : null;
  }
  /** x [N, H, W, cin]; te = SiLU(time embedding) [N, tembDim] (the SiLU every block applies, computed once). */
  forward(x: Tensor, te: Tensor): Tensor {
    let h = this.conv1.forward(this.norm1.forwardSilu(x));
    h = addPerImage(h, this.timeEmbProj.forward(te));
    h = this.conv2.forward(this.norm2.forwardSilu(h));
    return divide(add(this.convShortcut ? this.convShortcut.forward(x) : x, h), this.outputScale);
  }
  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ['norm1', this.norm1],
      ['conv1', this.conv1],
      ['time_emb_proj', this.timeEmbProj],
      ['norm2', this.norm2],
      ['conv2', this.conv2],
      ['conv_shortcut', this.convShortcut],
    ]);
  }
}

/**
 * Attention as UNet2DModel's blocks build it (residual_connection, bias, group norm, from the deprecated attention
 * block): y = (x + to_out(MultiHead(GN(x))))/outputScale, heads of headDim channels, softmax(q kᵀ/√headDim) v per
 * head ([Vas17] eq. 1), the heads' outputs concatenated in order.
 */
export class DiffusersAttention implements Module {
  readonly groupNorm: GroupNorm;
  readonly toQ: Linear;
  readonly toK: Linear;
  readonly toV: Linear;
  readonly toOut: Linear;
  readonly heads: number;
  constructor(
    ctx: Context,
    readonly channels: number,
    readonly headDim: number,
    groups: number,
    eps: number,
    readonly outputScale: number,
    rng: Rng,
  ) {
    if (channels % headDim !== 0)
      throw new Error(`attention: ${headDim}-channel heads do not tile ${channels}`);
    this.heads = channels / headDim;
    this.groupNorm = new GroupNorm(ctx, groups, channels, eps);
    this.toQ = new Linear(ctx, channels, channels, rng);
    this.toK = new Linear(ctx, channels, channels, rng);
    this.toV = new Linear(ctx, channels, channels, rng);
    this.toOut = new Linear(ctx, channels, channels, rng);
  }
  /** x + toOut(softmax(QKᵀ/√d) V) over the H·W positions, per head, divided by the output scale. */
  forward(x: Tensor): Tensor {
    const ctx = x.ctx;
    const [N, H, W, C] = x.shape;
    const L = H * W;
    const d = this.headDim;
    const h = ctx.reshape(this.groupNorm.forward(x), [N * L, C]);
    const [q, k, v] = [this.toQ, this.toK, this.toV].map((p) => p.forward(h));
    let o: Tensor | null = null;
    for (let j = 0; j < this.heads; j++) {
      const part = (m: Tensor) =>
        ctx.reshape(this.heads === 1 ? m : sliceLastAxis(m, j * d, (j + 1) * d), [N, L, d]);
      const attn = softmax(bmm(part(q), part(k), false, true), 1 / Math.sqrt(d)); // [N, L, L]
      const oj = ctx.reshape(bmm(attn, part(v)), [N * L, d]);
      o = o ? concatChannels(o, oj) : oj;
    }
    return divide(add(x, ctx.reshape(this.toOut.forward(o!), [N, H, W, C])), this.outputScale);
  }
  namedParameters(prefix?: string): [string, Tensor][] {
    return collectParameters(prefix, [
      ['group_norm', this.groupNorm],
      ['to_q', this.toQ],
      ['to_k', this.toK],
      ['to_v', this.toV],
      ['to_out.0', this.toOut],
    ]);
  }
}

/** A down or up block: resnets, each followed by an attention layer in the Attn* blocks, then an optional resampler. */
/** One resolution level of the down or up path: its resnets, attentions and resampler. */
export interface Block {
  resnets: DiffusersResnet[];
  attentions: DiffusersAttention[] | null;
  /** Down: the stride-2 conv (Downsample2D "conv"); up: the conv after nearest ×2 upsampling (Upsample2D). */
  sampler: Conv2d | null;
}

function blockParameters(prefix: string, b: Block, samplerName: string): [string, Module | null][] {
  return [
    ...b.resnets.map((r, j): [string, Module] => [`${prefix}.resnets.${j}`, r]),
    ...(b.attentions ?? []).map((a, j): [string, Module] => [`${prefix}.attentions.${j}`, a]),
    [`${prefix}.${samplerName}.0.conv`, b.sampler],
  ];
}

/**
 * UNet2DModel: conv_in; the time embedding MLP (linear_1 → SiLU → linear_2) of the sinusoidal embedding; down
 * blocks whose every resnet (+ attention) output and downsampler output is kept as a skip (after conv_in's); the
 * mid block (resnet, attention, resnet); up blocks of layers_per_block + 1 resnets, each taking the last skip
 * concatenated to its input; GroupNorm → SiLU → conv_out. Input and output NHWC: [N, H, W, inChannels] →
 * [N, H, W, outChannels]; H and W must halve evenly at every downsampling (diffusers upsamples by exactly 2).
 */
export class DiffusersUNet2D implements Module {
  readonly convIn: Conv2d;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly down: Block[] = [];
  readonly mid: { resnets: DiffusersResnet[]; attention: DiffusersAttention | null } | null;
  readonly up: Block[] = [];
  readonly convNormOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(
    ctx: Context,
    readonly config: DiffusersUNetConfig,
    rng: Rng,
  ) {
    const c = config;
    const ch = c.blockOutChannels;
    const levels = ch.length;
    const tembDim = c.timeEmbeddingDim ?? 4 * ch[0];
    const [groups, eps] = [c.normNumGroups, c.normEps];
    const head = (channels: number) => c.attentionHeadDim ?? channels;
    const resnet = (cin: number, cout: number, s = 1) =>
      new DiffusersResnet(ctx, cin, cout, tembDim, groups, eps, s, rng);
    const attention = (channels: number, g = groups, s = 1) =>
      new DiffusersAttention(ctx, channels, head(channels), g, eps, s, rng);
    this.convIn = new Conv2d(ctx, c.inChannels, ch[0], 3, rng, 1, 1);
    this.linear1 = new Linear(ctx, ch[0], tembDim, rng);
    this.linear2 = new Linear(ctx, tembDim, tembDim, rng);
    let out = ch[0];
    for (let i = 0; i < levels; i++) {
      const cin = out;
      out = ch[i];
      const n = c.layersPerBlock;
      this.down.push({
        resnets: Array.from({ length: n }, (_, j) => resnet(j === 0 ? cin : out, out)),
        attentions:
          c.downBlockTypes[i] === 'AttnDownBlock2D' ? Array.from({ length: n }, () => attention(out)) : null,
        sampler: i < levels - 1 ? new Conv2d(ctx, out, out, 3, rng, 2, c.downsamplePadding) : null,
      });
    }
    const bottom = ch[levels - 1];
    const s = c.midBlockScaleFactor;
    this.mid = c.midBlock
      ? {
          resnets: [resnet(bottom, bottom, s), resnet(bottom, bottom, s)],
          attention: c.addAttention ? attention(bottom, c.attnNormNumGroups ?? groups, s) : null,
        }
      : null;
    const rev = [...ch].reverse();
    out = rev[0];
    for (let i = 0; i < levels; i++) {
      const prev = out;
      out = rev[i];
      const skipIn = rev[Math.min(i + 1, levels - 1)];
      const n = c.layersPerBlock + 1;
      this.up.push({
        resnets: Array.from({ length: n }, (_, j) =>
          resnet((j === 0 ? prev : out) + (j === n - 1 ? skipIn : out), out),
        ),
        attentions:
          c.upBlockTypes[i] === 'AttnUpBlock2D' ? Array.from({ length: n }, () => attention(out)) : null,
        sampler: i < levels - 1 ? new Conv2d(ctx, out, out, 3, rng, 1, 1) : null,
      });
    }
    this.convNormOut = new GroupNorm(ctx, groups, ch[0], eps);
    this.convOut = new Conv2d(ctx, ch[0], c.outChannels, 3, rng, 1, 1);
  }

  /** The network's output [N, H, W, outChannels] for x [N, H, W, inChannels] at timesteps t (one per image). */
  forward(x: Tensor, t: ArrayLike<number>): Tensor {
    const ctx = x.ctx;
    const c = this.config;
    const [, H, W] = x.shape;
    const factor = 2 ** (c.blockOutChannels.length - 1);
    if (H % factor !== 0 || W % factor !== 0)
      throw new Error(
        `diffusers UNet2DModel: a ${H}×${W} input does not halve evenly ${c.blockOutChannels.length - 1} times ` +
          `(sides must be multiples of ${factor})`,
      );
    // Without a backward to come, every block's intermediates are freed as soon as it returns.
    const recording = ctx.willRecord([this.convIn.weight]);
    const step = (f: () => Tensor): Tensor => (recording ? f() : ctx.scope(f));
    if (c.centerInputSample) x = add(scale(x, 2), ctx.full(x.shape, -1));
    const emb = diffusersTimestepEmbedding(ctx, t, c.blockOutChannels[0], c.flipSinToCos, c.freqShift);
    const te = silu(this.linear2.forward(silu(this.linear1.forward(emb))));
    let h = this.convIn.forward(x);
    const skips: Tensor[] = [h];
    const resnetAttention = (b: Block, j: number, input: Tensor) =>
      step(() => {
        const r = b.resnets[j].forward(input, te);
        return b.attentions ? b.attentions[j].forward(r) : r;
      });
    for (const b of this.down) {
      for (let j = 0; j < b.resnets.length; j++) {
        h = resnetAttention(b, j, h);
        skips.push(h);
      }
      if (b.sampler) {
        const conv = b.sampler;
        const input = h;
        h = step(() => conv.forward(c.downsamplePadding === 0 ? padBottomRight(input, 1, 1) : input));
        skips.push(h);
      }
    }
    if (this.mid) {
      const { resnets, attention } = this.mid;
      const input = h;
      h = step(() => {
        const r = resnets[0].forward(input, te);
        return resnets[1].forward(attention ? attention.forward(r) : r, te);
      });
    }
    for (const b of this.up) {
      for (let j = 0; j < b.resnets.length; j++) h = resnetAttention(b, j, concatChannels(h, skips.pop()!));
      if (b.sampler) {
        const conv = b.sampler;
        const input = h;
        h = step(() => conv.forward(upsampleNearest2x(input)));
      }
    }
    return this.convOut.forward(this.convNormOut.forwardSilu(h));
  }

  namedParameters(prefix?: string): [string, Tensor][] {
    const entries: [string, Module | null][] = [
      ['conv_in', this.convIn],
      ['time_embedding.linear_1', this.linear1],
      ['time_embedding.linear_2', this.linear2],
    ];
    this.down.forEach((b, i) => entries.push(...blockParameters(`down_blocks.${i}`, b, 'downsamplers')));
    this.up.forEach((b, i) => entries.push(...blockParameters(`up_blocks.${i}`, b, 'upsamplers')));
    if (this.mid) {
      entries.push(['mid_block.attentions.0', this.mid.attention]);
      this.mid.resnets.forEach((r, j) => entries.push([`mid_block.resnets.${j}`, r]));
    }
    entries.push(['conv_norm_out', this.convNormOut], ['conv_out', this.convOut]);
    return collectParameters(prefix, entries);
  }
}
