/**
 * The examples in examples/ run as a user runs them (compiled to dist/examples/ by `npm run build`, importing
 * the package by its name 'elbo'), each on small settings, and their printed results are checked against
 * closed forms or stated bounds. The README's example code blocks must equal these files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/index.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** Runs dist/examples/NAME.js with arguments from the repository root; returns its stdout. */
function runExample(name: string, args: string[] = []): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/examples', `${name}.js`), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`${name} exited with ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The first number after `label` in `text`. */
function numberAfter(text: string, label: string): number {
  const i = text.indexOf(label);
  expect(i, `"${label}" in the output`).toBeGreaterThanOrEqual(0);
  const m = /-?\d+(\.\d+)?/.exec(text.slice(i + label.length));
  expect(m).not.toBeNull();
  return Number(m![0]);
}

describe('examples', () => {
  it('bayes: the coin posterior Beta(8, 4) and its predictive 8/12; the normal posterior in closed form', () => {
    const out = runExample('bayes');
    expect(out).toContain('coin: Beta(8, 4)');
    expect(numberAfter(out, 'P(next throw is heads | data) =')).toBe(0.6667);
    // Prior N(0, 10), σ² = 1, n = 4, Σx = 8.3: τ² = 1/(0.1 + 4) = 0.24390, μ = τ²·8.3 = 2.02439.
    expect(numberAfter(out, 'mean: N(')).toBe(2.024);
    expect(numberAfter(out, 'mean: N(2.024,')).toBe(0.2439);
  });

  it('kl-fit: the forward fit matches the mixture moments, the reverse fit sits on the right-hand mode', () => {
    const out = runExample('kl-fit', ['2000']);
    // Moments of 0.4 N(−2.5, 0.6²) + 0.6 N(2, 0.8²): mean 0.2, std 2.3212 (100,000 samples: SE ≈ 0.007).
    expect(Math.abs(numberAfter(out, 'forward KL fit: mean') - 0.2)).toBeLessThan(0.03);
    expect(Math.abs(numberAfter(out, ', std') - 2.3212)).toBeLessThan(0.03);
    // Started at 0 the reverse fit goes to the heavier mode at 2 (std 0.8), not between the modes.
    const reverse = out.slice(out.indexOf('reverse'));
    expect(Math.abs(numberAfter(reverse, 'mean') - 2)).toBeLessThan(0.1);
    expect(Math.abs(numberAfter(reverse, 'std') - 0.8)).toBeLessThan(0.1);
  });

  it('sample-mnist: three 28×28 digits from the shipped model, every one with ink', () => {
    const lines = runExample('sample-mnist', ['10']).trimEnd().split('\n');
    expect(lines).toHaveLength(15);
    expect(lines.pop()).toBe('21000 training steps, 10 network calls per digit');
    for (const line of lines) expect(line).toMatch(/^[#.]{28} {3}[#.]{28} {3}[#.]{28}$/);
    for (let d = 0; d < 3; d++) {
      const ink = lines.map((l) => l.slice(d * 31, d * 31 + 28)).join('');
      const share = [...ink].filter((c) => c === '#').length / ink.length;
      expect(share).toBeGreaterThan(0.03); // a digit, not a blank
      expect(share).toBeLessThan(0.5); // not noise
    }
  });

  it('train-2d: 3,000 steps; the checkpoint round trip samples the same points; within 2× the noise floor', () => {
    const out = runExample('train-2d', ['3000']);
    expect(out).toContain('restored samples identical');
    const distance = numberAfter(out, 'fresh data');
    const floor = numberAfter(out, 'noise floor');
    expect(distance).toBeLessThan(2 * floor);
  });

  it('digit-bound: the first test digit (a 7); the total is the sum of the printed terms', () => {
    const out = runExample('digit-bound', ['20']);
    expect(out).toMatch(/^digit 7:/);
    const total = numberAfter(out, 'digit 7:');
    const parts = [numberAfter(out, 'L_T'), numberAfter(out, 'L_{t−1}'), numberAfter(out, 'L_0')];
    expect(Math.abs(parts[0] + parts[1] + parts[2] - total)).toBeLessThan(3e-4); // 4-decimal rounding
    expect(parts[0]).toBeLessThan(1e-3); // KL(q(x_T|x0) ‖ N(0, I)) with ᾱ_T ≈ 4e-5: ~1e-5 bits/dim
    expect(parts[2]).toBeGreaterThan(0); // −log of a probability below 1
  });

  describe('vae-png', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbo-vae-png-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('fits 16 8×8 PNG images of bars below the 44.4 nats of a uniform model; NLL ≤ −ELBO', () => {
      // Each image: one random horizontal or vertical white bar on black (grey PNG, colour type 0).
      const rng = Rng.fromSeed(0);
      for (let i = 0; i < 16; i++) {
        const png = new PNG({ width: 8, height: 8, colorType: 0, inputColorType: 0, inputHasAlpha: false });
        const pixels = Buffer.alloc(64);
        const k = rng.int(8);
        const vertical = rng.int(2) === 1;
        for (let j = 0; j < 8; j++) pixels[vertical ? j * 8 + k : k * 8 + j] = 255;
        png.data = pixels;
        writeFileSync(
          join(dir, `bar${i}.png`),
          PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }),
        );
      }
      const out = runExample('vae-png', [dir, '300']);
      expect(out).toContain('16 images 8×8, 300 steps');
      const negElbo = numberAfter(out, '−ELBO');
      const nll = numberAfter(out, 'IWAE NLL (k = 100)');
      expect(negElbo).toBeLessThan(64 * Math.LN2); // 64 pixels each Bernoulli(1/2): 44.36 nats
      expect(nll).toBeGreaterThan(0);
      expect(nll).toBeLessThanOrEqual(negElbo + 0.5); // L_k ≥ ELBO up to Monte Carlo error
    });
  });

  it("the README's example code blocks are the files in examples/", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/<!-- example: (examples\/[\w-]+\.ts) -->\n+```ts\n([\s\S]*?)```/g)];
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    for (const [, file, code] of blocks) expect(code, file).toBe(readFileSync(join(ROOT, file), 'utf8'));
  });
});
