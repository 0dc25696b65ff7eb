/** Test helpers for the compiled command line (`npm run build` first, as `npm test` does). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const REPO_ROOT = new URL('../..', import.meta.url).pathname;

/** What a finished `elbo` process left: its exit code (−1 when the timeout killed it) and its output. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/elbo.js ...args` from the repository root and waits for it. */
export function runElbo(args: readonly string[], timeoutMs = 120_000): CliResult {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/elbo.js'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `elbo train ddpm` arguments for a tiny UNet on MNIST (batch 8, channels 8,16, T = 50, 2 threads). */
export const TINY_MNIST_TRAIN_ARGS: readonly string[] = [
  '--data',
  'mnist',
  '--batch',
  '8',
  '--channels',
  '8,16',
  '--diffusion-steps',
  '50',
  '--threads',
  '2',
];
