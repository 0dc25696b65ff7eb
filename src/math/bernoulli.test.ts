import { describe, expect, it } from 'vitest';
import {
  bernoulliLogProb,
  bernoulliLogProbFromProbs,
  bernoulliLogProbFromProbsSum,
  bernoulliLogProbSum,
} from './bernoulli.js';
import { assertAllClose } from './checks.js';

describe('Bernoulli log-likelihood', () => {
  it('equals x log σ(l) + (1 − x) log(1 − σ(l)) for moderate logits (1e-13 relative)', () => {
    for (const l of [-5, -1.3, -0.2, 0, 0.7, 2, 5]) {
      const p = 1 / (1 + Math.exp(-l));
      for (const x of [0, 1, 0.3]) {
        const direct = x * Math.log(p) + (1 - x) * Math.log(1 - p);
        assertAllClose(bernoulliLogProb(x, l), direct, { rtol: 1e-13, atol: 1e-16 }, `x=${x}, l=${l}`);
      }
    }
    // mpmath 1.3.0 (50 digits): 0.3·2.5 − log(1 + e^{2.5})
    assertAllClose(bernoulliLogProb(0.3, 2.5), -1.8288897342925496, { rtol: 1e-15 });
  });

  it('is finite and exact for logits ±100, where the direct formula gives −∞ or 0', () => {
    // mpmath: −log1p(e^{−100}) = −3.720075976020836e-44
    assertAllClose(bernoulliLogProb(1, 100), -3.720075976020836e-44, { rtol: 1e-15 });
    assertAllClose(bernoulliLogProb(0, -100), -3.720075976020836e-44, { rtol: 1e-15 });
    assertAllClose(bernoulliLogProb(0, 100), -100, { rtol: 1e-15 });
    assertAllClose(bernoulliLogProb(1, -100), -100, { rtol: 1e-15 });
    const p = 1 / (1 + Math.exp(-100)); // rounds to exactly 1
    expect(Math.log(1 - p)).toBe(-Infinity);
  });

  it('the probability variant agrees with the logit one and handles p ∈ {0, 1}', () => {
    for (const l of [-4, -0.5, 0, 1.5, 4]) {
      const p = 1 / (1 + Math.exp(-l));
      for (const x of [0, 1, 0.25]) {
        assertAllClose(bernoulliLogProbFromProbs(x, p), bernoulliLogProb(x, l), { rtol: 1e-12, atol: 1e-15 });
      }
    }
    expect(bernoulliLogProbFromProbs(1, 1)).toBe(0);
    expect(bernoulliLogProbFromProbs(0, 0)).toBe(0);
    expect(bernoulliLogProbFromProbs(1, 0)).toBe(-Infinity);
    expect(() => bernoulliLogProbFromProbs(1, 1.2)).toThrow(/p must be in \[0, 1\], got 1.2/);
  });

  it('sum variants add the elementwise terms and check lengths', () => {
    const x = [0, 1, 1];
    const l = [-2, 0.5, 3];
    const expected = bernoulliLogProb(0, -2) + bernoulliLogProb(1, 0.5) + bernoulliLogProb(1, 3);
    assertAllClose(bernoulliLogProbSum(x, l), expected, { rtol: 1e-15 });
    const probs = l.map((v) => 1 / (1 + Math.exp(-v)));
    assertAllClose(bernoulliLogProbFromProbsSum(x, probs), expected, { rtol: 1e-12 });
    expect(() => bernoulliLogProbSum(x, [0, 0])).toThrow(/logits has length 2, expected 3/);
  });
});
