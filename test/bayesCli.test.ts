/**
 * `elbo demo bayes` and `elbo demo kl` end to end (the compiled CLI: `npm run build` first), with small
 * settings: they exit 0, print value ± error tables and write their SVG figures; a bad option exits 2.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runElbo } from './helpers/cli.js';

const elbo = (...args: string[]) => runElbo(args, 60_000);

describe('elbo demo bayes / kl', () => {
  it('demo bayes writes the six figures and prints exact, VI and MCMC rows with error bars', () => {
    const out = mkdtempSync(join(tmpdir(), 'elbo-bayes-'));
    const r = elbo('demo', 'bayes', '--vi-steps', '300', '--mcmc-steps', '500', '--mc', '2000', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    for (const f of [
      'beta-bernoulli',
      'normal-normal',
      'regression-posterior',
      'regression-marginal-w0',
      'regression-marginal-w1',
      'regression-predictive',
    ]) {
      expect(existsSync(join(out, `${f}.svg`)), f).toBe(true);
      expect(readFileSync(join(out, `${f}.svg`), 'utf8')).toMatch(/^<svg[^]*<\/svg>\n$/);
    }
    expect(r.stdout).toMatch(/Beta–Bernoulli: prior Beta\(1, 1\)/);
    expect(r.stdout).toMatch(/VI: reparameterised ELBO \+ Adam/);
    expect(r.stdout).toMatch(/HMC \(500 draws\)\s+-?\d+\.\d+ ± \d+\.\d+/);
  });

  it('demo kl prints both fits with Monte Carlo errors and writes kl-fits.svg; a bad option exits 2', () => {
    const out = mkdtempSync(join(tmpdir(), 'elbo-kl-'));
    const r = elbo('demo', 'kl', '--samples', '2000', '--steps', '300', '--restarts', '2', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, 'kl-fits.svg'))).toBe(true);
    expect(r.stdout).toMatch(/forward KL = max\. likelihood \(2000 samples\)\s+-?\d+\.\d+ ± \d/);
    expect(r.stdout).toMatch(/reverse KL from N\(0, 1\) \(2 runs\)\s+\d+\.\d+ ± \d/);
    const bad = elbo('demo', 'kl', '--restarts', '1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--restarts must be ≥ 2/);
  });
});
