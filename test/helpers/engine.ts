/**
 * Test helpers for the engine: start one per test file, draw float32-exact inputs, copy arrays in and out of the
 * shared heap, compare with tolerances.
 */
import { afterAll } from 'vitest';
import { createNodeEngine, type NodeEngineOptions } from '../../node/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { Rng } from '../../src/random/rng.js';
import { Context } from '../../src/tensor/tensor.js';

/**
 * Starts a Node engine and an autodiff Context on it for one test file (call it with top-level await) and
 * disposes of the engine after the file's tests.
 */
export async function startTestEngine(options: NodeEngineOptions): Promise<{ engine: Engine; ctx: Context }> {
  const engine = await createNodeEngine(options);
  afterAll(() => engine.dispose());
  return { engine, ctx: new Context(engine) };
}

/** n normal draws (mean, std), rounded to float32 so that float64 references see the kernels' exact inputs. */
export function randnFloat32(seed: number, n: number, std = 1, mean = 0): Float64Array {
  return Rng.fromSeed(seed)
    .fillNormal(new Float64Array(n), mean, std)
    .map((v) => Math.fround(v));
}

/** Allocates and fills a float32 buffer on the engine heap (at least one element); returns its byte offset. */
export function upload(engine: Engine, values: ArrayLike<number>): number {
  const ptr = engine.heap.alloc(Math.max(1, values.length) * 4);
  engine.heap.f32().set(values, ptr / 4);
  return ptr;
}

/** Reads n float32 values at a byte offset as float64. */
export function download(engine: Engine, ptr: number, n: number): Float64Array {
  return Float64Array.from(engine.heap.f32().subarray(ptr / 4, ptr / 4 + n));
}

/** ‖a − b‖₂ / ‖b‖₂ (relative L2 error). */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / (den || 1));
}
