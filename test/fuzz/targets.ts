/**
 * The fuzz targets: the safetensors reader, training-checkpoint and classifier decoding, the IDX reader, the PNG
 * folder reader, and the CLI's `sample`, `eval` (DDPM and VAE) and `train --resume` paths (in-process through cli/main.ts, output
 * captured) on mutated checkpoints. Seeds: a tiny DDPM (an MLP on two moons, 2 steps) and a tiny VAE (an MLP on a
 * folder of 160 8×8 PNGs, 2 steps) made here with the trainers, a tiny classifier, and the shipped checkpoints
 * (`full`: also the 18 MB DDPM and the VAE).
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadPngFolder } from '../../cli/data.js';
import { main } from '../../cli/main.js';
import { encodePng } from '../../cli/png.js';
import { openTrainingData } from '../../cli/trainingData.js';
import { UserError } from '../../cli/userError.js';
import { createNodeEngine } from '../../node/engine.js';
import { FormatError } from '../../src/checkpoint/formatError.js';
import { decodeSafetensors } from '../../src/checkpoint/safetensors.js';
import { imageDatasetFromIdx } from '../../src/data/mnist.js';
import { encodeIdx, parseIdx } from '../../src/data/idx.js';
import { Classifier, decodeClassifier, encodeClassifier } from '../../src/eval/classifier.js';
import { disposeModule } from '../../src/nn/module.js';
import { Rng } from '../../src/random/rng.js';
import { Context } from '../../src/tensor/tensor.js';
import { decodeTrainingState, encodeTrainingState } from '../../src/train/checkpoint.js';
import { DdpmTrainer } from '../../src/train/ddpm.js';
import { BURDA_MNIST_VAE } from '../../src/vae/config.js';
import { VaeTrainer } from '../../src/vae/trainer.js';
import { TINY_MOONS_DDPM } from '../helpers/tinyDdpm.js';
import type { FuzzTarget, RunResult } from './harness.js';
import {
  type Mutant,
  mutateBytes,
  mutateCheckpoint,
  mutatePngHeader,
  mutateSafetensorsBytes,
} from './mutations.js';

const REPO_ROOT = new URL('../..', import.meta.url).pathname.replace(/\/dist\/$/, '/');
const shipped = (name: string) => new Uint8Array(readFileSync(join(REPO_ROOT, 'checkpoints', name)));
const isFormatError = (err: unknown) => err instanceof FormatError;

/** The engine, the temporary folder and the seed files the targets share; `dispose` when done. */
export interface FuzzFixture {
  ctx: Context;
  dir: string;
  ddpm: Uint8Array;
  vae: Uint8Array;
  classifier: Uint8Array;
  pngFolder: string;
  dispose(): void;
}

/** Eight-by-eight grey PNGs: a bright bar at a position that depends on i. */
function barPng(i: number): Uint8Array {
  const pixels = new Uint8Array(64);
  for (let k = 0; k < 8; k++) pixels[(i % 8) * 8 + k] = 255;
  return new Uint8Array(encodePng(8, 8, 1, pixels));
}

export async function createFuzzFixture(): Promise<FuzzFixture> {
  const engine = await createNodeEngine({ threads: 1 });
  const ctx = new Context(engine);
  const dir = mkdtempSync(join(tmpdir(), 'elbo-fuzz-'));
  const pngFolder = join(dir, 'bars');
  mkdirSync(pngFolder);
  // 160 images: every 10th is held out, and the VAE's pictures need 16 held-out images.
  for (let i = 0; i < 160; i++)
    writeFileSync(join(pngFolder, `${String(i).padStart(3, '0')}.png`), barPng(i));

  const moons = openTrainingData('two-moons', 1);
  const ddpmTrainer = new DdpmTrainer(ctx, TINY_MOONS_DDPM, moons.source);
  ddpmTrainer.trainStep();
  ddpmTrainer.trainStep();
  const ddpm = encodeTrainingState(ddpmTrainer.exportState());
  ddpmTrainer.dispose();

  const bars = openTrainingData(pngFolder, 2);
  const vaeTrainer = new VaeTrainer(
    ctx,
    {
      ...BURDA_MNIST_VAE,
      dataset: pngFolder,
      dataShape: bars.shape,
      latentDim: 2,
      architecture: { kind: 'mlp', hidden: [8], activation: 'tanh' },
      batchSize: 4,
    },
    bars.source,
  );
  vaeTrainer.trainStep();
  vaeTrainer.trainStep();
  const vae = encodeTrainingState(vaeTrainer.exportState());
  vaeTrainer.dispose();

  const cls = new Classifier(
    ctx,
    { height: 8, width: 8, imageChannels: 1, channels: [4], hidden: 8, classes: 3 },
    Rng.fromSeed(3),
  );
  const classifier = encodeClassifier(cls, { testAccuracy: 0.5, dataset: 'x', command: 'c', seconds: 1 });
  disposeModule(cls);
  return {
    ctx,
    dir,
    ddpm,
    vae,
    classifier,
    pngFolder,
    dispose() {
      engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the CLI in-process with its output captured: the exit code, or the exception it let through. */
async function runCli(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await main(args), stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** A file's bytes, or null when it does not exist. */
function snapshot(path: string): Buffer | null {
  return existsSync(path) ? readFileSync(path) : null;
}

/**
 * A CLI target: writes the mutant as a checkpoint, runs the command with --out a fresh folder holding one
 * pre-existing file, and checks that the checkpoint and that file are unchanged, that an error is exit code 2
 * with one `elbo: ` line, and that a refused run wrote nothing.
 */
function cliTarget(
  fx: FuzzFixture,
  name: string,
  seeds: Uint8Array[],
  args: (checkpoint: string, out: string) => string[],
  mustRefuse: (m: Mutant) => boolean,
  checkValid?: (out: string) => string | null,
): FuzzTarget {
  let n = 0;
  return {
    name,
    inputs: fc.oneof(mutateCheckpoint(seeds), mutateSafetensorsBytes(seeds)),
    mustRefuse,
    async run(m: Mutant): Promise<RunResult> {
      const caseDir = join(fx.dir, `${name}-${n++}`);
      mkdirSync(caseDir);
      const checkpoint = join(caseDir, 'input.safetensors');
      writeFileSync(checkpoint, m.bytes);
      const out = join(caseDir, 'out');
      mkdirSync(out);
      writeFileSync(join(out, 'keep.txt'), 'existing file');
      try {
        const r = await runCli(args(checkpoint, out));
        const input = snapshot(checkpoint);
        if (input === null || !input.equals(m.bytes))
          return { kind: 'crash', message: 'the input checkpoint changed' };
        if (snapshot(join(out, 'keep.txt'))?.toString() !== 'existing file')
          return { kind: 'crash', message: 'a pre-existing file in --out changed' };
        if (r.code === 0) {
          const bad = checkValid?.(out) ?? null;
          return bad === null ? { kind: 'valid' } : { kind: 'crash', message: bad };
        }
        // Notes such as "resuming … at step 2" may come first; the error is the last line, the only `elbo: ` one.
        const lines = r.stderr.trim().split('\n');
        const line = lines[lines.length - 1];
        const errorLines = lines.filter((l) => l.startsWith('elbo: ')).length;
        if (r.code !== 2 || !line.startsWith('elbo: ') || errorLines !== 1)
          return {
            kind: 'crash',
            message: `exit ${r.code}, stderr ${JSON.stringify(r.stderr.slice(0, 300))}`,
          };
        const written = readdirSync(out).filter((f) => f !== 'keep.txt');
        if (written.length > 0) return { kind: 'crash', message: `refused, yet wrote ${written.join(', ')}` };
        return { kind: 'clean-error', message: line };
      } finally {
        rmSync(caseDir, { recursive: true, force: true });
      }
    },
  };
}

export function fuzzTargets(fx: FuzzFixture, full: boolean): FuzzTarget[] {
  const trainingSeeds = [
    fx.ddpm,
    fx.vae,
    ...(full ? [shipped('mnist-vae.safetensors'), shipped('mnist-ddpm.safetensors')] : []),
  ];
  const classifierSeeds = [fx.classifier, shipped('mnist-classifier.safetensors')];
  const images = encodeIdx(
    [5, 4, 3],
    Uint8Array.from({ length: 60 }, (_, i) => (i * 37) % 256),
  );
  const labels = encodeIdx([5], Uint8Array.of(0, 1, 2, 1, 0));
  const pngs = [barPng(1), barPng(2)];
  const folder = join(fx.dir, 'png-target');
  mkdirSync(folder);
  for (let i = 1; i < 4; i++) writeFileSync(join(folder, `b${i}.png`), barPng(i));

  return [
    {
      name: 'safetensors reader',
      inputs: mutateSafetensorsBytes([...trainingSeeds, ...classifierSeeds]),
      isCleanError: isFormatError,
      run(m) {
        const { tensors } = decodeSafetensors(m.bytes);
        for (const [name, t] of Object.entries(tensors)) {
          const size = t.shape.reduce((a, b) => a * b, 1);
          if (t.data.length !== size)
            return {
              kind: 'crash',
              message: `tensor ${name}: ${t.data.length} values for shape [${t.shape}]`,
            };
        }
        return { kind: 'valid' };
      },
    },
    {
      name: 'checkpoint decoding',
      inputs: fc.oneof(mutateCheckpoint(trainingSeeds), mutateSafetensorsBytes(trainingSeeds)),
      isCleanError: isFormatError,
      // Decoding checks the weights against a lower bound only; the exact tensor set is checked on restore.
      mustRefuse: (m) => m.invalidKind !== 'dropped-weight' && m.invalidKind !== 'dropped-adam',
      run(m) {
        const state = decodeTrainingState(m.bytes);
        const again = decodeTrainingState(encodeTrainingState(state));
        if (JSON.stringify(again.meta) !== JSON.stringify(state.meta))
          return { kind: 'crash', message: 'the decoded metadata does not survive re-encoding' };
        return { kind: 'valid' };
      },
    },
    {
      name: 'classifier decoding',
      inputs: fc.oneof(mutateCheckpoint(classifierSeeds), mutateSafetensorsBytes(classifierSeeds)),
      isCleanError: isFormatError,
      run(m) {
        disposeModule(decodeClassifier(fx.ctx, m.bytes).model);
        return { kind: 'valid' };
      },
    },
    {
      name: 'IDX reader',
      inputs: mutateBytes([images, labels]),
      isCleanError: isFormatError,
      run(m) {
        // Whichever file the mutant came from, read it together with the other one.
        const labelFile = parseIdx(m.bytes).dims.length === 1;
        const d = labelFile
          ? imageDatasetFromIdx(images, m.bytes, { name: 'x' })
          : imageDatasetFromIdx(m.bytes, labels, { name: 'x' });
        if (d.images.length !== d.count * d.height * d.width * d.channels)
          return { kind: 'crash', message: 'image count' };
        return { kind: 'valid' };
      },
    },
    {
      name: 'PNG folder reader',
      inputs: fc.oneof(mutateBytes(pngs), mutatePngHeader(pngs)),
      isCleanError: (err) => err instanceof UserError,
      run(m) {
        writeFileSync(join(folder, 'a.png'), m.bytes);
        const { train, test } = loadPngFolder(folder);
        if (train.count + test.count !== 4) return { kind: 'crash', message: 'image count' };
        return { kind: 'valid' };
      },
    },
    cliTarget(
      fx,
      'cli sample',
      [fx.ddpm, fx.vae],
      (c, out) => ['sample', '--checkpoint', c, '--n', '2', '--threads', '1', '--out', out],
      // Sampling needs no Adam state.
      (m) => m.invalidKind !== 'dropped-adam',
      (out) =>
        readdirSync(out).some((f) => f.startsWith('samples.')) ? null : 'exit 0 but no samples written',
    ),
    cliTarget(
      fx,
      'cli eval',
      [fx.ddpm],
      (c, out) => [
        'eval',
        '--checkpoint',
        c,
        '--nll-n',
        '2',
        '--nll-terms',
        '1',
        '--samples',
        '2',
        '--steps',
        '2',
        '--threads',
        '1',
        '--json',
        '--out',
        out,
      ],
      (m) => m.invalidKind !== 'dropped-adam',
    ),
    cliTarget(
      fx,
      'cli eval (VAE)',
      [fx.vae],
      (c) => ['eval', '--checkpoint', c, '--k', '2', '--n', '2', '--threads', '1', '--json'],
      (m) => m.invalidKind !== 'dropped-adam',
    ),
    cliTarget(
      fx,
      'cli train --resume',
      [fx.ddpm, fx.vae],
      (c, out) => {
        const kind = readFileSync(c).includes('"kind":"vae"') ? 'vae' : 'ddpm';
        return ['train', kind, '--resume', c, '--steps', '3', '--threads', '1', '--out', out];
      },
      () => true,
      (out) =>
        existsSync(join(out, 'checkpoint.safetensors'))
          ? null
          : 'exit 0 but no checkpoint.safetensors written',
    ),
  ];
}
