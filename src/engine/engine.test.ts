import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../node/engine.js';
import type { Engine } from './engine.js';
import { threadSlice } from './threadPool.js';

describe('threadSlice', () => {
  it('covers [0, total) with grain-aligned, disjoint slices', () => {
    for (const [total, grain, threads] of [
      [100, 4, 2],
      [7, 4, 2],
      [1000, 1, 3],
      [5, 8, 4],
    ]) {
      let next = 0;
      for (let i = 0; i < threads; i++) {
        const [s, e] = threadSlice(total, grain, threads, i);
        expect(s).toBe(next);
        if (s < total) expect(s % grain).toBe(0);
        next = e;
      }
      expect(next).toBe(total);
    }
  });
});

describe('Engine with 2 threads: gemm', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createNodeEngine({ threads: 2 });
  });
  afterAll(() => engine.dispose());

  it('splits a matrix product over threads and matches a float64 reference', () => {
    const [M, N, K] = [37, 19, 300];
    const h = engine.heap;
    const a = h.alloc(M * K * 4);
    const b = h.alloc(K * N * 4);
    const c = h.alloc(M * N * 4);
    const f = h.f32();
    const A = Float64Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.37));
    const B = Float64Array.from({ length: K * N }, (_, i) => Math.cos(i * 0.11));
    f.set(A, a / 4);
    f.set(B, b / 4);
    // C = A·B, rows split over the threads in multiples of 4.
    engine.parallel('gemm', M, 4, [N, K, a, K, 0, b, N, 0, c, N, 0]);
    let maxRel = 0;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let q = 0; q < K; q++) s += Math.fround(A[i * K + q]) * Math.fround(B[q * N + j]);
        maxRel = Math.max(maxRel, Math.abs(h.f32()[c / 4 + i * N + j] - s) / (Math.abs(s) + 1));
      }
    }
    // float32 accumulation over K = 300 terms of size ≤ 1: error ≲ K·2⁻²⁴ ≈ 2e-5.
    expect(maxRel).toBeLessThan(2e-5);
  });
});

describe('a kernel that fails in a worker thread', () => {
  it('raises an error naming the worker and kernel (instead of hanging), and the pool keeps working', async () => {
    const engine = await createNodeEngine({ threads: 2 });
    try {
      const total = 2 * 4096;
      // Thread 0's half ends exactly at the end of memory; the worker's half lies beyond it and traps.
      const out = engine.heap.memory.buffer.byteLength - (total / 2) * 4;
      expect(() => engine.parallel('fill', total, 4096, [out, 1])).toThrow(
        /engine worker 1 failed in kernel fill: .*out of bounds/,
      );
      const p = engine.heap.alloc(total * 4);
      engine.parallel('fill', total, 4096, [p, 7]);
      expect(engine.heap.f32()[p / 4 + total - 1]).toBe(7);
    } finally {
      engine.dispose();
    }
  });
});
