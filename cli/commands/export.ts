/**
 * `elbo export --checkpoint FILE --format diffusers --out DIR`: writes an elbo DDPM checkpoint as a diffusers
 * folder (config.json, diffusion_pytorch_model.safetensors, scheduler_config.json) that
 * `UNet2DModel.from_pretrained(DIR)` and `DDPMScheduler.from_pretrained(DIR)` load. Only checkpoints trained with
 * `--arch diffusers` export; for elbo's own UNet the error lists what has no diffusers equivalent.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { exportDiffusersFolder } from '../../src/interop/diffusers/export.js';
import { ensureWritableDir, writeFileAtomic } from '../io.js';
import { parseChoice } from '../options.js';
import { decodeCheckpointOrExplain } from '../trainLoop.js';
import { UserError } from '../userError.js';

interface ExportOptions {
  checkpoint: string;
  format: string;
  out: string;
  raw: boolean;
  overwrite: boolean;
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description("write a DDPM checkpoint in another library's format (diffusers: a UNet2DModel folder)")
    .requiredOption('--checkpoint <file>', 'a checkpoint written by `elbo train ddpm --arch diffusers`')
    .option('--format <name>', 'output format: diffusers', 'diffusers')
    .requiredOption('--out <dir>', 'output folder (created if needed)')
    .option(
      '--overwrite',
      'replace the files of an earlier export in --out (without it, they are refused)',
      false,
    )
    .option('--raw', 'export the raw weights instead of the EMA weights', false)
    .action((o: ExportOptions) => {
      parseChoice('--format', o.format, ['diffusers'] as const);
      const state = decodeCheckpointOrExplain(o.checkpoint, 'ddpm');
      let files: Map<string, Uint8Array>;
      try {
        files = exportDiffusersFolder(state, { ema: !o.raw });
      } catch (err) {
        throw new UserError(`${o.checkpoint}: ${(err as Error).message}`);
      }
      const existing = [...files.keys()].filter((name) => existsSync(join(o.out, name)));
      if (existing.length > 0 && !o.overwrite)
        throw new UserError(
          `${o.out} already holds ${existing.join(', ')}: choose another --out, or add --overwrite to replace them`,
        );
      ensureWritableDir(o.out);
      for (const [name, bytes] of files) {
        writeFileAtomic(join(o.out, name), bytes);
        process.stdout.write(`wrote ${join(o.out, name)}\n`);
      }
    });
}
