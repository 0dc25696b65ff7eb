/**
 * The fuzz suite in `npm test` (issue 19): a few hundred seeded mutations per target (test/fuzz/targets.ts);
 * every case must end in a clean one-line error or a valid result — no crash, no hang (> 5 s or > 1 GB), no
 * silent acceptance of a certainly invalid input, no changed file. `npm run fuzz` runs thousands.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatTallies, type FuzzTarget, runTarget } from './fuzz/harness.js';
import type { Mutant } from './fuzz/mutations.js';
import { createFuzzFixture, fuzzTargets } from './fuzz/targets.js';

const fixture = await createFuzzFixture();
afterAll(() => fixture.dispose());

describe('the fuzz harness', () => {
  it('counts crashes, silent acceptances, multi-line errors and valid results as such', async () => {
    const inputs = fc.constantFrom<Mutant>(
      { bytes: Uint8Array.of(0), what: 'crash', mustFail: false },
      { bytes: Uint8Array.of(1), what: 'accepted invalid', mustFail: true },
      { bytes: Uint8Array.of(2), what: 'two lines', mustFail: false },
      { bytes: Uint8Array.of(3), what: 'fine', mustFail: false },
      { bytes: Uint8Array.of(4), what: 'refused', mustFail: true },
    );
    const seen = [0, 0, 0, 0, 0];
    const target: FuzzTarget = {
      name: 'fake',
      inputs,
      isCleanError: (err) => err instanceof RangeError,
      run(m) {
        seen[m.bytes[0]]++;
        if (m.bytes[0] === 0) throw new TypeError('boom');
        if (m.bytes[0] === 2) throw new RangeError('one\ntwo');
        if (m.bytes[0] === 4) throw new RangeError('refused');
        return { kind: 'valid' };
      },
    };
    const t = await runTarget(target, 200, 1);
    expect(t.cases).toBe(200);
    expect(seen.every((n) => n > 0)).toBe(true);
    expect(t.crashes).toBe(seen[0] + seen[2]);
    expect(t.silentAcceptances).toBe(seen[1]);
    expect(t.valid).toBe(seen[3]);
    expect(t.cleanErrors).toBe(seen[4]);
    expect(t.problems[0]).toMatch(/uncaught TypeError: boom|not a one-line message|silent acceptance/);
  });
});

describe('fuzz (seeded)', () => {
  for (const target of fuzzTargets(fixture, false)) {
    it(target.name, async () => {
      const t = await runTarget(target, 300, 19);
      console.info(formatTallies([t]));
      expect(t.problems).toEqual([]);
      expect([t.crashes, t.hangs, t.silentAcceptances]).toEqual([0, 0, 0]);
      // The mutations reach both sides: some inputs are refused, some accepted.
      expect(t.cleanErrors).toBeGreaterThan(0);
      expect(t.valid).toBeGreaterThan(0);
    });
  }
});
