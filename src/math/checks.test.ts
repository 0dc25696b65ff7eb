import { describe, expect, it } from 'vitest';
import { allClose, assertAllClose, assertNever, assertTimestep, compareClose } from './checks.js';

describe('allClose', () => {
  it('uses |a − b| ≤ atol + rtol·|b| and reports the worst element', () => {
    expect(allClose([1, 2], [1, 2 + 1e-13], { rtol: 1e-12 })).toBe(true);
    expect(allClose([1, 2], [1, 2 + 1e-11], { rtol: 1e-12 })).toBe(false);
    expect(allClose(0, 1e-20)).toBe(false);
    expect(allClose(0, 1e-20, { atol: 1e-19 })).toBe(true);
    const r = compareClose([1, 5, 3], [1, 4, 3.5], { rtol: 0, atol: 0.1 });
    expect(r.ok).toBe(false);
    expect(r.index).toBe(1);
  });

  it('treats equal infinities as equal and NaN or opposite infinities as different', () => {
    expect(allClose([Infinity, -Infinity], [Infinity, -Infinity])).toBe(true);
    expect(allClose(Infinity, -Infinity, { rtol: 1 })).toBe(false);
    expect(allClose(1, Infinity, { rtol: 1 })).toBe(false);
    expect(allClose(NaN, NaN)).toBe(false);
  });

  it('assertAllClose throws a message naming the index and values', () => {
    expect(() => assertAllClose([0, 1], [0, 2], {}, 'xs')).toThrow(
      /xs not close at index 1: actual 1, expected 2/,
    );
    expect(() => compareClose([1], [1, 2])).toThrow(/length 1, expected has length 2/);
  });
});

describe('assertNever and assertTimestep', () => {
  it('throw with the offending value', () => {
    expect(() => assertNever('foo' as never, 'schedule')).toThrow(/unexpected schedule: "foo"/);
    expect(() => assertTimestep(10, 10)).toThrow(/integer in \[0, 9\].*got 10/);
    expect(() => assertTimestep(-1, 10)).toThrow(/got -1/);
    expect(() => assertTimestep(0.5, 10)).toThrow(/got 0.5/);
    expect(() => assertTimestep(9, 10)).not.toThrow();
  });
});
