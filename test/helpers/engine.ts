/** Test helpers for the engine: copy arrays in and out of the shared heap, compare with tolerances. */
import type { Engine } from '../../src/engine/engine.js';

/** Allocates and fills a float32 buffer on the engine heap; returns its byte offset. */
export function upload(engine: Engine, values: ArrayLike<number>): number {
  const ptr = engine.heap.alloc(values.length * 4);
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
