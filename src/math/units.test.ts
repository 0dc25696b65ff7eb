import { describe, expect, it } from 'vitest';
import { assertAllClose } from './checks.js';
import {
  bitsPerDimToNats,
  natsToBitsPerDim,
  rescaleContinuousBitsPerDim,
  UNIT_TO_BYTE_SCALE,
} from './units.js';

describe('nats ↔ bits per dimension', () => {
  it('784 dims (MNIST): 784·ln 2 nats is 1 bpd; 79 nats is 0.14537… bpd (mpmath, 1e-15)', () => {
    // mpmath 1.3.0: 784·log(2) = 543.4273895589971; 79/(784·log 2) = 0.14537360743651545
    assertAllClose(natsToBitsPerDim(543.4273895589971, 784), 1, { rtol: 1e-15 });
    assertAllClose(natsToBitsPerDim(79, 784), 0.14537360743651545, { rtol: 1e-15 });
    assertAllClose(bitsPerDimToNats(1, 784), 543.4273895589971, { rtol: 1e-15 });
  });

  it('the uniform distribution over 256 levels costs exactly 8 bits per dimension', () => {
    const dims = 3072; // 32×32×3
    assertAllClose(natsToBitsPerDim(dims * Math.log(256), dims), 8, { rtol: 1e-15 });
  });

  it('round-trips (1e-15 relative)', () => {
    for (const bpd of [0.01, 3.5, 8]) {
      assertAllClose(natsToBitsPerDim(bitsPerDimToNats(bpd, 784), 784), bpd, { rtol: 1e-15 });
    }
  });

  it('rescaling continuous data from [−1, 1] to [0, 255] adds log₂ 127.5 = 6.994353436858858 bits (mpmath)', () => {
    assertAllClose(rescaleContinuousBitsPerDim(1, UNIT_TO_BYTE_SCALE), 7.994353436858858, { rtol: 1e-15 });
    assertAllClose(rescaleContinuousBitsPerDim(7.994353436858858, 1 / UNIT_TO_BYTE_SCALE), 1, {
      rtol: 1e-14,
    });
    expect(() => rescaleContinuousBitsPerDim(1, 0)).toThrow(/scale must be finite and non-zero, got 0/);
  });

  it('rejects a bad dimension count', () => {
    expect(() => natsToBitsPerDim(1, 0)).toThrow(/dims must be a positive integer .* got 0/);
    expect(() => bitsPerDimToNats(1, 2.5)).toThrow(/got 2.5/);
  });
});
