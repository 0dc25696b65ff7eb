/**
 * The engine's heap: one shared WebAssembly.Memory that every thread's kernel instance imports, with a
 * size-class allocator on the TypeScript side (the kernels never allocate).
 *
 * Training repeats the same shapes every step, so freed blocks are kept on exact-size free lists and
 * reused; the heap grows (memory.grow) only when no block of the size is free. `liveBytes` is what the
 * no-leak tests watch.
 */

/** Blocks are aligned to cache lines (and so to 16 bytes for SIMD loads). */
export const ALIGN = 64;
const PAGE = 65536;
/**
 * Kernels may read (never write) up to this many bytes past the end of a block — the discarded lanes of a
 * SIMD tile at the end of the channels — so the memory always extends this far past the last block.
 */
export const READ_SLACK = 64;

export class Heap {
  readonly memory: WebAssembly.Memory;
  /** Next never-used byte. */
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  private live = 0;
  private peak = 0;
  private f32View: Float32Array;
  private i32View: Int32Array;

  /** @param base first byte the allocator may use (below it: the kernels' static data). */
  constructor(memory: WebAssembly.Memory, base: number) {
    this.memory = memory;
    this.top = Math.ceil(base / ALIGN) * ALIGN;
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
  }

  static roundSize(bytes: number): number {
    return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  }

  /** Allocates `bytes` (contents undefined); returns the byte offset. */
  alloc(bytes: number): number {
    const size = Heap.roundSize(bytes);
    const list = this.freeLists.get(size);
    let ptr: number;
    if (list && list.length > 0) {
      ptr = list.pop()!;
    } else {
      ptr = this.top;
      this.top += size;
      const need = this.top + READ_SLACK - this.memory.buffer.byteLength;
      if (need > 0) {
        try {
          this.memory.grow(Math.ceil(need / PAGE));
        } catch {
          this.top -= size;
          throw new Error(
            `engine heap exhausted: cannot grow WebAssembly memory to ${((this.top + size) / 2 ** 20).toFixed(0)} MiB ` +
              '(limit 4 GiB); use a smaller batch or model',
          );
        }
      }
    }
    this.live += size;
    if (this.live > this.peak) this.peak = this.live;
    return ptr;
  }

  free(ptr: number, bytes: number): void {
    const size = Heap.roundSize(bytes);
    let list = this.freeLists.get(size);
    if (!list) {
      list = [];
      this.freeLists.set(size, list);
    }
    list.push(ptr);
    this.live -= size;
  }

  /** Bytes currently handed out. */
  get liveBytes(): number {
    return this.live;
  }

  /** Largest `liveBytes` seen. */
  get peakBytes(): number {
    return this.peak;
  }

  /** Bytes the heap spans (handed out, cached free, and kernel statics). */
  get reservedBytes(): number {
    return this.top;
  }

  /** A Float32Array over the whole memory, refreshed after growth. */
  f32(): Float32Array {
    if (this.f32View.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.f32View = new Float32Array(this.memory.buffer);
    }
    return this.f32View;
  }

  i32(): Int32Array {
    if (this.i32View.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.i32View = new Int32Array(this.memory.buffer);
    }
    return this.i32View;
  }
}
