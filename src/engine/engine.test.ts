import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../node/engine.js';
import type { Engine } from './engine.js';
import { chunking } from './threadPool.js';

describe('chunking', () => {
  it('cuts [0, total) into grain-aligned chunks, at most 4 per thread', () => {
    for (const [total, grain, threads] of [
      [100, 4, 2],
      [7, 4, 2],
      [1000, 1, 3],
      [5, 8, 4],
      [50176, 4, 2],
    ]) {
      const { chunks, size } = chunking(total, grain, threads);
      expect(size % grain).toBe(0);
      expect(chunks).toBeLessThanOrEqual(4 * threads);
      expect((chunks - 1) * size).toBeLessThan(total); // the last chunk is not empty
      expect(chunks * size).toBeGreaterThanOrEqual(total);
    }
    expect(chunking(50176, 4, 2)).toEqual({ chunks: 8, size: 6272 });
  });
});

describe('the thread pool under many calls', () => {
  it('runs every chunk exactly once (y += 1 over random ranges, 400 calls)', async () => {
    const engine = await createNodeEngine({ threads: 2 });
    try {
      const n = 1 << 17;
      const ones = engine.heap.alloc(n * 4);
      const y = engine.heap.alloc(n * 4);
      const f = engine.heap.f32();
      f.fill(1, ones / 4, ones / 4 + n);
      let seed = 12345;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      for (let call = 0; call < 400; call++) {
        const total = 1 + Math.floor(random() * n);
        const grain = [1, 4, 64, 4096][Math.floor(random() * 4)];
        f.fill(0, y / 4, y / 4 + n);
        engine.parallel('axpy', total, grain, [ones, 1, y]);
        const got = f.subarray(y / 4, y / 4 + n);
        // Every element of the range once (a chunk run twice would leave a 2), nothing beyond it.
        expect(got.indexOf(0)).toBe(total === n ? -1 : total);
        expect(got.subarray(0, total).every((v) => v === 1)).toBe(true);
      }
    } finally {
      engine.dispose();
    }
  });
});

describe('per-thread busy counters', () => {
  it('count every chunk of the profiled calls once, on some thread, and nothing outside the profile', async () => {
    const engine = await createNodeEngine({ threads: 2 });
    try {
      const n = 1 << 16;
      const x = engine.heap.alloc(n * 4);
      const y = engine.heap.alloc(n * 4);
      const calls: [number, number][] = [
        [n, 4],
        [1000, 1],
        [3, 8], // total ≤ grain: runs on the calling thread alone, one chunk
        [n, 4096],
      ];
      engine.parallel('axpy', n, 4, [x, 1, y]); // before the profile: not counted
      engine.startProfile();
      const t0 = performance.now();
      for (const [total, grain] of calls) engine.parallel('axpy', total, grain, [x, 1, y]);
      const wall = performance.now() - t0;
      engine.stopProfile();
      engine.parallel('axpy', n, 4, [x, 1, y]); // after the profile: not counted
      const busy = engine.threadBusy();
      expect(busy).toHaveLength(2);
      const expected = calls.reduce(
        (s, [total, grain]) => s + (total <= grain ? 1 : chunking(total, grain, 2).chunks),
        0,
      );
      expect(busy[0].chunks + busy[1].chunks).toBe(expected);
      expect(busy[0].chunks).toBeGreaterThanOrEqual(1); // the caller always runs chunks itself
      for (const b of busy) {
        expect(b.busyMs).toBeGreaterThanOrEqual(0);
        expect(b.busyMs).toBeLessThanOrEqual(wall);
      }
      expect(busy[0].busyMs).toBeGreaterThan(0);
    } finally {
      engine.dispose();
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

describe('a kernel that fails in a thread', () => {
  it('raises an error naming the thread and kernel (instead of hanging), and the pool keeps working', async () => {
    const engine = await createNodeEngine({ threads: 2 });
    try {
      const total = 8 * 4096;
      // The first half of the range ends exactly at the end of memory; chunks in the second half trap, on
      // whichever thread claims them.
      const out = engine.heap.memory.buffer.byteLength - (total / 2) * 4;
      expect(() => engine.parallel('fill', total, 4096, [out, 1])).toThrow(
        /engine thread [01] failed in kernel fill: .*out of bounds/,
      );
      const p = engine.heap.alloc(total * 4);
      engine.parallel('fill', total, 4096, [p, 7]);
      expect(engine.heap.f32()[p / 4 + total - 1]).toBe(7);
    } finally {
      engine.dispose();
    }
  });
});

describe('one thread without SharedArrayBuffer (a page that is not cross-origin isolated)', () => {
  it('starts and runs a kernel when the global SharedArrayBuffer is gone', async () => {
    const saved = globalThis.SharedArrayBuffer;
    // As in a browser page without COOP/COEP: the constructor is not there (shared wasm memory still is).
    (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer = undefined;
    let engine: Engine;
    try {
      engine = await createNodeEngine({ threads: 1 });
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
    try {
      const n = 1000;
      const x = engine.heap.alloc(n * 4);
      const y = engine.heap.alloc(n * 4);
      const f = engine.heap.f32();
      f.fill(2, x / 4, x / 4 + n);
      f.fill(1, y / 4, y / 4 + n);
      engine.parallel('axpy', n, 4, [x, 3, y]); // y += 3·x
      expect(Array.from(new Set(f.subarray(y / 4, y / 4 + n)))).toEqual([7]);
    } finally {
      engine.dispose();
    }
  });
});
